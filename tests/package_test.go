package tests

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vulscan/vulscan/functions/platform"
	"github.com/vulscan/vulscan/functions/scan"
	"github.com/vulscan/vulscan/functions/schedule"

	"github.com/vulscan/vulscan/internal/citest"
)

// releaseToolchain is the Go release the deploy zips must be built with (Taskfile.yml,
// RELEASE_TOOLCHAIN): go1.26.8's standard library has reachable vulnerabilities.
const releaseToolchain = "go1.27.3"

// TestReleaseZips checks what `go tool task package` left in dist/: one executable bootstrap at
// each zip's root, a static linux binary of the right architecture, built with the release
// toolchain and the deploy flags. CI runs the task before the tests; on a laptop, run it first.
func TestReleaseZips(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	zips := []struct {
		name    string
		machine elf.Machine
		goarch  string
	}{
		{"scf.zip", elf.EM_X86_64, "amd64"},
		{"lambda.zip", elf.EM_X86_64, "amd64"},
		{"lambda-arm64.zip", elf.EM_AARCH64, "arm64"},
	}
	for _, z := range zips {
		t.Run(z.name, func(t *testing.T) {
			path := filepath.Join(root, "dist", z.name)
			if _, err := os.Stat(path); err != nil {
				citest.Missing(t, "%s is missing: run `go tool task package` (and `go tool task package ARCH=arm64`) first", path)
			}
			bin := bootstrapFromZip(t, path)
			checkELF(t, bin, z.machine)
			checkBuildInfo(t, bin, z.goarch)
		})
	}
}

// bootstrapFromZip returns the zip's only entry, which must be an executable file named bootstrap.
func bootstrapFromZip(t *testing.T, path string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		names := make([]string, len(zr.File))
		for i, f := range zr.File {
			names[i] = f.Name
		}
		t.Fatalf("%s holds %q; want exactly [bootstrap]", path, names)
	}
	f := zr.File[0]
	if f.Name != "bootstrap" {
		t.Fatalf("%s holds %q; want bootstrap at the root", path, f.Name)
	}
	if mode := f.Mode(); !mode.IsRegular() || mode.Perm() != 0o755 {
		t.Fatalf("%s: bootstrap has mode %v; want -rwxr-xr-x (the platforms exec it)", path, mode)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkELF wants a stripped static linux executable for machine: no program interpreter, since
// provided.al2023 and SCF's image promise no particular libc.
func checkELF(t *testing.T, bin []byte, machine elf.Machine) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	defer f.Close()
	if f.Machine != machine || f.Type != elf.ET_EXEC {
		t.Errorf("bootstrap is %v %v; want %v ET_EXEC", f.Machine, f.Type, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("bootstrap is dynamically linked; want CGO_ENABLED=0")
		}
	}
	// -ldflags '-s -w': no symbol table, no DWARF (smaller zips, faster cold starts).
	var unstripped []string
	for _, s := range f.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			unstripped = append(unstripped, s.Name)
		}
	}
	if len(unstripped) > 0 {
		t.Errorf("bootstrap has sections %q; want them stripped (-ldflags '-s -w')", unstripped)
	}
}

// checkBuildInfo wants the release toolchain and the deploy build settings.
func checkBuildInfo(t *testing.T, bin []byte, goarch string) {
	t.Helper()
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("bootstrap carries no build info: %v", err)
	}
	if info.GoVersion != releaseToolchain {
		t.Errorf("bootstrap built with %s; want %s (govulncheck finds reachable vulnerabilities in older ones)", info.GoVersion, releaseToolchain)
	}
	if info.Path != "github.com/vulscan/vulscan/functions/vulscan" {
		t.Errorf("bootstrap is %s; want the vulscan command", info.Path)
	}
	want := map[string]string{
		// -trimpath leaves -ldflags out of the build info; checkELF sees -s -w instead.
		"-tags": "lambda.norpc,release", "-trimpath": "true",
		"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": goarch,
	}
	got := map[string]string{}
	for _, s := range info.Settings {
		got[s.Key] = s.Value
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("bootstrap build setting %s = %q; want %q", k, got[k], v)
		}
	}
	for _, dep := range info.Deps {
		for _, heavy := range releaseExcludedModules {
			if dep.Path == heavy || strings.HasPrefix(dep.Path, heavy+"/") {
				t.Errorf("bootstrap links %s %s; the release build leaves it out (deploy zips stay under 5 MB)", dep.Path, dep.Version)
			}
		}
	}
}

