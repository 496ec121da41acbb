package web

import (
	"embed"
	"net/http"
)

//go:embed static/style.css
var staticFiles embed.FS

// serveStylesheet serves the embedded stylesheet. It is the only static file, so there is no
// file server and no directory listing.
func serveStylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(w, r, staticFiles, "static/style.css")
}
