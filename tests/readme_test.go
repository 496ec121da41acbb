package tests

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/scan"
)

// TestREADMEExamples runs the README's own examples as a reader would paste them: the curl call
// against `task run`-equivalent wiring, and every `vulscan scan`, `vulscan audit verify`,
// `vulscan audit export` and `vulscan schedules` command against the same kind of audit log,
// with the README's own VULSCAN_SCHEDULES. An example that stops working, or stops printing
// what the README says it prints, fails here.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)

	t.Run("curl", func(t *testing.T) {
		base, _ := startVulscanHTTP(t)
		cmd := regexp.MustCompile(`(?m)^curl (?:[^\n]*\\\n)*[^\n]*`).FindString(text)
		if cmd == "" {
			t.Fatal("the README has no curl example")
		}
		args := shellWords(t, strings.ReplaceAll(cmd, "\\\n", " "))
		req := curlRequest(t, args, base)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Errorf("%s: status %d, want 201", cmd, resp.StatusCode)
		}
	})

	t.Run("API answers", func(t *testing.T) {
		// An integrator branches on the error's code: the README's table of POST /api/scans's
		// answers names every code the API can give for a scan start.
		for _, code := range []string{scan.EINVALID, scan.ECONFLICT, scan.EINPROGRESS, scan.EFORBIDDEN,
			scan.EUNAVAILABLE, scan.EBUSY, scan.ERATELIMITED, scan.ESTARTLIMIT, scan.EUPSTREAM, scan.EUNKNOWN,
			"bad_request", "unauthenticated", "too_large", "unsupported_media_type"} {
			if !regexp.MustCompile("(?m)^\\| [0-9][^\n]*`" + code + "`").MatchString(text) {
				t.Errorf("the README's table of API answers does not name the code %q", code)
			}
		}
		for _, name := range []string{"GET /api/scans/{id}", "GET /api/audit", "Retry-After", "Location: scans/{id}"} {
			if !strings.Contains(text, name) {
				t.Errorf("the README does not describe %s", name)
			}
		}
	})

	t.Run("dsn flag", func(t *testing.T) {
		// The README lists the commands that take --dsn; each one's help must offer it.
		line := regexp.MustCompile("(?m)^Each command that reads or writes the audit log \\(([^)]*)\\) takes `--dsn`").FindStringSubmatch(text)
		if line == nil {
			t.Fatal("the README does not say which commands take --dsn")
		}
		// A log that is not there: each command fails on it, none on the flag.
		dsn := "sqlite:" + filepath.Join(t.TempDir(), "none", "audit.db")
		for _, m := range regexp.MustCompile("`([a-z]+)`").FindAllStringSubmatch(line[1], -1) {
			args := []string{m[1], "--dsn", dsn}
			if m[1] != "scan" && m[1] != "schedules" {
				args = append([]string{"audit"}, args...)
			}
			c := exec.Command(vulscanBinary(t), args...)
			c.Env = append(localEnv(), "VULSCAN_SCHEDULES=nightly=0 0 2 * * * *")
			out, _ := c.CombinedOutput()
			if strings.Contains(string(out), "not defined: -dsn") || strings.Contains(string(out), "unknown flag --dsn") {
				t.Errorf("vulscan %s does not take --dsn:\n%s", strings.Join(args, " "), out)
			}
		}
	})

	t.Run("CAM policy", func(t *testing.T) {
		// The policy a reader pastes from the README grants what docs/deploy.md's CreatePolicy
		// step does (TestDeployDocsCAMPolicyStep): the scan, its status and the pickers' lists.
		block := regexp.MustCompile("(?s)\\*\\*CAM policy\\*\\*.*?```json\n(.*?)```").FindStringSubmatch(text)
		if block == nil {
			t.Fatal("the README has no CAM policy JSON block")
		}
		var policy struct {
			Version   string `json:"version"`
			Statement []struct {
				Effect   string   `json:"effect"`
				Action   []string `json:"action"`
				Resource []string `json:"resource"`
			} `json:"statement"`
		}
		if err := json.Unmarshal([]byte(block[1]), &policy); err != nil {
			t.Fatalf("the README's CAM policy is not JSON: %v\n%s", err, block[1])
		}
		want := []string{"tcss:CreateVulScanTask", "tcss:DescribeAssetClusterList", "tcss:DescribeAssetImageList",
			"tcss:DescribeAssetImageRegistryList", "tcss:DescribeVulScanInfo", "tcss:DescribeVulScanLocalImageList"}
		if policy.Version != "2.0" || len(policy.Statement) != 1 {
			t.Fatalf("policy %+v; want version 2.0 with one statement", policy)
		}
		st := policy.Statement[0]
		if got := slices.Sorted(slices.Values(st.Action)); st.Effect != "allow" || !slices.Equal(got, want) ||
			!slices.Equal(st.Resource, []string{"*"}) {
			t.Errorf("policy statement %+v; want allow %q on [*]", st, want)
		}
	})

	t.Run("timer arguments", func(t *testing.T) {
		// The argument the README and docs/deploy.md show is one the function takes as the
		// nightly schedule's.
		deploy, err := os.ReadFile(filepath.Join("..", "docs", "deploy.md"))
		if err != nil {
			t.Fatal(err)
		}
		args := regexp.MustCompile("`(\\{\"Schedule\":[^`]*)`").FindAllStringSubmatch(text, -1)
		args = append(args, regexp.MustCompile("```json\n(\\{\"Schedule\":[^\n]*)\n```").FindAllStringSubmatch(string(deploy), -1)...)
		if len(args) < 2 {
			t.Fatalf("found %d timer arguments in README.md and docs/deploy.md; want each one's", len(args))
		}
		for _, m := range args {
			checkScheduleArgument(t, []byte(m[1]), "nightly")
		}
	})

	t.Run("operator commands", func(t *testing.T) {
		dir := t.TempDir()
		dsn := "sqlite:" + filepath.Join(dir, "audit.db")
		// The schedules the commands see: the example of VULSCAN_SCHEDULES in "Settings".
		setting := regexp.MustCompile("(?m)^\\| `VULSCAN_SCHEDULES` \\|[^\n]*?`(nightly=[^`]*)`").FindStringSubmatch(text)
		if setting == nil {
			t.Fatal("the README's Settings give no example of VULSCAN_SCHEDULES")
		}
		// What each command prints, as the README's table says: the scan's JSON, verify's
		// "ok: N records" and anchor, the export's records, and each schedule with its next run.
		wantOut := map[string][]string{
			"scan":         {`"outcome": "succeeded"`},
			"audit verify": {"ok: ", "anchor: "},
			"audit export": {`"action":"CreateVulScanTask"`},
			"schedules":    {"nightly (" + strings.TrimPrefix(setting[1], "nightly=") + ")", "next run: "},
		}
		commands := regexp.MustCompile("`(vulscan (scan|audit verify|audit export|schedules)[^`]*)`").FindAllStringSubmatch(text, -1)
		ran := map[string]int{}
		for _, m := range commands {
			line, command := m[1], m[2]
			if strings.ContainsAny(line, "[{…") || strings.Contains(line, "ID:HASH") {
				continue // a synopsis with placeholders, not an example
			}
			args := append(shellWords(t, line)[1:], "--dsn", dsn)
			c := exec.Command(vulscanBinary(t), args...)
			c.Dir = dir
			c.Env = append(localEnv(), "VULSCAN_TCSS_ENDPOINT=emulator", "VULSCAN_SCHEDULES="+setting[1])
			var stdout, stderr strings.Builder
			c.Stdout, c.Stderr = &stdout, &stderr
			if err := c.Run(); err != nil {
				t.Errorf("%s: %v\n%s%s", line, err, stdout.String(), stderr.String())
			}
			for _, want := range wantOut[command] {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("%s printed no %q:\n%s", line, want, stdout.String())
				}
			}
			ran[command]++
		}
		for command := range wantOut {
			if ran[command] == 0 {
				t.Errorf("ran no README example of vulscan %s; ran %v", command, ran)
			}
		}
	})
}

// shellWords splits a command line as sh would for the README's simple examples: words
// separated by spaces, with single-quoted strings kept whole.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t' || r == '\n') && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// curlRequest builds the request of a curl command line with -s, -H and -d, sent to base
// instead of the README's 127.0.0.1:8080.
func curlRequest(t *testing.T, args []string, base string) *http.Request {
	t.Helper()
	var headers []string
	var body, target string
	for i := 1; i < len(args); i++ {
		switch args[i] {
		case "-s":
		case "-H":
			i++
			headers = append(headers, args[i])
		case "-d":
			i++
			body = args[i]
		default:
			target = args[i]
		}
	}
	path, ok := strings.CutPrefix(target, "http://127.0.0.1:8080/")
	if !ok {
		t.Fatalf("curl example goes to %q, not the local server", target)
	}
	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req
}