// releaseExcludedModules are modules the developer build links and the deploy zips must not:
// the SQLite driver and the C library translation it runs on (a deployed function keeps its
// audit log in PostgreSQL).
var releaseExcludedModules = []string{"modernc.org/sqlite", "modernc.org/libc"}

// TestServerlessAWSPackage runs the documented AWS entry point, `go tool task aws -- package`, in
// a copy of the repository's top level (serverless.yml beside serverless.aws.yml, as a deployer
// has it), offline, and checks the CloudFormation template it writes: the function runs the
// zip's bootstrap on provided.al2023, the HTTP API sends every route to it, and the schedule's
// input is a scan request the function accepts.
func TestServerlessAWSPackage(t *testing.T) {
	npx := requireTool(t, "npx")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	zipData := bootstrapZip(t, vulscanBinary(t))
	env := append(os.Environ(),
		"SLS_TELEMETRY_DISABLED=1", "SLS_NOTIFICATIONS_MODE=off", "SLS_DEPRECATION_DISABLE=*", "NO_COLOR=1",
		// Packaging needs no AWS account; these keep any AWS lookup local and harmless.
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY=test", "AWS_EC2_METADATA_DISABLED=true",
		"VULSCAN_AUDIT_DSN=postgres://vulscan@db.internal:5432/vulscan",
		"TENCENTCLOUD_SECRET_ID=AKIDexample", "TENCENTCLOUD_SECRET_KEY=example",
	)

	// The trap the task exists for: Serverless v3 reads ./serverless.yml before --config, finds
	// the Tencent component there and hands the command to the Components CLI, which is not
	// installed: it prints so and exits 0, having packaged (or deployed) nothing. If this ever
	// writes a template, the layout below no longer resembles the repository's.
	t.Run("serverless --config beside the Tencent file does nothing", func(t *testing.T) {
		dir := repoTopLevel(t, root, map[string][]byte{"lambda.zip": zipData})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npx, "--yes", "serverless@3.40.0", "package", "--config", "serverless.aws.yml")
		cmd.Dir, cmd.Env = dir, env
		out, _ := cmd.CombinedOutput()
		if _, err := os.Stat(filepath.Join(dir, ".serverless")); err == nil || !bytes.Contains(out, []byte("Components CLI")) {
			t.Errorf("serverless package --config serverless.aws.yml beside serverless.yml packaged, or did not reach the Components CLI:\n%s", out)
		}
	})

	for _, tc := range []struct {
		name, arch, artifact, wantArch string
	}{
		{"x86_64 by default", "", "lambda.zip", "x86_64"},
		{"arm64 on request", "arm64", "lambda-arm64.zip", "arm64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := repoTopLevel(t, root, map[string][]byte{tc.artifact: zipData})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			// `go tool task -d DIR` runs DIR's Taskfile.yml in DIR, as `go tool task` does in the
			// repository; the launcher itself is found from the test's own directory.
			cmd := exec.CommandContext(ctx, "go", "tool", "task", "-d", dir, "aws", "--", "package")
			cmd.Env = env
			if tc.arch != "" {
				cmd.Env = append(cmd.Env, "VULSCAN_LAMBDA_ARCH="+tc.arch)
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go tool task aws -- package: %v\n%s", err, out)
			}
			tmpl := readTemplate(t, filepath.Join(dir, "dist", "aws", ".serverless", "cloudformation-template-update-stack.json"))
			checkLambdaTemplate(t, tmpl, tc.artifact, tc.wantArch)
		})
	}
}

