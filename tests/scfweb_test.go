package tests

import (
	"archive/zip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/tcss/tcsstest"

	"github.com/vulscan/vulscan/internal/citest"
)

// scfWebAddr is where SCF forwards a web function's requests: port 9000 on all interfaces.
const scfWebAddr = "127.0.0.1:9000"

// TestSCFWebFunction starts vulscan as an SCF web function does: SCF runs scf_bootstrap from
// the zip's root, which must start the binary in HTTP mode on 0.0.0.0:9000 whatever else the
// environment says (here even SCF_RUNTIME_API, which would select the custom-runtime loop).
// The form and the JSON API then answer there. It runs the repository's scf_bootstrap beside the
// developer build and, when `go tool task package` has built it, dist/scf-web.zip.
func TestSCFWebFunction(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("developer build", func(t *testing.T) {
		dir := t.TempDir()
		copyExecutable(t, vulscanBinary(t), filepath.Join(dir, "bootstrap"))
		copyExecutable(t, filepath.Join(root, "functions", "vulscan", "scf_bootstrap"), filepath.Join(dir, "scf_bootstrap"))
		testSCFWebFunction(t, dir)

		// Deployed even where SCF sets no TENCENTCLOUD_RUNENV: no durable audit log, no start.
		cmd := exec.Command(filepath.Join(dir, "scf_bootstrap"))
		cmd.Dir = t.TempDir()
		cmd.Env = functionEnv(scfDeployedAccess...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "VULSCAN_AUDIT_DSN is not set") {
			t.Errorf("scf_bootstrap without VULSCAN_AUDIT_DSN: %v\n%s; want a refusal to start", err, out)
		}
	})
	t.Run("dist/scf-web.zip", func(t *testing.T) {
		zipPath := filepath.Join(root, "dist", "scf-web.zip")
		if _, err := os.Stat(zipPath); err != nil {
			citest.Missing(t, "%s is missing: run `go tool task package` first", zipPath)
		}
		testSCFWebFunction(t, unzipWebFunction(t, zipPath))
	})
}

func testSCFWebFunction(t *testing.T, dir string) {
	if c, err := net.DialTimeout("tcp", scfWebAddr, time.Second); err == nil {
		c.Close()
		t.Fatalf("something already listens on %s, the port a web function must use", scfWebAddr)
	}
	role := tcsstest.Key{SecretID: "AKIDscfweb" + randomID()[:16], SecretKey: randomID(), Token: "token-" + randomID()}
	emu, tcssSrv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{role}})
	t.Cleanup(tcssSrv.Close)
	dsn := functionAuditDSN(t, filepath.Join(dir, "bootstrap"), t.TempDir())

	cmd := exec.Command(filepath.Join(dir, "scf_bootstrap"))
	cmd.Dir = dir
	cmd.Env = functionEnv(append([]string{
		"TENCENTCLOUD_RUNENV=SCF", "SCF_RUNTIME_API=127.0.0.1", "SCF_RUNTIME_API_PORT=9",
		"VULSCAN_ADDR=127.0.0.1:8080", // the script must override it
		"TENCENTCLOUD_SECRETID=" + role.SecretID, "TENCENTCLOUD_SECRETKEY=" + role.SecretKey,
		"TENCENTCLOUD_SESSIONTOKEN=" + role.Token,
		"VULSCAN_AUDIT_DSN=" + dsn, "VULSCAN_TCSS_ENDPOINT=" + tcssSrv.URL,
	}, scfDeployedAccess...)...)
	p := startProcess(t, cmd)
	base := "http://" + scfWebAddr + "/"
	waitUntil(t, "the web function to serve "+base, func() error {
		select {
		case <-p.exited:
			t.Fatalf("scf_bootstrap exited: %v\n%s", p.err, p.Output())
		default:
		}
		resp, err := http.Get(base)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %d", base, resp.StatusCode)
		}
		return nil
	})
	if out := p.Output(); !strings.Contains(out, "serving on 0.0.0.0:9000, all interfaces") {
		t.Errorf("the binary does not listen on all interfaces, port 9000:\n%s", out)
	}

	var api struct {
		Outcome     string `json:"outcome"`
		LocalTaskID int64  `json:"LocalTaskID"`
	}
	postJSON(t, base+"api/scans", `{"LocalImageScanType":"NOT_SCAN"}`, http.StatusCreated, &api)
	if api.Outcome != string(audit.OutcomeSucceeded) || api.LocalTaskID == 0 || emu.Calls(createAction) != 1 {
		t.Errorf("POST /api/scans: %+v, %d TCSS calls; want one succeeded scan", api, emu.Calls(createAction))
	}
	p.stop()
	verifyAudit(t, dsn)
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// unzipWebFunction unpacks a web function's zip, which must hold exactly the executable
// scf_bootstrap and bootstrap at its root, and returns the directory.
func unzipWebFunction(t *testing.T, path string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	dir := t.TempDir()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Mode().Perm() != 0o755 {
			t.Errorf("%s: %s has mode %v; want -rwxr-xr-x", path, f.Name, f.Mode())
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f.Name)), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Join(names, " ") != "bootstrap scf_bootstrap" {
		t.Fatalf("%s holds %q; want bootstrap and scf_bootstrap", path, names)
	}
	return dir
}
