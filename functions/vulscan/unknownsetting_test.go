package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// A VULSCAN_ variable vulscan does not read is a misspelt setting: it stops every mode and the
// scan command at start with one line naming it and the setting it is nearest, never its value,
// instead of leaving the setting meant at its default. Lambda also hears why from its runtime
// API. A setting's own name, and a test's VULSCAN_TEST_ variable, still start.
func TestAMisspeltSettingStopsTheStart(t *testing.T) {
	var (
		mu        sync.Mutex
		initError string
	)
	runtimeAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/init/error"):
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			initError += string(body)
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
		case strings.HasSuffix(r.URL.Path, "/init/ready"):
		default:
			<-r.Context().Done() // the next-event long poll: held until the process goes
		}
	}))
	defer runtimeAPI.Close()
	modes := startModes(runtimeAPI)
	for _, tc := range []struct {
		name, variable, want string
	}{
		{"a typo of a setting", "VULSCAN_START_LIMTI=3",
			"VULSCAN_START_LIMTI is not a vulscan setting (did you mean VULSCAN_START_LIMIT?)"},
		{"a secret under a wrong name", "VULSCAN_AUDIT_DNS=postgres://vulscan:TOPSECRET@db.example/audit",
			"VULSCAN_AUDIT_DNS is not a vulscan setting (did you mean VULSCAN_AUDIT_DSN?)"},
		{"a name near none", "VULSCAN_COLOUR=blue", "VULSCAN_COLOUR is not a vulscan setting: unset it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					mu.Lock()
					initError = ""
					mu.Unlock()
					f := newCLIFixture(t)
					// A process that starts despite the setting would serve for ever: the
					// deadline turns that regression into a failure instead of a hang.
					ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
					defer cancel()
					cmd := exec.CommandContext(ctx, vulscanBinary(t), m.args...)
					cmd.Env = append(append(append([]string{}, f.env...), m.env...), tc.variable)
					var stdout, stderr bytes.Buffer
					cmd.Stdout, cmd.Stderr = &stdout, &stderr
					err := cmd.Run()
					var exitErr *exec.ExitError
					if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
						t.Fatalf("want exit status 1, got %v\nstderr: %s", err, stderr.String())
					}
					lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
					if last := lines[len(lines)-1]; !strings.Contains(last, tc.want) {
						t.Errorf("last line of stderr:\n%s\nwant it to say %q", last, tc.want)
					}
					if out := stdout.String() + stderr.String(); strings.Contains(out, "TOPSECRET") {
						t.Errorf("the value was echoed:\n%s", out)
					}
					mu.Lock()
					defer mu.Unlock()
					if m.name == "Lambda mode" && !strings.Contains(initError, tc.want) {
						t.Errorf("Lambda's runtime API heard %q, want the cause", initError)
					}
				})
			}
		})
	}
	t.Run("known names start", func(t *testing.T) {
		f := newCLIFixture(t)
		cmd := exec.Command(vulscanBinary(t), "scan", "--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "1")
		cmd.Env = append(append([]string{}, f.env...), "VULSCAN_START_LIMIT=3", "VULSCAN_TEST_POSTGRES_DSN=x", "VULSCAN_LAMBDA_ARCH=arm64")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})
}

// Every VULSCAN_ variable the product's sources name is one unknownSetting lets through: a new
// setting missing from knownSettings would stop every start that sets it.
func TestEverySettingTheCodeReadsIsKnown(t *testing.T) {
	literal := regexp.MustCompile(`"(VULSCAN_[A-Z0-9_]*[A-Z0-9])"`)
	found := 0
	for _, dir := range []string{"../../functions", "../../web", "../../internal"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range literal.FindAllSubmatch(src, -1) {
				found++
				if name := string(m[1]); unknownSetting([]string{name + "=x"}) != nil {
					t.Errorf("%s names %s, which vulscan refuses as unknown: add it to knownSettings", path, name)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if found < len(knownSettings) {
		t.Fatalf("found %d setting names in the sources; the scan is broken", found)
	}
}

// The operator commands that read an existing log refuse a misspelt setting too: with
// VULSCAN_AUDIT_DNS they would read the default log in the working directory instead, and
// schedules would report on it and exit 0.
func TestOperatorCommandsRefuseAMisspeltSetting(t *testing.T) {
	for _, args := range [][]string{
		{"schedules"},
		{"audit", "verify"},
		{"audit", "export", "--format", "jsonl"},
		{"audit", "reconcile"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			f := newCLIFixture(t)
			if r := f.run(t, nil, "--RegistryImageScanType", "IMAGEIDS", "--RegistryImageIDs", "1"); r.exit != 0 {
				t.Fatalf("creating the log: exit %d: %s", r.exit, r.stderr)
			}
			cmd := exec.Command(vulscanBinary(t), args...)
			cmd.Dir = f.dir
			cmd.Env = append(append([]string{}, f.env...), "VULSCAN_SCHEDULES=nightly=0 0 2 * * * *",
				"VULSCAN_AUDIT_DNS=postgres://vulscan:TOPSECRET@db.example/audit")
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
				t.Errorf("want a failing exit, got %v\n%s", err, out)
			}
			if want := "VULSCAN_AUDIT_DNS is not a vulscan setting (did you mean VULSCAN_AUDIT_DSN?)"; !strings.Contains(string(out), want) {
				t.Errorf("output does not say %q:\n%s", want, out)
			}
			if strings.Contains(string(out), "TOPSECRET") {
				t.Errorf("the value was echoed:\n%s", out)
			}
		})
	}
}

// A misspelt VULSCAN_SCHEDULES reads as no schedules: `vulscan schedules` said "No schedules are
// configured" and exited 0 before it checked the settings, so a monitor running it checked
// nothing and passed. It refuses the name first, exit 2, as for a bad VULSCAN_SCHEDULES.
func TestSchedulesRefusesAMisspeltSchedulesSetting(t *testing.T) {
	f := newCLIFixture(t)
	cmd := exec.Command(vulscanBinary(t), "schedules")
	cmd.Dir = f.dir
	cmd.Env = append(append([]string{}, f.env...), "VULSCAN_SCHEDULE=nightly=0 0 2 * * * *")
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitRejected {
		t.Errorf("want exit %d, got %v\n%s", exitRejected, err, out)
	}
	if want := "vulscan schedules: VULSCAN_SCHEDULE is not a vulscan setting (did you mean VULSCAN_SCHEDULES?)"; !strings.Contains(string(out), want) {
		t.Errorf("output does not say %q:\n%s", want, out)
	}
}
