// Package router routes HTTP requests by method and path with the subset of http.ServeMux's
// patterns vulscan's pages use, matching as ServeMux does (the package's tests compare the two),
// without what ServeMux costs a function's cold start: ServeMux records the file and line of
// every pattern's registration (runtime.Caller, which reads the binary's line tables) and builds
// a general routing tree, for about 20 routes registered once per process.
//
// Patterns are "[METHOD ]PATH". PATH is a sequence of literal segments, and may end in a
// one-segment wildcard ("/scans/{id}", read with Request.PathValue), in "/{$}" (that path
// exactly), or in "/" (a subtree: every path below it). GET also matches HEAD; no method
// matches every method. A path with routes for other methods only is answered 405 with Allow, a
// path with none 404; a path that is not clean is redirected to its clean form, and /tree to
// /tree/ when only the subtree /tree/ would take it, as ServeMux does.
package router

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
)

// Router is an http.Handler; register every route with Handle before serving.
type Router struct {
	routes []*route
}

type route struct {
	pattern  string   // as registered, Request.Pattern
	method   string   // "" for any method
	segments []string // the literal segments; a wildcard's is its name
	wildcard bool     // the last segment is a wildcard
	subtree  bool     // the path ends in "/": it takes every path below it
	handler  http.Handler
}

// New returns a router without routes.
func New() *Router { return &Router{} }

// Handle registers handler for pattern. It panics on a pattern outside the package's subset or
// one registered twice, as ServeMux panics on a bad or conflicting pattern.
func (rt *Router) Handle(pattern string, handler http.Handler) {
	r, err := parse(pattern)
	if err != nil {
		panic(fmt.Sprintf("router: pattern %q: %v", pattern, err))
	}
	for _, o := range rt.routes {
		if o.method == r.method && o.subtree == r.subtree && o.wildcard == r.wildcard && slices.Equal(o.segments, r.segments) {
			panic(fmt.Sprintf("router: pattern %q registered twice (%q)", pattern, o.pattern))
		}
	}
	r.handler = handler
	rt.routes = append(rt.routes, r)
}

func parse(pattern string) (*route, error) {
	r := &route{pattern: pattern}
	p := pattern
	if method, rest, ok := strings.Cut(pattern, " "); ok {
		r.method, p = method, strings.TrimLeft(rest, " ")
		if method == "" || strings.ContainsAny(method, "/{}") {
			return nil, fmt.Errorf("bad method %q", method)
		}
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("the path does not start with /")
	}
	if strings.HasSuffix(p, "/{$}") {
		p = strings.TrimSuffix(p, "{$}") // "/a/{$}" takes "/a/" exactly: segments a and ""
	} else if strings.HasSuffix(p, "/") {
		r.subtree, p = true, strings.TrimSuffix(p, "/")
	}
	r.segments = strings.Split(p, "/")[1:]
	for i, s := range r.segments {
		if !strings.ContainsAny(s, "{}") {
			continue
		}
		if i != len(r.segments)-1 || r.subtree || len(s) < 3 || s[0] != '{' || s[len(s)-1] != '}' || strings.ContainsAny(s[1:len(s)-1], "{}.$") {
			return nil, fmt.Errorf("only a last segment may be a wildcard, {name}")
		}
		r.wildcard, r.segments[i] = true, s[1:len(s)-1]
	}
	if p == "" && r.subtree {
		r.segments = nil // "/" is the subtree of every path
	}
	return r, nil
}

