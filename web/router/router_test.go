package router_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/web/router"
)

// vulscan's routes (web.New), and a few more shapes of the package's subset.
var patterns = []string{
	"GET /{$}", "POST /{$}", "GET /scans/{id}", "GET /audit", "GET /schedules", "GET /pick/{kind}",
	"GET /audit.csv", "GET /audit.jsonl", "GET /static/style.css", "GET /favicon.ico",
	"POST /api/scans", "GET /api/scans/{id}", "GET /api/audit", "GET /auth/login", "POST /auth/logout",
	"/api/", "/",
	"GET /docs/", "DELETE /items/{id}", "PUT /items/{id}", "GET /items/new", "/plain",
}

// answer is what a request got: status, the route that took it and its wildcard, and the
// redirect's Location or the 405's Allow.
type answer struct {
	status                 int
	pattern, id, kind, loc string
}

// serve answers target; a redirect's Location is given as the URL a browser would follow,
// resolved against the request's (the router's are relative, ServeMux's absolute).
func serve(h http.Handler, method, target string) answer {
	req := httptest.NewRequest(method, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, pattern: rec.Header().Get("X-Pattern"), id: rec.Header().Get("X-Id"), kind: rec.Header().Get("X-Kind")}
	if loc := rec.Header().Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			return answer{status: -1, loc: loc}
		}
		a.loc = req.URL.ResolveReference(u).String()
	}
	if allow := rec.Header().Get("Allow"); allow != "" {
		a.loc = "Allow: " + allow
	}
	return a
}

type registrar interface {
	Handle(string, http.Handler)
	http.Handler
}

func register(r registrar) http.Handler {
	for _, p := range patterns {
		r.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("X-Pattern", req.Pattern)
			w.Header().Set("X-Id", req.PathValue("id"))
			w.Header().Set("X-Kind", req.PathValue("kind"))
		}))
	}
	return r
}

// The router answers every request as http.ServeMux does with the same patterns: the route
// chosen, HEAD by GET, wildcards (unescaped), {$}, subtrees and their precedence, 404 and 405
// with Allow, and the redirects of unclean paths and of /tree to /tree/.
func TestRoutesAsServeMux(t *testing.T) {
	ours, std := register(router.New()), register(http.NewServeMux())
	requests := []struct{ method, target string }{
		{"GET", "/"}, {"HEAD", "/"}, {"POST", "/"}, {"PUT", "/"}, {"GET", "/?a=1"},
		{"GET", "/scans/42"}, {"HEAD", "/scans/42"}, {"POST", "/scans/42"}, {"GET", "/scans/"}, {"GET", "/scans"},
		{"GET", "/scans/a%20b"}, {"GET", "/scans/a%2Fb"}, {"GET", "/scans/42/more"},
		{"GET", "/audit"}, {"POST", "/audit"}, {"GET", "/audit/"}, {"GET", "/audit.csv"}, {"GET", "/aud%69t"},
		{"GET", "/schedules"}, {"GET", "/pick/image"}, {"GET", "/pick/"}, {"GET", "/static/style.css"},
		{"GET", "/static/missing.css"}, {"GET", "/favicon.ico"},
		{"POST", "/api/scans"}, {"GET", "/api/scans"}, {"DELETE", "/api/scans"}, {"GET", "/api/scans/7"},
		{"POST", "/api/scans/7"}, {"GET", "/api/audit"}, {"GET", "/api/"}, {"GET", "/api"}, {"POST", "/api"},
		{"GET", "/api/nothing/here"}, {"GET", "/auth/login"}, {"POST", "/auth/login"}, {"GET", "/auth/logout"},
		{"GET", "/docs/"}, {"GET", "/docs/a/b"}, {"GET", "/docs"}, {"POST", "/docs/a"}, {"GET", "/docs?x=1"},
		{"DELETE", "/items/3"}, {"PUT", "/items/3"}, {"GET", "/items/3"}, {"GET", "/items/new"}, {"POST", "/items/new"},
		{"PATCH", "/plain"}, {"GET", "/plain/"},
		{"GET", "//audit"}, {"GET", "/a/../audit"}, {"GET", "/./scans/1"}, {"GET", "/scans/1/."}, {"GET", "/api/./scans?x=y"},
		{"GET", "/nothing"}, {"OPTIONS", "/anything"},
	}
	for _, r := range requests {
		got, want := serve(ours, r.method, r.target), serve(std, r.method, r.target)
		if got != want {
			t.Errorf("%s %s: router %+v, ServeMux %+v", r.method, r.target, got, want)
		}
	}
}

// A redirect's Location is relative, so a browser that reached the handler under a prefix it
// never saw (API Gateway's /prod stage) stays under it.
func TestRedirectsKeepAPrefix(t *testing.T) {
	h := register(router.New())
	for _, tc := range []struct{ target, seen, want string }{
		{"/docs", "/prod/docs", "/prod/docs/"},
		{"//audit", "/prod//audit", "/prod/audit"},
		{"/api/./scans?x=y", "/prod/api/./scans?x=y", "/prod/api/scans?x=y"},
		{"/scans/1/.", "/prod/scans/1/.", "/prod/scans/1"},
		{"/a/../docs", "/prod/a/../docs", "/prod/docs/"},
		{"/a/b/../../docs/x/..", "/prod/a/b/../../docs/x/..", "/prod/docs/"},
		{"/docs?x=1", "/v1/prod/docs?x=1", "/v1/prod/docs/?x=1"},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.target, nil))
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusTemporaryRedirect || err != nil {
			t.Fatalf("%s: %d, Location %q", tc.target, rec.Code, rec.Header().Get("Location"))
		}
		// The browser's URL holds the prefix; resolve as it does, by RFC 3986 on the raw path.
		base := &url.URL{Scheme: "https", Host: "api.example"}
		base.Path, base.RawQuery, _ = strings.Cut(tc.seen, "?")
		if got := base.ResolveReference(loc).RequestURI(); got != tc.want {
			t.Errorf("%s seen as %s: Location %q leads to %s, want %s", tc.target, tc.seen, loc, got, tc.want)
		}
	}
}

// Allowed lists the methods routes take a path with, ignoring the routes for any method.
func TestAllowed(t *testing.T) {
	r := register(router.New()).(*router.Router)
	for path, want := range map[string]string{
		"/": "GET, HEAD, POST", "/api/scans": "POST", "/items/9": "DELETE, PUT", "/items/new": "DELETE, GET, HEAD, PUT",
		"/nothing": "", "/plain": "", "/api/scans/1": "GET, HEAD",
	} {
		if got := strings.Join(r.Allowed(path), ", "); got != want {
			t.Errorf("Allowed(%q) = %q, want %q", path, got, want)
		}
	}
}

// A pattern outside the subset, or one registered twice, stops the program at start.
func TestBadPatternsPanic(t *testing.T) {
	for _, p := range []string{"audit", "GET audit", "GET /a/{id}/b", "GET /a/{id}/", "GET /a/{x.y}", "GET /{a}{b}", "GET /a", "/api/"} {
		t.Run(p, func(t *testing.T) {
			r := router.New()
			r.Handle("GET /a", http.NotFoundHandler())
			r.Handle("/api/", http.NotFoundHandler())
			defer func() {
				if recover() == nil {
					t.Errorf("Handle(%q) did not panic", p)
				}
			}()
			r.Handle(p, http.NotFoundHandler())
		})
	}
}
