package tests

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// notDeployed names the settings the code reads that the deploy files deliberately do not pass
// to both functions, each with the reason. Every other setting the code reads must be passed
// by serverless.yml and serverless.aws.yml alike: exporting it before a deploy must reach the
// function.
var notDeployed = map[string]string{
	// Set by SCF itself.
	"TENCENTCLOUD_SECRETID":     "SCF injects the execution role's key",
	"TENCENTCLOUD_SECRETKEY":    "SCF injects the execution role's key",
	"TENCENTCLOUD_SESSIONTOKEN": "SCF injects the execution role's key",
	"TENCENTCLOUD_REGION":       "SCF sets the function's region",
	"TENCENTCLOUD_RUNENV":       "SCF sets it to SCF",
	// Lambda only: SCF has an execution role, so no key is stored there and no role is assumed.
	"TENCENTCLOUD_SECRET_ID":            "Lambda only: SCF signs with its execution role's key",
	"TENCENTCLOUD_SECRET_KEY":           "Lambda only: SCF signs with its execution role's key",
	"TENCENTCLOUD_ROLE_ARN":             "Lambda only: SCF signs with its execution role's key",
	"TENCENTCLOUD_ROLE_SESSION_NAME":    "Lambda only: SCF signs with its execution role's key",
	"VULSCAN_STS_ENDPOINT":              "Lambda only: STS is called only to assume TENCENTCLOUD_ROLE_ARN",
	"VULSCAN_AWS_WEB_IDENTITY_AUDIENCE": "Lambda only: the AWS identity of the keyless path",
	"VULSCAN_AWS_STS_ENDPOINT":          "Lambda only: the AWS identity of the keyless path",
	"TENCENTCLOUD_OIDC_PROVIDER_ID":     "Lambda only: the AWS identity of the keyless path",
	// Not for a deployed function.
	"TENCENTCLOUD_SESSION_TOKEN": "a temporary key expires within hours: a deploy file never stores one",
	"VULSCAN_ADDR":               "HTTP mode only; the SCF web function's scf_bootstrap sets 0.0.0.0:9000",
	"VULSCAN_PUBLIC":             "opens a deployment to everyone: the deployer adds it by hand, never the files",
	"VULSCAN_ACTOR_HEADER":       "retired: vulscan refuses to start while it is set",
	"VULSCAN_AUDIT_VERIFY_KEY":   "read by `vulscan audit verify`, an operator command",
	"VULSCAN_LAMBDA_ARCH":        "read by serverless.aws.yml in the deploying shell; vulscan only accepts the name",
	"VULSCAN_TEST_POSTGRES_DSN":  "tests only",
}

// lambdaOnly are the notDeployed settings that serverless.aws.yml passes all the same.
func lambdaOnly(reason string) bool { return strings.HasPrefix(reason, "Lambda only") }

// TestDeployFilesPassEverySetting takes every VULSCAN_ and TENCENTCLOUD_ variable the code reads
// (the string constants of the non-test sources) and wants each one passed by both deploy files
// and listed in docs/deploy.md, unless notDeployed gives the reason it is not.
func TestDeployFilesPassEverySetting(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	read := settingsTheCodeReads(t, root)
	if len(read) < 30 {
		t.Fatalf("found only %d settings in the code (%q); the scan is broken", len(read), read)
	}
	scf := deployVariables(t, filepath.Join(root, "serverless.yml"), "inputs", "environment", "variables")
	aws := deployVariables(t, filepath.Join(root, "serverless.aws.yml"), "provider", "environment")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range read {
		reason, excepted := notDeployed[name]
		wantSCF, wantAWS := !excepted, !excepted || lambdaOnly(reason)
		if scf[name] != wantSCF {
			t.Errorf("serverless.yml passes %s: %v, want %v (%s)", name, scf[name], wantSCF, cmpReason(reason))
		}
		if aws[name] != wantAWS {
			t.Errorf("serverless.aws.yml passes %s: %v, want %v (%s)", name, aws[name], wantAWS, cmpReason(reason))
		}
		if (wantSCF || wantAWS) && !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/deploy.md does not list %s, which the deploy files pass", name)
		}
	}
	for name := range notDeployed {
		if !slices.Contains(read, name) {
			t.Errorf("notDeployed lists %s, which the code no longer reads", name)
		}
	}
	for _, file := range []map[string]bool{scf, aws} {
		for name := range file {
			if !slices.Contains(read, name) {
				t.Errorf("a deploy file passes %s, which the code does not read", name)
			}
		}
	}
}

func cmpReason(reason string) string {
	if reason == "" {
		return "a deployed function reads it"
	}
	return reason
}

// settingVariable is a setting's name as the code spells it in a string literal.
var settingVariable = regexp.MustCompile(`"((?:VULSCAN|TENCENTCLOUD)_[A-Z0-9_]*[A-Z0-9])"`)