// ServeHTTP routes req to the most specific route that takes its method and path.
func (rt *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.RequestURI == "*" {
		if req.ProtoAtLeast(1, 1) {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	escaped := req.URL.EscapedPath()
	clean := cleanPath(escaped)
	segments, ok := split(clean)
	if !ok {
		http.NotFound(w, req)
		return
	}
	r, value := rt.match(req.Method, segments)
	if (r == nil || r.subtree) && !strings.HasSuffix(clean, "/") {
		// /tree, taken by no route but a subtree above it, when /tree/ is a subtree: go there.
		withSlash := append(segments[:len(segments):len(segments)], "")
		if t, _ := rt.match(req.Method, withSlash); t != nil && t.subtree && len(t.segments) == len(segments) {
			redirect(w, req, clean+"/")
			return
		}
	}
	if clean != escaped {
		redirect(w, req, clean)
		return
	}
	if r == nil {
		if allow := rt.allowed(segments); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		http.NotFound(w, req)
		return
	}
	req.Pattern = r.pattern
	if r.wildcard {
		req.SetPathValue(r.segments[len(r.segments)-1], value)
	}
	r.handler.ServeHTTP(w, req)
}

// Allowed lists the methods that have a route taking path (GET's with HEAD), excluding the
// routes for any method, in ServeMux's order: for a 405's Allow header.
func (rt *Router) Allowed(escapedPath string) []string {
	segments, ok := split(cleanPath(escapedPath))
	if !ok {
		return nil
	}
	return rt.allowed(segments)
}

func (rt *Router) allowed(segments []string) []string {
	var methods []string
	for _, r := range rt.routes {
		if r.method != "" && r.takesPath(segments) {
			methods = append(methods, r.method)
			if r.method == http.MethodGet {
				methods = append(methods, http.MethodHead)
			}
		}
	}
	slices.Sort(methods)
	return slices.Compact(methods)
}

// match finds the most specific route for method and the path's unescaped segments: a route
// without a subtree before one with, literal before wildcard, a method before none, then the
// longest subtree; value is the wildcard's segment.
func (rt *Router) match(method string, segments []string) (best *route, value string) {
	for _, r := range rt.routes {
		if !r.takesMethod(method) || !r.takesPath(segments) {
			continue
		}
		if best == nil || r.moreSpecific(best) {
			best = r
		}
	}
	if best != nil && best.wildcard {
		value = segments[len(best.segments)-1]
	}
	return best, value
}

func (r *route) takesMethod(method string) bool {
	return r.method == "" || r.method == method || r.method == http.MethodGet && method == http.MethodHead
}

func (r *route) takesPath(segments []string) bool {
	if r.subtree {
		// /a/ takes /a/ and everything below: one more segment at least.
		if len(segments) <= len(r.segments) {
			return false
		}
	} else if len(segments) != len(r.segments) {
		return false
	}
	for i, s := range r.segments {
		if r.wildcard && i == len(r.segments)-1 {
			if segments[i] == "" {
				return false
			}
			continue
		}
		if segments[i] != s {
			return false
		}
	}
	return true
}

func (r *route) moreSpecific(than *route) bool {
	switch {
	case r.subtree != than.subtree:
		return !r.subtree
	case r.subtree && len(r.segments) != len(than.segments):
		return len(r.segments) > len(than.segments)
	case r.wildcard != than.wildcard:
		return !r.wildcard
	default:
		return r.method != "" && than.method == ""
	}
}

// split is the path's unescaped segments ("/a/b/" is a, b and ""); ok is false when a segment
// does not unescape.
func split(escapedPath string) (segments []string, ok bool) {
	segments = strings.Split(escapedPath, "/")[1:]
	for i, s := range segments {
		if strings.IndexByte(s, '%') < 0 {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segments[i] = u
	}
	return segments, true
}

// cleanPath is ServeMux's: the canonical path, with a leading slash and the trailing slash kept.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// redirect answers 307 to escapedPath with the request's query, as ServeMux does, but with a
// Location relative to the request's path: up to the handler's root ("../" for each directory
// the request's path goes down), then down to escapedPath.
func redirect(w http.ResponseWriter, req *http.Request, escapedPath string) {
	up := "./"
	if depth := directoryDepth(req.URL.EscapedPath()); depth > 0 {
		up = strings.Repeat("../", depth)
	}
	loc := up + strings.TrimPrefix(escapedPath, "/")
	if req.URL.RawQuery != "" {
		loc += "?" + req.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

// directoryDepth is how many directories below the root the directory of escapedPath is, once
// a client resolving a relative reference against it has removed its dot segments (RFC 3986
// 5.2): its last segment is not a directory, "." is none, ".." goes up one, and an empty
// segment ("//") is one.
func directoryDepth(escapedPath string) int {
	dir := escapedPath[:strings.LastIndex(escapedPath, "/")+1]
	depth := 0
	for _, seg := range strings.Split(strings.TrimPrefix(strings.TrimSuffix(dir, "/"), "/"), "/") {
		switch {
		case len(dir) <= 1 || seg == ".":
		case seg == "..":
			depth = max(0, depth-1)
		default:
			depth++
		}
	}
	return depth
}