// TestAWSDeployCommandsUseTheTask: every AWS deploy command the documents give goes through `go
// tool task aws`, since `npx serverless … --config serverless.aws.yml` fails in the repository's
// root (TestServerlessAWSPackage shows why).
func TestAWSDeployCommandsUseTheTask(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	direct := regexp.MustCompile(`serverless@[0-9.]+ (deploy|package|remove|info)`)
	for _, doc := range []string{"README.md", "docs/deploy.md", "serverless.aws.yml"} {
		data, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		if m := direct.Find(data); m != nil {
			t.Errorf("%s runs the Serverless Framework directly (%q); from the repository's root that reaches the Components CLI: use go tool task aws -- …", doc, m)
		}
		if !bytes.Contains(data, []byte("go tool task aws -- deploy")) {
			t.Errorf("%s does not show `go tool task aws -- deploy`", doc)
		}
	}
}

// repoTopLevel copies the files of the repository's top level that deploying reads (the
// Taskfile and both deploy files) into a new directory, with zips (name to content) in its dist/,
// and returns the directory.
func repoTopLevel(t *testing.T, root string, zips map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"Taskfile.yml", "serverless.yml", "serverless.aws.yml"} {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), data)
	}
	for name, data := range zips {
		writeFile(t, filepath.Join(dir, "dist", name), data)
	}
	return dir
}

// cfnResource is a CloudFormation resource as the template holds it.
type cfnResource struct {
	Type       string          `json:"Type"`
	Properties json.RawMessage `json:"Properties"`
}

func readTemplate(t *testing.T, path string) map[string]cfnResource {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]cfnResource `json:"Resources"`
	}
	if err := json.Unmarshal(data, &tmpl); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tmpl.Resources
}

// resourcesOf decodes the properties of every resource of type typ into a new T.
func resourcesOf[T any](t *testing.T, tmpl map[string]cfnResource, typ string) []T {
	t.Helper()
	var out []T
	for name, r := range tmpl {
		if r.Type != typ {
			continue
		}
		var v T
		if err := json.Unmarshal(r.Properties, &v); err != nil {
			t.Fatalf("resource %s: %v", name, err)
		}
		out = append(out, v)
	}
	return out
}

