package web_test

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/web"
)

// Pages link each static file under this build's version, which a browser may keep for a year;
// any other URL of the file must be asked for again, so that a page from another release never
// runs with this one's script or stylesheet.
func TestStaticFilesAreLinkedByVersion(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/"))
	version := web.StaticVersion()
	if len(version) != 16 || strings.Trim(version, "0123456789abcdef") != "" {
		t.Fatalf("static version %q, want 16 hex digits", version)
	}
	links := map[string]string{
		"stylesheet": doc.Find(`link[rel=stylesheet]`).AttrOr("href", ""),
		"icon":       doc.Find(`link[rel=icon]`).AttrOr("href", ""),
	}
	page, _ := url.Parse("http://vulscan.test/")
	for name, href := range links {
		ref, err := url.Parse(href)
		if err != nil || !strings.HasPrefix(page.ResolveReference(ref).Path, "/static/") || ref.RawQuery != "v="+version {
			t.Errorf("%s linked as %q, want static/…?v=%s", name, href, version)
			continue
		}
		links[name] = page.ResolveReference(ref).RequestURI()
	}
	if t.Failed() {
		return
	}
	tests := []struct {
		target, cache, contentType string
	}{
		{links["stylesheet"], "public, max-age=31536000, immutable", "text/css; charset=utf-8"},
		{links["icon"], "public, max-age=31536000, immutable", "image/svg+xml"},
		{"/static/live.js?v=" + version, "public, max-age=31536000, immutable", "text/javascript; charset=utf-8"},
		{"/static/style.css", "no-cache", "text/css; charset=utf-8"},
		{"/static/style.css?v=01234567", "no-cache", "text/css; charset=utf-8"},
		{"/favicon.ico", "no-cache", "image/svg+xml"},
	}
	for _, tt := range tests {
		resp := h.get(tt.target)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", tt.target, resp.StatusCode)
		}
		if got := resp.Header.Get("Cache-Control"); got != tt.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tt.target, got, tt.cache)
		}
		if got := resp.Header.Get("Content-Type"); got != tt.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.target, got, tt.contentType)
		}
	}
}

func TestStaticVersionFollowsTheFiles(t *testing.T) {
	base := []string{"style.css", "body{}", "live.js", "1"}
	tests := []struct {
		name  string
		files []string
		same  bool
	}{
		{"the same files", []string{"style.css", "body{}", "live.js", "1"}, true},
		{"a file changed", []string{"style.css", "body{ }", "live.js", "1"}, false},
		{"a file renamed", []string{"site.css", "body{}", "live.js", "1"}, false},
		{"content moved between files", []string{"style.css", "body{}1", "live.js", ""}, false},
		{"content moved into a name", []string{"style.css1", "body{}", "live.js", ""}, false},
		{"a file added", []string{"style.css", "body{}", "live.js", "1", "a.svg", ""}, false},
	}
	for _, tt := range tests {
		if got := web.VersionOf(tt.files...) == web.VersionOf(base...); got != tt.same {
			t.Errorf("%s: same version %v, want %v", tt.name, got, tt.same)
		}
	}
}

// Each route serves its embedded file, byte for byte.
func TestStaticFilesServeTheirContent(t *testing.T) {
	h := newHarness(t)
	for target, file := range map[string]string{
		"/static/style.css":   "static/style.css",
		"/static/live.js":     "static/live.js",
		"/static/favicon.svg": "static/favicon.svg",
		"/favicon.ico":        "static/favicon.svg",
	} {
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := body(t, h.get(target)); got != string(want) {
			t.Errorf("GET %s: %d bytes, want the %d of %s", target, len(got), len(want), file)
		}
	}
}
