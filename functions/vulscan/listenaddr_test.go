package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
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
	cmd := exec.Command(vulscanBinary(t))
	cmd.Env = append(append([]string{}, f.env...), "VULSCAN_ADDR= "+addr+" ")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if strings.Contains(lines.Text(), "serving on http://"+addr+"/") {
			go io.Copy(io.Discard, stdout)
			return
		}
	}
	cmd.Wait()
	t.Fatalf("the server never said it was serving on %s\nstderr: %s", addr, stderr.String())
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