func checkLambdaTemplate(t *testing.T, tmpl map[string]cfnResource, artifact, arch string) {
	t.Helper()
	fns := resourcesOf[struct {
		Runtime       string
		Handler       string
		Architectures []string
		Code          struct{ S3Key string }
		Environment   struct{ Variables map[string]string }
	}](t, tmpl, "AWS::Lambda::Function")
	if len(fns) != 1 {
		t.Fatalf("template has %d Lambda functions; want 1", len(fns))
	}
	fn := fns[0]
	if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" {
		t.Errorf("function runtime %q handler %q; want provided.al2023 and bootstrap", fn.Runtime, fn.Handler)
	}
	if len(fn.Architectures) != 1 || fn.Architectures[0] != arch {
		t.Errorf("function architectures %q; want [%s]", fn.Architectures, arch)
	}
	if !strings.HasSuffix(fn.Code.S3Key, "/"+artifact) {
		t.Errorf("function code %q; want the artifact %s", fn.Code.S3Key, artifact)
	}
	for _, v := range []string{"VULSCAN_AUDIT_DSN", "VULSCAN_TCSS_ENDPOINT", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"} {
		if fn.Environment.Variables[v] == "" {
			t.Errorf("function environment lacks %s", v)
		}
	}

	if !strings.Contains(string(roleOf(t, tmpl)), `"sts:GetWebIdentityToken"`) {
		t.Error("the function's role may not call sts:GetWebIdentityToken: the keyless path to Tencent cannot work")
	}

	routes := resourcesOf[struct{ RouteKey string }](t, tmpl, "AWS::ApiGatewayV2::Route")
	if len(routes) != 1 || routes[0].RouteKey != "$default" {
		t.Errorf("HTTP API routes %+v; want one $default route (every path and method)", routes)
	}
	integrations := resourcesOf[struct{ PayloadFormatVersion string }](t, tmpl, "AWS::ApiGatewayV2::Integration")
	if len(integrations) != 1 || integrations[0].PayloadFormatVersion != "2.0" {
		t.Errorf("HTTP API integrations %+v; want payload format 2.0", integrations)
	}

	rules := resourcesOf[struct {
		Name, ScheduleExpression, State string
		Targets                         []struct {
			Input            string
			InputTransformer inputTransformer
		}
	}](t, tmpl, "AWS::Events::Rule")
	if len(rules) != 1 || len(rules[0].Targets) != 1 {
		t.Fatalf("schedules %+v; want one rule with one target", rules)
	}
	rule := rules[0]
	if !strings.HasPrefix(rule.ScheduleExpression, "cron(") || rule.State != "ENABLED" {
		t.Errorf("schedule %q state %q; want an enabled cron", rule.ScheduleExpression, rule.State)
	}
	// A scheduled event, not a bare scan request (which the function records as trigger invoke),
	// carrying the time of the rule's own event: a constant input has none, and a run delivered
	// or retried more than 15 minutes late would be refused as no due time.
	target := rule.Targets[0]
	if target.Input != "" || target.InputTransformer.InputTemplate == "" {
		t.Fatalf("schedule target %+v; want an input transformer, not a constant input", target)
	}
	const fired = "2026-12-04T02:00:00Z"
	raw := target.InputTransformer.apply(t, scheduledEvent(rule.Name, fired, "{}"))
	var input struct {
		Time   string          `json:"time"`
		Detail json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(raw, &input); err != nil {
		t.Fatalf("schedule input %s: %v", raw, err)
	}
	if input.Time != fired {
		t.Errorf("schedule input %s gives the time %q, want the rule's event time %s", raw, input.Time, fired)
	}
	checkScheduleArgument(t, input.Detail, "nightly")
	if kind, err := platform.Classify(raw); err != nil || kind != platform.KindEventBridge {
		t.Errorf("the function classifies the schedule input as %q, %v; want %q", kind, err, platform.KindEventBridge)
	}
}

// checkScheduleArgument wants a timer argument the function accepts: the scan request's JSON
// with the schedule's name, and a request that passes validation.
func checkScheduleArgument(t *testing.T, arg []byte, schedule string) {
	t.Helper()
	var name string
	req, err := scan.DecodeJSON(arg, map[string]*string{platform.FieldSchedule: &name})
	if err != nil {
		t.Fatalf("schedule argument %s is not a scan request: %v", arg, err)
	}
	if name != schedule {
		t.Errorf("schedule argument names %q; want %q", name, schedule)
	}
	if err := req.Normalize().Validate(); err != nil {
		t.Errorf("schedule argument %s is refused: %v", arg, err)
	}
}

