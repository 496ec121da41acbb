package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vulscan/vulscan/web"
)

// Pages link each static file under this build's version, which a browser may keep for a year;
// any other URL of the file must be asked for again, so that a page from another release never
// runs with this one's script or stylesheet.
func TestStaticFilesAreLinkedByVersion(t *testing.T) {
	h := newHarness(t)
	doc := document(t, h.get("/"))
	version := web.StaticVersion()
	if len(version) != 8 {
		t.Fatalf("static version %q, want 8 hex digits", version)
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
		target, cache string
	}{
		{links["stylesheet"], "public, max-age=31536000, immutable"},
		{links["icon"], "public, max-age=31536000, immutable"},
		{"/static/live.js?v=" + version, "public, max-age=31536000, immutable"},
		{"/static/style.css", "no-cache"},
		{"/static/style.css?v=01234567", "no-cache"},
		{"/favicon.ico", "no-cache"},
	}
	for _, tt := range tests {
		resp := h.get(tt.target)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d", tt.target, resp.StatusCode)
		}
		if got := resp.Header.Get("Cache-Control"); got != tt.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", tt.target, got, tt.cache)
		}
	}
}

func TestStaticVersionFollowsTheFiles(t *testing.T) {
	base := fstest.MapFS{"static/style.css": {Data: []byte("body{}")}, "static/live.js": {Data: []byte("1")}}
	tests := []struct {
		name string
		fsys fstest.MapFS
		same bool
	}{
		{"the same files", fstest.MapFS{"static/style.css": {Data: []byte("body{}")}, "static/live.js": {Data: []byte("1")}}, true},
		{"a file changed", fstest.MapFS{"static/style.css": {Data: []byte("body{ }")}, "static/live.js": {Data: []byte("1")}}, false},
		{"a file renamed", fstest.MapFS{"static/site.css": {Data: []byte("body{}")}, "static/live.js": {Data: []byte("1")}}, false},
		{"content moved between files", fstest.MapFS{"static/style.css": {Data: []byte("body{}1")}, "static/live.js": {Data: []byte("")}}, false},
	}
	for _, tt := range tests {
		if got := web.VersionOf(tt.fsys) == web.VersionOf(base); got != tt.same {
			t.Errorf("%s: same version %v, want %v", tt.name, got, tt.same)
		}
	}
}
