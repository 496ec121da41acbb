package web

import (
	"embed"
	"net/http"
)

//go:embed static/style.css static/live.js static/favicon.svg
var staticFiles embed.FS

// serveStatic serves one embedded file. Each file has its own route, so there is no file server
// and no directory listing.
func serveStatic(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, staticFiles, name)
	})
}
