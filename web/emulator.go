package web

import (
	"net/http"

	"github.com/vulscan/vulscan/templates"
)

// emulatorBanner makes every page show that TCSS is the emulator at endpoint ("" leaves next
// as it is): a scan started against an emulator must never pass for a real one.
func emulatorBanner(endpoint string, next http.Handler) http.Handler {
	if endpoint == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(templates.WithEmulator(r.Context(), endpoint)))
	})
}
