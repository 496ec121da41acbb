package templates

// StaticVersion names this build's static files (package web sets it): pages link each one as
// static/NAME?v=VERSION, so that a browser never uses a copy it kept from another release.
var StaticVersion = func() string { return "" }

// staticURL is the link to the static file name from a page whose base is base.
func staticURL(base, name string) string {
	if v := StaticVersion(); v != "" {
		return base + "static/" + name + "?v=" + v
	}
	return base + "static/" + name
}
