package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDeployDocsCAMPolicyStep runs docs/deploy.md's tccli step for the execution role's policy
// as a new user pastes it, in an empty folder, with a stand-in tccli that records its
// arguments: CreatePolicy must receive the policy the function needs (every TCSS action vulscan
// calls, on resource *), not an empty document from a file no step wrote.
func TestDeployDocsCAMPolicyStep(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := shellBlockWith(t, string(doc), "tccli cam CreatePolicy --PolicyName VulScanTCSS")

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// The stand-in writes each call's arguments, NUL-separated, one file per call.
	stub := "#!/bin/sh\nn=$(ls \"$TCCLI_CALLS\" | wc -l | tr -d ' ')\nprintf '%s\\0' \"$@\" > \"$TCCLI_CALLS/$n\"\n"
	if err := os.WriteFile(filepath.Join(bin, "tccli"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	calls := filepath.Join(dir, "calls")
	if err := os.Mkdir(calls, 0o755); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", block)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "TCCLI_CALLS="+calls)
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("the step printed %q (%v); want it to run silently\n%s", out, err, block)
	}

	document, found := "", false
	for i := 0; ; i++ {
		data, err := os.ReadFile(filepath.Join(calls, strconv.Itoa(i)))
		if err != nil {
			break
		}
		args := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
		if len(args) > 1 && args[0] == "cam" && args[1] == "CreatePolicy" {
			if j := slices.Index(args, "--PolicyDocument"); j >= 0 && j+1 < len(args) {
				document, found = args[j+1], true
			}
		}
	}
	if !found {
		t.Fatalf("the step never called tccli cam CreatePolicy --PolicyDocument\n%s", block)
	}
	var policy struct {
		Version   string `json:"version"`
		Statement []struct {
			Effect   string   `json:"effect"`
			Action   []string `json:"action"`
			Resource []string `json:"resource"`
		} `json:"statement"`
	}
	if err := json.Unmarshal([]byte(document), &policy); err != nil {
		t.Fatalf("CreatePolicy got the document %q: %v; want the CAM policy JSON", document, err)
	}
	want := []string{"tcss:CreateVulScanTask", "tcss:DescribeAssetClusterList", "tcss:DescribeAssetImageList",
		"tcss:DescribeAssetImageRegistryList", "tcss:DescribeVulScanInfo", "tcss:DescribeVulScanLocalImageList"}
	if policy.Version != "2.0" || len(policy.Statement) != 1 {
		t.Fatalf("policy %+v; want version 2.0 with one statement", policy)
	}
	st := policy.Statement[0]
	got := slices.Sorted(slices.Values(st.Action))
	if st.Effect != "allow" || !slices.Equal(got, want) || !slices.Equal(st.Resource, []string{"*"}) {
		t.Errorf("policy statement %+v; want allow %q on [*]", st, want)
	}
}

// shellBlockWith returns the ```sh block of a Markdown text that holds line, as a reader copies
// it from the rendered page: without the indentation of the list item it sits in.
func shellBlockWith(t *testing.T, text, line string) string {
	t.Helper()
	re := regexp.MustCompile("(?ms)^( *)```sh\n(.*?)^ *```")
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if !strings.Contains(m[2], line) {
			continue
		}
		var b strings.Builder
		for l := range strings.Lines(m[2]) {
			b.WriteString(strings.TrimPrefix(l, m[1]))
		}
		return b.String()
	}
	t.Fatalf("no ```sh block holds %q", line)
	return ""
}

// TestDeployDocsSchedulesCheck runs the `vulscan schedules` command docs/deploy.md gives for
// checking a deployed function's timers, from an operator's shell that has the audit DSN but not
// the function's VULSCAN_SCHEDULES (the deploy file sets that in the function): it must check
// serverless.yml's schedule, not report that none is configured and pass.
func TestDeployDocsSchedulesCheck(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	block := shellBlockWith(t, string(doc), "vulscan schedules")
	data, err := os.ReadFile(filepath.Join(root, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var scf struct {
		Inputs struct {
			Environment struct {
				Variables map[string]string `yaml:"variables"`
			} `yaml:"environment"`
		} `yaml:"inputs"`
	}
	if err := yaml.Unmarshal(data, &scf); err != nil {
		t.Fatal(err)
	}
	setting := scf.Inputs.Environment.Variables["VULSCAN_SCHEDULES"]
	name, cron, ok := strings.Cut(setting, "=")
	if !ok {
		t.Fatalf("serverless.yml's VULSCAN_SCHEDULES %q is not name=CRON", setting)
	}

	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	copyExecutable(t, vulscanBinary(t), filepath.Join(bin, "vulscan"))
	dsn := "sqlite:" + filepath.Join(dir, "audit.db")
	env := append(localEnv(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "VULSCAN_AUDIT_DSN="+dsn)
	// The deployed function's audit log, with one scan in it.
	scan := exec.Command(filepath.Join(bin, "vulscan"), "scan", "--LocalImageScanType", "NOT_SCAN")
	scan.Env = append(env, "VULSCAN_TCSS_ENDPOINT=emulator")
	if out, err := scan.CombinedOutput(); err != nil {
		t.Fatalf("vulscan scan: %v\n%s", err, out)
	}

	cmd := exec.Command("sh", "-c", block)
	cmd.Dir = dir
	cmd.Env = env
	out, _ := cmd.CombinedOutput()
	if want := name + " (" + cron + ")"; !strings.Contains(string(out), want) {
		t.Errorf("the docs' command printed:\n%s\nwant the report of serverless.yml's schedule, %q\n%s", out, want, block)
	}
}
