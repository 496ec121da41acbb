package scan

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Shorten cuts s to at most max bytes of valid UTF-8 and marks a cut with "…": for quoting
// untrusted input in messages and logs, which must stay readable and bounded whatever a caller
// sent.
func Shorten(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return clip(s, max) + "…"
}

// clip bounds s to n bytes of valid UTF-8 (a rune split by the cut, or any invalid byte, is
// dropped), for fields stored in the audit log.
func clip(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// maxErrorTextLen bounds the error code and message a record keeps (TCSS's or ours).
const maxErrorTextLen = 2048

// Clean is the one rule for caller- and upstream-supplied text before it is stored: bytes that
// are not UTF-8 become U+FFFD, control characters (C0 with NUL, CR, LF and TAB, DEL, C1) are
// written as escapes (\x00, \u0085), and the result is cut to n bytes. A record then holds only
// printable text: no NUL for PostgreSQL to refuse, no line breaks to forge lines in an export
// or a log, on every store alike.
func Clean(s string, n int) string {
	if !needsCleaning(s) {
		return clip(s, n)
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r < 0x80 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		if b.Len() > n {
			break
		}
	}
	return clip(b.String(), n)
}

// needsCleaning reports whether s holds invalid UTF-8 or a control character.
func needsCleaning(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0
}
