package web

import (
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/vulscan/vulscan/functions/scan"
)

// hostAllowList admits requests whose Host header names this server. A DNS-rebinding page makes
// the victim's browser send requests to 127.0.0.1 under the attacker's own name (Host and Origin
// both the attacker's, so cross-origin protection sees a same-origin request); refusing names
// we do not answer to closes that door. Refusals are 421 Misdirected Request, audited when the
// request could have started a scan.
type hostAllowList struct {
	exact map[string]bool // host:port entries
	names map[string]bool // host entries, any port
}

// newHostAllowList reads entries of the form "name" (any port) or "name:port". Names compare
// case-insensitively and without a trailing dot. Empty means no check.
func newHostAllowList(entries []string) *hostAllowList {
	l := &hostAllowList{exact: map[string]bool{}, names: map[string]bool{}}
	for _, e := range entries {
		e = normalizeHost(e)
		if e == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(e); err == nil {
			l.exact[e] = true
		} else {
			l.names[strings.Trim(e, "[]")] = true
		}
	}
	if len(l.exact) == 0 && len(l.names) == 0 {
		return nil
	}
	return l
}

func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, port, err := net.SplitHostPort(h); err == nil {
		return net.JoinHostPort(strings.TrimSuffix(host, "."), port)
	}
	return strings.TrimSuffix(h, ".")
}

// allows reports whether host (a request's Host header) is on the list.
func (l *hostAllowList) allows(host string) bool {
	host = normalizeHost(host)
	if l.exact[host] {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	return l.names[strings.Trim(name, "[]")]
}

// checkHost refuses, with 421, requests for a host not on list: recorded in the audit log when
// they could have started a scan (refuse), else only logged.
func (s *server) checkHost(list *hostAllowList, next http.Handler) http.Handler {
	if list == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if list.allows(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		err := s.refuse(s.withRefusedIdentity(r), scan.EFORBIDDEN, &httpError{status: http.StatusMisdirectedRequest,
			message: "This server does not answer to the name " + quoteHost(r.Host) + ". Use its own address.",
			err:     errors.New("host not allowed: " + quoteHost(r.Host))})
		if isAPI(r) {
			s.apiError(w, r, err, 0)
			return
		}
		s.pageError(w, r, err)
	})
}

// quoteHost shows an untrusted Host header safely in a message.
func quoteHost(h string) string { return "“" + scan.Clean(h, 80) + "”" }