// TestSCFServerlessConfig checks serverless.yml against what the function needs on SCF (Tencent's
// deploy CLI is not served here, so the file is resolved as the CLI and the component would
// resolve it, then read): an event function on the custom runtime with a valid name and
// description, an execution role, the audit DSN and the access decision from the environment, a
// function URL with CAM authentication, and a timer whose argument the function accepts.
func TestSCFServerlessConfig(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	const dsn = "postgres://vulscan:secret@10.0.0.5:5432/vulscan?sslmode=require"
	env := map[string]string{"VULSCAN_AUDIT_DSN": dsn, "VULSCAN_AUTH": "oidc,apikey"}
	for _, stage := range []string{"", "prod"} {
		t.Run("stage "+cmp.Or(stage, "default"), func(t *testing.T) {
			cfg := resolveSCFConfig(t, data, env, stage)
			in := cfg.Inputs
			if cfg.Component != "scf" || in.Runtime != "CustomRuntime" || in.Type != "event" {
				t.Errorf("component %q runtime %q type %q; want scf, CustomRuntime, event", cfg.Component, in.Runtime, in.Type)
			}
			if want := "vulscan-" + cmp.Or(stage, "dev"); in.Name != want || !scfFunctionName.MatchString(in.Name) {
				t.Errorf("function name %q; want %q, a valid SCF function name", in.Name, want)
			}
			if !scfDescription.MatchString(in.Description) {
				t.Errorf("description %q: CreateFunction allows only letters, digits, spaces, commas, periods and Chinese", in.Description)
			}
			if in.Src.Src != "./dist/scf" {
				t.Errorf("src %q; want ./dist/scf, where `task package` puts bootstrap", in.Src.Src)
			}
			if in.Role == "" {
				t.Error("no execution role: the function would have no TCSS credential")
			}
			vars := in.Environment.Variables
			if vars["VULSCAN_AUDIT_DSN"] != dsn || vars["VULSCAN_AUTH"] != "oidc,apikey" {
				t.Errorf("environment %q; want VULSCAN_AUDIT_DSN and VULSCAN_AUTH from the deployer's environment", vars)
			}
			if _, open := vars["VULSCAN_PUBLIC"]; open {
				t.Error("VULSCAN_PUBLIC is set: the deploy file must not open the function to everyone")
			}
			if in.Timeout < 10 {
				t.Errorf("timeout %d s; a TCSS call with rate-limit retries needs more", in.Timeout)
			}
			checkSCFTriggers(t, in.Events)
			checkSCFTimersMatchSchedules(t, in.Events, vars["VULSCAN_SCHEDULES"])
		})
	}
	t.Run("unset variables are left out", func(t *testing.T) {
		cfg := resolveSCFConfig(t, data, map[string]string{}, "")
		for _, name := range []string{"VULSCAN_AUDIT_DSN", "VULSCAN_AUTH"} {
			if v, ok := cfg.Inputs.Environment.Variables[name]; ok {
				t.Errorf("%s = %q with the variable unset; the CLI leaves it out (and the function then refuses to start or to serve)", name, v)
			}
		}
	})
}

func checkSCFTriggers(t *testing.T, events []scfEvent) {
	t.Helper()
	var urls, timers int
	for _, ev := range events {
		if ev.APIGW != nil {
			t.Error("an apigw trigger: Tencent switched API-gateway triggers off on 2025-06-30; use the function URL (http)")
		}
		if u := ev.HTTP; u != nil {
			urls++
			p := u.Parameters
			// tencent-component-toolkit passes authType on as the URL's AuthType: CAM or NONE, and
			// an absent one means NONE. With NONE, vulscan's own VULSCAN_AUTH is the only gate
			// (checked above: never VULSCAN_PUBLIC in the deploy file).
			if p.AuthType != "CAM" && p.AuthType != "NONE" {
				t.Errorf("function URL authType %q; want CAM or NONE, said explicitly", p.AuthType)
			}
			if !p.NetConfig.EnableExtranet && !p.NetConfig.EnableIntranet {
				t.Error("function URL reachable from no network: set netConfig.enableExtranet or enableIntranet")
			}
		}
		if tm := ev.Timer; tm != nil {
			timers++
			p := tm.Parameters
			if n := len(strings.Fields(p.CronExpression)); n != 7 {
				t.Errorf("timer cron %q has %d fields; SCF's has 7 (seconds first)", p.CronExpression, n)
			}
			if !p.Enable {
				t.Error("timer is not enabled")
			}
			checkScheduleArgument(t, []byte(p.Argument), p.Name)
			event, _ := json.Marshal(platform.SCFTimerEvent{Type: "Timer", TriggerName: p.Name,
				Time: "2026-11-01T02:00:00Z", Message: mustJSON(t, p.Argument)})
			if kind, err := platform.Classify(event); err != nil || kind != platform.KindSCFTimer {
				t.Errorf("the function classifies the timer's event as %q, %v; want %q", kind, err, platform.KindSCFTimer)
			}
		}
	}
	if urls != 1 || timers != 1 {
		t.Errorf("%d function URL (http) and %d timer triggers; want one of each", urls, timers)
	}
}

