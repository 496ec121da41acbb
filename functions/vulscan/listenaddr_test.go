package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A listen address whose port is not one (out of range, a service name, a stray space) stops the
// HTTP server with one line that names the setting it came from, VULSCAN_ADDR or PORT, and
// what it takes; net.Listen's own words ("lookup tcp/8080 : unknown port") named neither.
// A TCSS endpoint URL with a port that is none stops the start the same way, instead of
// failing every scan later as not sent.
func TestABadListenAddressNamesItsSetting(t *testing.T) {
	for _, tc := range []struct {
		name, variable, want string
	}{
		{"port out of range", "VULSCAN_ADDR=127.0.0.1:99999",
			`vulscan: VULSCAN_ADDR="127.0.0.1:99999": want host:port, e.g. 127.0.0.1:8080: port "99999" is not a number from 0 to 65535`},
		{"negative port", "VULSCAN_ADDR=127.0.0.1:-1",
			`vulscan: VULSCAN_ADDR="127.0.0.1:-1": want host:port, e.g. 127.0.0.1:8080: port "-1" is not a number from 0 to 65535`},
		{"a service name", "VULSCAN_ADDR=127.0.0.1:http",
			`vulscan: VULSCAN_ADDR="127.0.0.1:http": want host:port, e.g. 127.0.0.1:8080: port "http" is not a number from 0 to 65535`},
		{"a port alone", "VULSCAN_ADDR=8080",
			`vulscan: VULSCAN_ADDR="8080": want host:port, e.g. 127.0.0.1:8080: missing port in address`},
		{"PORT not a number", "PORT=eighty", `vulscan: PORT="eighty": want the port to listen on, 0 to 65535`},
		{"PORT too large", "PORT=70000", `vulscan: PORT="70000": want the port to listen on, 0 to 65535`},
		{"a TCSS endpoint's port out of range", "VULSCAN_TCSS_ENDPOINT=https://tcss.tencentcloudapi.com:443000",
			`vulscan: TCSS client (VULSCAN_TCSS_ENDPOINT="https://tcss.tencentcloudapi.com:443000"): tcss: endpoint "https://tcss.tencentcloudapi.com:443000": the port is not a number from 1 to 65535`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCLIFixture(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, vulscanBinary(t))
			cmd.Env = append(append([]string{}, f.env...), tc.variable)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
				t.Fatalf("want exit status 1, got %v\nstderr: %s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if last := lines[len(lines)-1]; last != tc.want {
				t.Errorf("last line of stderr:\n%s\nwant\n%s", last, tc.want)
			}
		})
	}
}

// White space around VULSCAN_ADDR or PORT (an env file's trailing blank, a quoted value) is not
// part of the address: the server starts on it, as every other setting is trimmed.
func TestAListenAddressIsTrimmed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f := newCLIFixture(t)
	if line := serveAndReadItsLine(t, append(append([]string{}, f.env...), "VULSCAN_ADDR= "+addr+" ")); line != "serving on http://"+addr+"/" {
		t.Errorf("the server said %q, want it serving on %s", line, addr)
	}
}

// serveAndReadItsLine runs the binary in HTTP mode with vars until the test ends, and returns the line
// in which it says where it serves, without its "vulscan: ".
func serveAndReadItsLine(t *testing.T, vars []string) string {
	t.Helper()
	cmd := exec.Command(vulscanBinary(t))
	cmd.Env = vars
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if rest, ok := strings.CutPrefix(lines.Text(), "vulscan: serving on "); ok {
			go io.Copy(io.Discard, stdout)
			return "serving on " + rest
		}
	}
	cmd.Wait()
	t.Fatalf("the server never said it was serving\nstderr: %s", stderr.String())
	return ""
}

