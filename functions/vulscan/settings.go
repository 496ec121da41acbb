package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vulscan/vulscan/functions/scan"
)

// settings are vulscan's VULSCAN_* environment variables (README lists each with its default).
// Tencent credentials keep Tencent's names and are read by the tcss package on every call.
type settings struct {
	addr           string   // VULSCAN_ADDR: listen address in HTTP mode
	tcssEndpoint   string   // VULSCAN_TCSS_ENDPOINT: "emulator", a host, or an http(s) URL
	tcssRegion     string   // VULSCAN_TCSS_REGION, else TENCENTCLOUD_REGION; may be empty
	auditDSN       string   // VULSCAN_AUDIT_DSN: sqlite:PATH or postgres://…
	auditDSNFrom   string   // where auditDSN came from, for the errors about its store (auditDSNSource)
	trustedOrigins []string // VULSCAN_TRUSTED_ORIGINS: origins allowed to post the form
	allowedHosts   []string // VULSCAN_ALLOWED_HOSTS: extra Host names (name or name:port) the server answers to
	startQueue     int      // VULSCAN_START_QUEUE: form and API requests that may wait for TCSS's pace
	deployed       bool     // running on SCF or Lambda rather than on a workstation
}

// maxStartQueue bounds VULSCAN_START_QUEUE: at TCSS's 20 calls a second the last of that many
// would wait over an hour, so a larger value is a mistake.
const maxStartQueue = 100000

// emulatorEndpoint selects the in-process TCSS emulator (developer build only).
const emulatorEndpoint = "emulator"

// realEndpoint is TCSS's public endpoint, the default in every mode.
const realEndpoint = "tcss.tencentcloudapi.com"

// loadSettings reads the settings. Nothing is simulated unless asked for: without
// VULSCAN_TCSS_ENDPOINT every mode calls the real TCSS (`go tool task run` asks for the emulator
// explicitly). Deployed functions (SCF, Lambda) must name a durable audit store: their disks are
// ephemeral, and an audit log that vanishes with the instance would be no audit log.
func loadSettings(getenv func(string) string) (settings, error) {
	s := settings{
		addr:         strings.TrimSpace(getenv("VULSCAN_ADDR")),
		tcssEndpoint: strings.TrimSpace(getenv("VULSCAN_TCSS_ENDPOINT")),
		tcssRegion:   firstNonEmpty(getenv("VULSCAN_TCSS_REGION"), getenv("TENCENTCLOUD_REGION")),
		auditDSN:     strings.TrimSpace(getenv("VULSCAN_AUDIT_DSN")),
		deployed: getenv("AWS_LAMBDA_RUNTIME_API") != "" || getenv("SCF_RUNTIME_API") != "" ||
			getenv("TENCENTCLOUD_RUNENV") == "SCF",
	}
	// A malformed entry would be ignored (it trusts or admits nothing), so the operator who wrote
	// it would believe a site trusted or a name answered that is not: it stops the start instead.
	var originCheck *http.CrossOriginProtection
	for _, o := range strings.Split(getenv("VULSCAN_TRUSTED_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			if originCheck == nil {
				originCheck = http.NewCrossOriginProtection()
			}
			if err := originCheck.AddTrustedOrigin(o); err != nil {
				return settings{}, fmt.Errorf("VULSCAN_TRUSTED_ORIGINS: %q is not an origin: want scheme://host[:port], e.g. https://scan.example.com (%s)",
					scan.Shorten(o, 80), scan.Shorten(err.Error(), 200))
			}
			s.trustedOrigins = append(s.trustedOrigins, o)
		}
	}
	for _, h := range strings.Split(getenv("VULSCAN_ALLOWED_HOSTS"), ",") {
		if h = strings.TrimSpace(h); h != "" {
			if !validHostEntry(h) {
				return settings{}, fmt.Errorf("VULSCAN_ALLOWED_HOSTS: %q is neither a host name nor host:port (e.g. scan.example.com, scan.example.com:8443, [::1]:8080)",
					scan.Shorten(h, 80))
			}
			s.allowedHosts = append(s.allowedHosts, h)
		}
	}
	addrSetting := "VULSCAN_ADDR"
	if s.addr == "" {
		s.addr = defaultAddr(getenv)
		if strings.TrimSpace(getenv("PORT")) != "" {
			addrSetting = "PORT"
		}
	}
	if v := strings.TrimSpace(getenv("VULSCAN_START_QUEUE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxStartQueue {
			return settings{}, fmt.Errorf("VULSCAN_START_QUEUE=%q: want how many form and API requests may wait for TCSS, 1 to %d (default %d)",
				scan.Shorten(v, 32), maxStartQueue, scan.DefaultQueueCapacity)
		}
		s.startQueue = n
	}
	if err := checkListenAddr(s.addr); err != nil {
		if addrSetting == "PORT" {
			return settings{}, fmt.Errorf("PORT=%q: want the port to listen on, 0 to 65535", scan.Shorten(getenv("PORT"), 32))
		}
		return settings{}, fmt.Errorf("VULSCAN_ADDR=%q: want host:port, e.g. 127.0.0.1:8080: %w", scan.Shorten(s.addr, 64), err)
	}
	if s.tcssEndpoint == "" {
		s.tcssEndpoint = realEndpoint
	}
	if s.auditDSN == "" {
		if s.deployed {
			return settings{}, fmt.Errorf("VULSCAN_AUDIT_DSN is not set: a deployed function needs a durable audit store (postgres://…, docs/deploy.md)")
		}
		s.auditDSN = defaultAuditDSN
	}
	s.auditDSNFrom = auditDSNSource("", getenv("VULSCAN_AUDIT_DSN"))
	return s, nil
}

