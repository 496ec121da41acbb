package web

import (
	"embed"
	"fmt"
	"hash/crc32"
	"io/fs"
	"net/http"
	"sync"

	"github.com/vulscan/vulscan/templates"
)

//go:embed static/style.css static/live.js static/favicon.svg
var staticFiles embed.FS

// staticVersion names this build's static files: the pages link them as static/NAME?v=VERSION,
// so that a new release's pages load its own stylesheet and script, never a copy a browser kept
// from the release before. Computed on first use: every page needs it, a start does not.
var staticVersion = sync.OnceValue(func() string { return versionOf(staticFiles) })

func init() { templates.StaticVersion = staticVersion }

// versionOf is a checksum of every file in fsys, by name and content: CRC-32C, which the CPU
// computes (a SHA-256 took 56 us here, on every instance's first page), and which tells one
// release's files from another's as surely as a cache key needs.
func versionOf(fsys fs.FS) string {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path + "\x00"))
		h.Write(data)
		return nil
	})
	if err != nil {
		panic("web: reading the embedded static files: " + err.Error()) // embedded at build time
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// serveStatic serves one embedded file. Each file has its own route, so there is no file server
// and no directory listing. A URL naming this build's version (what the pages link) is kept by
// browsers for a year, unchanged; any other (a bare URL, a page from another release) must be
// asked for again each time.
func serveStatic(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cache := "no-cache"
		if r.URL.Query().Get("v") == staticVersion() {
			cache = "public, max-age=31536000, immutable"
		}
		w.Header().Set("Cache-Control", cache)
		http.ServeFileFS(w, r, staticFiles, name)
	})
}