// A setting far longer than any value it takes stops the start with a line of bounded length
// that still names the setting: the value is quoted shortened, not whole (under Lambda the line
// is also the init error sent to the runtime API).
func TestAHugeSettingIsQuotedShortened(t *testing.T) {
	huge := strings.Repeat("a", 100000)
	for _, tc := range []struct{ variable, name string }{
		{"VULSCAN_ADDR=" + huge, "VULSCAN_ADDR"},
		{"VULSCAN_ADDR=[" + huge, "VULSCAN_ADDR"},
		{"VULSCAN_TCSS_ENDPOINT=" + huge, "VULSCAN_TCSS_ENDPOINT"},
		{"VULSCAN_TCSS_ENDPOINT=https://" + huge, "VULSCAN_TCSS_ENDPOINT"},
		{"VULSCAN_TCSS_ENDPOINT=emulator:http://" + huge, "VULSCAN_TCSS_ENDPOINT"},
		{"VULSCAN_TCSS_REGION=" + huge, "region"},
		{"VULSCAN_TRUSTED_ORIGINS=" + huge, "VULSCAN_TRUSTED_ORIGINS"},
	} {
		t.Run(tc.variable[:len(tc.name)+10], func(t *testing.T) {
			f := newCLIFixture(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, vulscanBinary(t))
			cmd.Env = append(append([]string{}, f.env...), "VULSCAN_ADDR=127.0.0.1:0", tc.variable)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
				t.Fatalf("want exit status 1, got %v\nstderr: %.2000s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			last := lines[len(lines)-1]
			if len(last) > 1000 || !strings.Contains(last, tc.name) {
				t.Errorf("last line of stderr is %d bytes, want at most 1000 naming %s: %.300s", len(last), tc.name, last)
			}
		})
	}
}

// The start line says where the server listens in words someone can use. On all interfaces the
// listener's own address, [::]:PORT, was printed as the URL to open: it names neither the address
// configured nor a URL that works. The line now says the address configured and the loopback
// URL, which answers, unless VULSCAN_ALLOWED_HOSTS keeps the server from answering to it.
func TestTheServingLineGivesTheAddressConfiguredAndAURLThatWorks(t *testing.T) {
	for _, tt := range []struct {
		name    string
		vars    []string
		want    string // the start of the line, after "vulscan: "
		wantURL bool   // whether the line gives a URL, which must answer
	}{
		{"all interfaces, VULSCAN_ADDR", []string{"VULSCAN_ADDR=0.0.0.0:0"}, "serving on 0.0.0.0:", true},
		{"all interfaces, PORT", []string{"PORT=0"}, "serving on 0.0.0.0:", true},
		{"no host", []string{"VULSCAN_ADDR=:0"}, "serving on :", true},
		{"all interfaces, to allowed hosts only", []string{"VULSCAN_ADDR=0.0.0.0:0", "VULSCAN_ALLOWED_HOSTS=scan.example.com"},
			"serving on 0.0.0.0:", false},
		{"loopback", []string{"VULSCAN_ADDR=127.0.0.1:0"}, "serving on http://127.0.0.1:", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, env, _ := hangingTCSS(t)
			line := serveAndReadItsLine(t, append(append(env, "VULSCAN_AUDIT_WITNESS=off"), tt.vars...))
			if !strings.HasPrefix(line, tt.want) || strings.Contains(line, "[::]") {
				t.Fatalf("line %q, want it to begin %q and not name [::]", line, tt.want)
			}
			_, url, found := strings.Cut(line, "http://")
			if found != tt.wantURL {
				t.Fatalf("line %q gives a URL: %v, want %v", line, found, tt.wantURL)
			}
			if !found {
				if !strings.Contains(line, "all interfaces, to the Host names in VULSCAN_ALLOWED_HOSTS only") {
					t.Errorf("line %q does not say it answers to VULSCAN_ALLOWED_HOSTS only", line)
				}
				return
			}
			resp, err := http.Get("http://" + url + "static/favicon.svg")
			if err != nil {
				t.Fatalf("the URL in %q: %v", line, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("the URL in %q answers %d, want 200", line, resp.StatusCode)
			}
		})
	}
}