// hostAllowList is the Host names the web handler answers to: on a workstation listening on
// loopback, the loopback names and the listening address with the listening port (a DNS-rebinding page reaches 127.0.0.1
// under its own name), plus VULSCAN_ALLOWED_HOSTS. Elsewhere only VULSCAN_ALLOWED_HOSTS, and
// none means no check: a function URL or gateway in front routes by host name.
func (s settings) hostAllowList() []string {
	hosts := s.allowedHosts
	host, port, err := net.SplitHostPort(s.addr)
	ip := net.ParseIP(host)
	if s.deployed || err != nil || !(host == "localhost" || ip != nil && ip.IsLoopback()) {
		return hosts
	}
	names := []string{"localhost", "127.0.0.1", "::1"}
	if ip != nil && !slices.Contains(names, ip.String()) {
		// The address it listens on (127.0.0.2, say) is its own name too: the URL it prints
		// must work.
		names = append(names, ip.String())
	}
	for _, name := range names {
		if port == "0" {
			// The port is chosen when listening; the names alone still stop a rebinding page.
			hosts = append(hosts, name)
			continue
		}
		hosts = append(hosts, net.JoinHostPort(name, port))
	}
	return hosts
}

// defaultAddr is loopback for a workstation, and all interfaces where a platform routes to us:
// SCF web functions must listen on 0.0.0.0:9000; PORT is the common convention elsewhere.
func defaultAddr(getenv func(string) string) string {
	if p := strings.TrimSpace(getenv("PORT")); p != "" {
		return net.JoinHostPort("0.0.0.0", p)
	}
	if getenv("TENCENTCLOUD_RUNENV") == "SCF" {
		return "0.0.0.0:9000"
	}
	return "127.0.0.1:8080"
}

