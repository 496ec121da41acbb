package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/internal/citest"
)

// The packages only the developer build may contain: the TCSS emulator and the test server it
// runs on (a deployed function must never be able to answer from a simulation), and the SQLite
// driver (a deployed function keeps its audit log in PostgreSQL; SQLite would be 2.8 MB of a
// deploy zip that must stay under 5 MB).
var developerOnlyPackages = []string{
	"github.com/vulscan/vulscan/functions/tcss/tcsstest",
	"net/http/httptest",
	"modernc.org/sqlite",
}

// TestReleaseBuildHasNoEmulator builds vulscan as `task package` does (tag release; not stripped
// here, so that `go tool nm` can list its symbols) and finds neither the emulator nor
// net/http/httptest in it, while the developer build has both. The release binary refuses
// VULSCAN_TCSS_ENDPOINT=emulator and has no `vulscan emulator`. The bootstrap of dist/scf.zip,
// stripped, is searched for the packages' names, which Go keeps for its tracebacks.
func TestReleaseBuildHasNoEmulator(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	release := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc,release", "-o", release, "./functions/vulscan")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags lambda.norpc,release: %v\n%s", err, out)
	}

	for name, bin := range map[string]string{"release": release, "developer": vulscanBinary(t)} {
		out, err := exec.Command("go", "tool", "nm", bin).Output()
		if err != nil {
			t.Fatalf("go tool nm %s: %v", name, err)
		}
		for _, pkg := range developerOnlyPackages {
			has := bytes.Contains(out, []byte(pkg+"."))
			if name == "release" && has {
				t.Errorf("the release build has symbols of %s", pkg)
			}
			if name == "developer" && !has {
				t.Errorf("the developer build has no symbol of %s: the check above proves nothing", pkg)
			}
		}
	}
	info, err := exec.Command("go", "version", "-m", release).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(info), "-tags=lambda.norpc,release") {
		t.Errorf("go version -m shows no release tag:\n%s", info)
	}

	t.Run("no emulator command", func(t *testing.T) {
		cmd := exec.Command(release, "emulator")
		cmd.Env = localEnv()
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 2 || !strings.Contains(string(out), `unknown command "emulator"`) {
			t.Errorf("release `vulscan emulator` exited %d: %s; want 2, unknown command", code, out)
		}
	})
	t.Run("emulator endpoint refused", func(t *testing.T) {
		cmd := exec.Command(release)
		cmd.Dir = t.TempDir()
		cmd.Env = append(localEnv(), "VULSCAN_TCSS_ENDPOINT=emulator", "VULSCAN_ADDR="+freeAddr(t))
		out, err := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 || !strings.Contains(string(out), "has no TCSS emulator") {
			t.Errorf("release build with VULSCAN_TCSS_ENDPOINT=emulator exited %d: %s; want 1, no emulator", code, out)
		}
	})

	// A deployed function given a sqlite: DSN stops at start, in every mode, with one line that
	// names the fix, whatever the path (no path check can help a build without the driver).
	t.Run("SQLite DSN refused", func(t *testing.T) {
		for _, mode := range []struct{ name, env string }{
			{"HTTP mode", "VULSCAN_ADDR=" + freeAddr(t)},
			{"SCF mode", "SCF_RUNTIME_API=127.0.0.1"},
			{"Lambda mode", "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1"},
		} {
			t.Run(mode.name, func(t *testing.T) {
				cmd := exec.Command(release)
				cmd.Dir = t.TempDir()
				cmd.Env = append(localEnv(), mode.env, "SCF_RUNTIME_API_PORT=1", "VULSCAN_AUDIT_DSN=sqlite:/no/such/dir/audit.db")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				if code := cmd.ProcessState.ExitCode(); err == nil || code != 1 {
					t.Errorf("exit status %d, want 1; stderr:\n%s", code, stderr.String())
				}
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				last := lines[len(lines)-1]
				if !strings.Contains(last, "no SQLite driver") || !strings.Contains(last, "postgres://") {
					t.Errorf("the last line of stderr does not say that the build has no SQLite and what to use instead:\n%s", stderr.String())
				}
			})
		}
	})

	t.Run("dist/scf.zip", func(t *testing.T) {
		zipPath := filepath.Join(root, "dist", "scf.zip")
		if _, err := os.Stat(zipPath); err != nil {
			citest.Missing(t, "%s is missing: run `go tool task package` first", zipPath)
		}
		bin := bootstrapFromZip(t, zipPath)
		for _, pkg := range developerOnlyPackages {
			if bytes.Contains(bin, []byte(pkg+".")) {
				t.Errorf("dist/scf.zip's bootstrap contains %s", pkg)
			}
		}
	})
}