// scfTimerZone is the offset SCF reads a timer trigger's cronExpression in: Beijing time
// (docs/deploy.md, "Time zones", names the sources and how to confirm it in the console).
const scfTimerZone = 8 * time.Hour

// checkSCFTimersMatchSchedules wants each timer trigger listed in VULSCAN_SCHEDULES under its
// name, with a cron that, read in UTC as vulscan reads it, gives the same instants as the
// trigger's cron read in Beijing time as SCF reads it: else /schedules reports every run missed.
func checkSCFTimersMatchSchedules(t *testing.T, events []scfEvent, setting string) {
	t.Helper()
	set, err := schedule.Parse(setting)
	if err != nil {
		t.Fatalf("VULSCAN_SCHEDULES %q: %v", setting, err)
	}
	for _, ev := range events {
		if ev.Timer == nil {
			continue
		}
		p := ev.Timer.Parameters
		sc, ok := set.Lookup(p.Name)
		if !ok {
			t.Errorf("timer %q is not in VULSCAN_SCHEDULES %q: its runs would be refused", p.Name, setting)
			continue
		}
		trigger, err := schedule.ParseCron(p.CronExpression)
		if err != nil {
			t.Fatalf("timer %q cron %q: %v", p.Name, p.CronExpression, err)
		}
		at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		for range 40 {
			// The wall clock in Beijing is the instant plus eight hours.
			fires := trigger.Next(at.Add(scfTimerZone)).Add(-scfTimerZone)
			expected := sc.Next(at)
			if !fires.Equal(expected) {
				t.Errorf("timer %q (%s, Beijing time) fires at %s UTC; VULSCAN_SCHEDULES (%s, UTC) expects %s",
					p.Name, p.CronExpression, fires.Format(time.DateTime), sc.Cron, expected.Format(time.DateTime))
				break
			}
			at = fires
		}
	}
}

// SCF's rules for a function name (2-60 characters: letters, digits, _ and -, starting with a
// letter, ending with a letter or digit) and for its description.
var (
	scfFunctionName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)
	scfDescription  = regexp.MustCompile(`^[\p{Han}A-Za-z0-9 ,.]*$`)
)

// resolveSCFConfig resolves serverless.yml's variables as Tencent's tools do and decodes the
// result. serverless-cloud-framework (src/libs/utils/basic.js, resolveVariables) replaces
// ${env:NAME} before deploying, refuses the Serverless Framework v1 variables (${self:…},
// ${opt:…}, ${file(…)} and the like), and leaves the rest to the component engine, which knows
// ${name}, ${stage} (default dev), ${app} and ${org}. An unset NAME makes a value that is only
// the variable undefined (the key is left out of the deployment) and embeds "undefined" in a
// longer one. Anything still unresolved fails the test: it would reach the function literally.
func resolveSCFConfig(t *testing.T, data []byte, env map[string]string, stage string) scfConfig {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("serverless.yml: %v", err)
	}
	instance := map[string]string{"stage": cmp.Or(stage, "dev"), "org": "1250000000"}
	for _, k := range []string{"name", "app"} {
		instance[k], _ = doc[k].(string)
	}
	instance["app"] = cmp.Or(instance["app"], instance["name"])
	resolved, keep := resolveValue(t, doc, func(name string) (string, bool) { v, ok := env[name]; return v, ok }, instance)
	if !keep {
		t.Fatal("serverless.yml resolved to nothing")
	}
	out, err := yaml.Marshal(resolved)
	if err != nil {
		t.Fatal(err)
	}
	var cfg scfConfig
	if err := yaml.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("resolved serverless.yml: %v", err)
	}
	return cfg
}

