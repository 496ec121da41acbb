package web

import (
	_ "embed"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vulscan/vulscan/templates"
)

// The static files, embedded as strings: serving one and computing their version read the
// program's own read-only data, with no copy made.
var (
	//go:embed static/style.css
	styleCSS string
	//go:embed static/live.js
	liveJS string
	//go:embed static/favicon.svg
	faviconSVG string
)

// staticFile is one embedded file and the name its URL and its Content-Type come from.
type staticFile struct{ name, content string }

var staticFiles = []staticFile{
	{"style.css", styleCSS},
	{"live.js", liveJS},
	{"favicon.svg", faviconSVG},
}

// staticVersion names this build's static files: the pages link them as static/NAME?v=VERSION,
// so that a new release's pages load its own stylesheet and script, never a copy a browser kept
// from the release before. Computed on first use: every page needs it, a start does not.
var staticVersion = sync.OnceValue(func() string { return versionOf(staticFiles) })

func init() { templates.StaticVersion = staticVersion }

// versionOf is a checksum of every file, by name and content: 64-bit FNV-1a, computed in place
// over the embedded bytes. It tells one release's files from another's as surely as a cache key
// needs, and costs a function's first page no tables, copies or allocations (a CRC-32C over
// fs.ReadFile copies touched a dozen fresh memory pages on every cold start).
func versionOf(files []staticFile) string {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
	}
	for _, f := range files {
		add(f.name)
		add("\x00")
		add(strconv.Itoa(len(f.content)))
		add("\x00")
		add(f.content)
	}
	const digits = "0123456789abcdef"
	var hex [16]byte
	for i := len(hex) - 1; i >= 0; i-- {
		hex[i], h = digits[h&15], h>>4
	}
	return string(hex[:])
}

// serveStatic serves one embedded file. Each file has its own route, so there is no file server
// and no directory listing. A URL naming this build's version (what the pages link) is kept by
// browsers for a year, unchanged; any other (a bare URL, a page from another release) must be
// asked for again each time.
func serveStatic(name string) http.Handler {
	var content string
	for _, f := range staticFiles {
		if f.name == name {
			content = f.content
		}
	}
	if content == "" {
		panic("web: no embedded static file " + name) // the routes name embedded files
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cache := "no-cache"
		if r.URL.Query().Get("v") == staticVersion() {
			cache = "public, max-age=31536000, immutable"
		}
		w.Header().Set("Cache-Control", cache)
		http.ServeContent(w, r, name, time.Time{}, strings.NewReader(content))
	})
}