// checkListenAddr refuses a listen address net.Listen would refuse only later, in words that
// name no setting ("lookup tcp/8080 : unknown port"), or would take as a service name.
func checkListenAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if ae := (*net.AddrError)(nil); errors.As(err, &ae) {
		return errors.New(ae.Err) // without the address, which the caller quotes bounded
	} else if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 || strings.HasPrefix(port, "+") {
		return fmt.Errorf("port %q is not a number from 0 to 65535", scan.Shorten(port, 16))
	}
	return nil
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// redactDSN shows where an audit store is without its password: the absolute file of a SQLite
// store, or a PostgreSQL URL with the password masked.
func redactDSN(dsn string) string {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		if abs, err := filepath.Abs(path); err == nil {
			return "sqlite:" + abs
		}
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	// libpq and pgx also take the password as a query parameter (?password=…), and a client
	// certificate's key password as sslpassword; url.Redacted masks only the user info's.
	q := u.Query()
	for name := range q {
		if isPasswordParam(name) {
			q.Set(name, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.Redacted()
}

// isPasswordParam reports whether a DSN's query parameter holds a password (password,
// sslpassword).
func isPasswordParam(name string) bool { return strings.Contains(strings.ToLower(name), "password") }

// validHostEntry reports whether h is a VULSCAN_ALLOWED_HOSTS entry: a host name or IP address,
// with or without a port.
func validHostEntry(h string) bool {
	name := h
	if host, port, err := net.SplitHostPort(h); err == nil {
		n, perr := strconv.Atoi(port)
		if perr != nil || n < 1 || n > 65535 {
			return false
		}
		name = host
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	if net.ParseIP(name) != nil {
		return true
	}
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// knownSettings are the VULSCAN_ variables vulscan reads, each listed in README's "Settings"
// (VULSCAN_ACTOR_HEADER too, retired: openAuth says what replaced it), and
// VULSCAN_LAMBDA_ARCH, which serverless.aws.yml reads in the deploying shell (docs/deploy.md).
// Variables beginning VULSCAN_TEST_ belong to the test suite.
var knownSettings = []string{
	"VULSCAN_ACTOR_HEADER", "VULSCAN_ADDR", "VULSCAN_ALLOWED_HOSTS", "VULSCAN_API_KEYS",
	"VULSCAN_AUDIT_DSN", "VULSCAN_AUDIT_SIGNING_KEY", "VULSCAN_AUDIT_VERIFY_KEY",
	"VULSCAN_AUDIT_WITNESS", "VULSCAN_AUTH", "VULSCAN_AWS_STS_ENDPOINT",
	"VULSCAN_AWS_WEB_IDENTITY_AUDIENCE", "VULSCAN_BROAD_SCOPE_ACTORS", "VULSCAN_LAMBDA_ARCH",
	"VULSCAN_OIDC_ALLOWED_EMAILS", "VULSCAN_OIDC_ALLOWED_GROUPS", "VULSCAN_OIDC_CLIENT_ID",
	"VULSCAN_OIDC_CLIENT_SECRET", "VULSCAN_OIDC_ISSUER", "VULSCAN_OIDC_REDIRECT_URL",
	"VULSCAN_PROXY_HEADER", "VULSCAN_PROXY_SECRET", "VULSCAN_PROXY_SECRET_HEADER",
	"VULSCAN_PUBLIC", "VULSCAN_SCHEDULES", "VULSCAN_SESSION_KEY", "VULSCAN_SESSION_TTL",
	"VULSCAN_START_LIMIT", "VULSCAN_START_QUEUE", "VULSCAN_STS_ENDPOINT",
	"VULSCAN_TCSS_ENDPOINT", "VULSCAN_TCSS_REGION", "VULSCAN_TRUSTED_ORIGINS",
}

// unknownSetting refuses a VULSCAN_ variable in environ (NAME=value lines) that vulscan does not
// read. Such a variable is almost always a misspelt setting (VULSCAN_START_LIMTI): ignored, it
// would leave the setting the operator meant at its default (no start limit they chose, an audit
// log in the working directory) while they believe it set. Only the name is shown: the value may
// be a secret.
func unknownSetting(environ []string) error {
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "VULSCAN_") || strings.HasPrefix(name, "VULSCAN_TEST_") ||
			slices.Contains(knownSettings, name) {
			continue
		}
		hint := ""
		if near := nearestSetting(name); near != "" {
			hint = " (did you mean " + near + "?)"
		}
		return fmt.Errorf("%s is not a vulscan setting%s: unset it, or use a name from README's Settings",
			scan.Shorten(name, 64), hint)
	}
	return nil
}

// nearestSetting is the known setting at most two edits (insertions, deletions, substitutions,
// swaps of neighbours) from name, or "" when none is that close.
func nearestSetting(name string) string {
	best, bestDist := "", 3
	for _, known := range knownSettings {
		if d := editDistance(name, known); d < bestDist {
			best, bestDist = known, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b (byte-wise: setting
// names are ASCII).
func editDistance(a, b string) int {
	if len(a) > 128 || len(b) > 128 {
		return max(len(a), len(b)) // no name that long is near any setting
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