var (
	// componentVariable is the CLI's pattern for anything that looks like a variable.
	componentVariable = regexp.MustCompile(`\$\{(\w*:?[\w.-]+)\}`)
	// v1Variable matches the Serverless Framework v1 variables the CLI refuses.
	v1Variable = regexp.MustCompile(`\$\{(self|opt|sls|cf|s3|ssm|file)[:(]`)
)

// resolveValue resolves v; keep is false when the value becomes undefined.
func resolveValue(t *testing.T, v any, getenv func(string) (string, bool), instance map[string]string) (_ any, keep bool) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, sub := range v {
			if r, ok := resolveValue(t, sub, getenv, instance); ok {
				out[k] = r
			}
		}
		return out, true
	case []any:
		out := make([]any, 0, len(v))
		for _, sub := range v {
			if r, ok := resolveValue(t, sub, getenv, instance); ok {
				out = append(out, r)
			}
		}
		return out, true
	case string:
		if v1Variable.MatchString(v) {
			t.Errorf("%q: Serverless Components refuse this variable", v)
		}
		whole := componentVariable.FindString(v) == v
		undefined := false
		s := componentVariable.ReplaceAllStringFunc(v, func(m string) string {
			ref := m[2 : len(m)-1]
			if name, ok := strings.CutPrefix(ref, "env:"); ok {
				val, set := getenv(name)
				if !set {
					undefined = true
					return "undefined"
				}
				return val
			}
			if val, ok := instance[ref]; ok {
				return val
			}
			t.Errorf("%q: %s is no variable the CLI or the component resolves; it would reach the function literally", v, m)
			return m
		})
		if undefined && whole {
			return nil, false
		}
		return s, true
	}
	return v, true
}

// scfConfig is the part of serverless.yml (component scf) that the tests check.
type scfConfig struct {
	Component string `yaml:"component"`
	Inputs    struct {
		Name string `yaml:"name"`
		Src  struct {
			Src string `yaml:"src"`
		} `yaml:"src"`
		Type        string `yaml:"type"`
		Runtime     string `yaml:"runtime"`
		Description string `yaml:"description"`
		Role        string `yaml:"role"`
		Timeout     int    `yaml:"timeout"`
		Environment struct {
			Variables map[string]string `yaml:"variables"`
		} `yaml:"environment"`
		Events []scfEvent `yaml:"events"`
	} `yaml:"inputs"`
}

// scfEvent is one trigger, as tencent-component-toolkit reads it (src/modules/triggers).
type scfEvent struct {
	APIGW *struct{} `yaml:"apigw"`
	// HTTP is the function URL (HttpTriggerInputsParams: authType CAM or NONE, netConfig).
	HTTP *struct {
		Parameters struct {
			Name      string `yaml:"name"`
			Qualifier string `yaml:"qualifier"`
			AuthType  string `yaml:"authType"`
			NetConfig struct {
				EnableIntranet bool `yaml:"enableIntranet"`
				EnableExtranet bool `yaml:"enableExtranet"`
			} `yaml:"netConfig"`
		} `yaml:"parameters"`
	} `yaml:"http"`
	Timer *struct {
		Parameters struct {
			Name           string `yaml:"name"`
			CronExpression string `yaml:"cronExpression"`
			Enable         bool   `yaml:"enable"`
			Argument       string `yaml:"argument"`
		} `yaml:"parameters"`
	} `yaml:"timer"`
}

// bootstrapZip zips the binary at path as the deploy zips hold it: bootstrap, mode 0755.
func bootstrapZip(t *testing.T, path string) []byte {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bin); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustJSON returns s as a JSON string value.
func mustJSON(t *testing.T, s string) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roleOf returns the properties of the template's one IAM role (the function's execution role).
func roleOf(t *testing.T, tmpl map[string]cfnResource) json.RawMessage {
	t.Helper()
	for _, r := range tmpl {
		if r.Type == "AWS::IAM::Role" {
			return r.Properties
		}
	}
	t.Fatal("the template has no IAM role")
	return nil
}