// settingsTheCodeReads returns the variables named in the non-test Go sources of the product
// (functions/, web/, internal/), sorted.
func settingsTheCodeReads(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, dir := range []string{"functions", "web", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range settingVariable.FindAllSubmatch(src, -1) {
				seen[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// deployVariables returns the keys of the mapping at path in a deploy file.
func deployVariables(t *testing.T, file string, path ...string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for k := range deployValues(t, file, path...) {
		out[k] = true
	}
	return out
}

// TestREADMEExplainsEverySettingDeployed wants every setting the deploy files pass explained in
// README's "Settings" section (a table row of its own, or the credentials list): docs/deploy.md
// sends the deployer there for what each one means and its default.
func TestREADMEExplainsEverySettingDeployed(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Settings\n")
	if !ok {
		t.Fatal(`README.md has no "## Settings" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	explained := map[string]bool{}
	for line := range strings.Lines(section) {
		head := ""
		switch {
		case strings.HasPrefix(line, "| "):
			head, _, _ = strings.Cut(line[2:], " |") // a table row's first cell
		case regexp.MustCompile(`^\d+\. `).MatchString(line):
			head = line // an item of the credentials list
		}
		for _, m := range regexp.MustCompile("`((?:VULSCAN|TENCENTCLOUD)_[A-Z0-9_]+)`").FindAllStringSubmatch(head, -1) {
			explained[m[1]] = true
		}
	}
	passed := deployVariables(t, filepath.Join(root, "serverless.yml"), "inputs", "environment", "variables")
	for name := range deployVariables(t, filepath.Join(root, "serverless.aws.yml"), "provider", "environment") {
		passed[name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(passed)) {
		if !explained[name] {
			t.Errorf("the deploy files pass %s, but README's Settings section does not explain it", name)
		}
	}
}

// TestDeployEnvironmentFitsTheQuota holds docs/deploy.md to its word: SCF and Lambda refuse a
// function whose environment, names and values together, exceeds 4 KB, and the doc says how many
// API keys fit beside a full configuration. Every variable a deploy file passes counts (Lambda's
// file passes each one, empty when unset; SCF's only those set, so the worst case is all of them),
// each with a value as long as a real deployment's, and VULSCAN_API_KEYS with the doc's number
// of callers.
func TestDeployEnvironmentFitsTheQuota(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`some (\d+) keys beside a DSN`).FindSubmatch(doc)
	if m == nil {
		t.Fatal(`docs/deploy.md no longer says "some N keys beside a DSN": update this test with it`)
	}
	callers, _ := strconv.Atoi(string(m[1]))
	var keys []string
	for i := range callers {
		keys = append(keys, fmt.Sprintf("ci-pipeline-%02d:%s", i, strings.Repeat("0f", 32)))
	}
	values := map[string]string{
		"VULSCAN_AUDIT_DSN":           "postgres://vulscan:" + strings.Repeat("p", 32) + "@10.0.0.12:5432/vulscan?sslmode=verify-full&sslrootcert=/opt/ca.pem",
		"VULSCAN_AUTH":                "oidc,apikey",
		"VULSCAN_API_KEYS":            strings.Join(keys, ","),
		"VULSCAN_OIDC_ISSUER":         "https://login.example-corp.com/realms/security",
		"VULSCAN_OIDC_CLIENT_ID":      "vulscan-prod",
		"VULSCAN_OIDC_CLIENT_SECRET":  strings.Repeat("s", 48),
		"VULSCAN_OIDC_REDIRECT_URL":   "https://1250000000-abcdefgh.ap-guangzhou.tencentscf.com/auth/callback",
		"VULSCAN_OIDC_ALLOWED_GROUPS": "platform-security,sre-oncall",
		"VULSCAN_SESSION_KEY":         strings.Repeat("0f", 32),
		"VULSCAN_AUDIT_SIGNING_KEY":   strings.Repeat("A", 88),
		"TENCENTCLOUD_SECRET_ID":      "AKID" + strings.Repeat("x", 32),
		"TENCENTCLOUD_SECRET_KEY":     strings.Repeat("k", 32),
		"TENCENTCLOUD_ROLE_ARN":       "qcs::cam::uin/100000000001:roleName/VulScanTCSS",
	}
	for _, file := range []struct{ name string }{{"serverless.yml"}, {"serverless.aws.yml"}} {
		path := []string{"inputs", "environment", "variables"}
		if file.name == "serverless.aws.yml" {
			path = []string{"provider", "environment"}
		}
		fixed := deployValues(t, filepath.Join(root, file.name), path...)
		size := 0
		for name, value := range fixed {
			if strings.Contains(value, "${") {
				value = values[name] // from the deploying shell: a full configuration's value
			}
			size += len(name) + len(value)
		}
		if size > 4096 {
			t.Errorf("%s: a full configuration with %d API keys takes %d bytes of environment, over the platforms' 4 KB: correct docs/deploy.md's number of keys", file.name, callers, size)
		}
	}
}

// deployValues returns the mapping at path in a deploy file, each value as written.
func deployValues(t *testing.T, file string, path ...string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var node any
	if err := yaml.Unmarshal(data, &node); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for _, key := range path {
		m, _ := node.(map[string]any)
		node = m[key]
	}
	vars, ok := node.(map[string]any)
	if !ok {
		t.Fatalf("%s has no mapping at %s", file, strings.Join(path, "."))
	}
	out := map[string]string{}
	for k, v := range vars {
		out[k] = fmt.Sprint(v)
	}
	return out
}
