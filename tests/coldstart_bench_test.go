package tests

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkColdStart measures what an SCF cold start costs vulscan, side by side with what any
// process costs, so that the ratio (not an absolute time on a noisy machine) is the result:
//
//   - process: exec the bootstrap for `vulscan help` until it exits (kernel exec, Go runtime and
//     package initialisation; the floor for any Go function);
//   - scf-ready: exec the bootstrap in SCF mode until it posts /runtime/init/ready (the same, plus
//     settings, the SQLite audit store's open and migration, the TCSS client): the time SCF waits
//     before it can send the first event.
func BenchmarkColdStart(b *testing.B) {
	bin := vulscanBinary(b)
	b.Run("process", func(b *testing.B) {
		for b.Loop() {
			if out, err := exec.Command(bin, "help").CombinedOutput(); err != nil {
				b.Fatalf("vulscan help: %v\n%s", err, out)
			}
		}
	})
	b.Run("scf-ready", func(b *testing.B) {
		ready := make(chan struct{}, 1)
		rt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/runtime/init/ready" {
				ready <- struct{}{}
				return
			}
			<-r.Context().Done() // the next-invocation long poll: hold it until the process goes
		}))
		defer rt.Close()
		host, port, _ := net.SplitHostPort(rt.Listener.Addr().String())
		dsn := "sqlite:" + filepath.Join(b.TempDir(), "audit.db")
		for b.Loop() {
			cmd := exec.CommandContext(context.Background(), bin)
			cmd.Env = functionEnv("SCF_RUNTIME_API="+host, "SCF_RUNTIME_API_PORT="+port,
				"TENCENTCLOUD_RUNENV=SCF", "VULSCAN_AUDIT_DSN="+dsn,
				"TENCENTCLOUD_SECRETID=AKIDbench", "TENCENTCLOUD_SECRETKEY=bench", "TENCENTCLOUD_SESSIONTOKEN=bench")
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			<-ready
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
}
