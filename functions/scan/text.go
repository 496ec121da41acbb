package scan

import (
	"strings"
	"unicode/utf8"

	"github.com/vulscan/vulscan/functions/audit"
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

// Clean is the one rule for caller- and upstream-supplied text before it is stored
// (audit.EscapeControls), cut to n bytes: a record then holds only printable text, with no NUL
// for PostgreSQL to refuse and no line breaks to forge lines in an export or a log, on every
// store alike.
func Clean(s string, n int) string {
	// Escaping only lengthens text, so the first n bytes of the result come from the first n
	// bytes of s; the margin keeps a rune split by this cut out of what clip keeps.
	if len(s) > n+utf8.UTFMax {
		s = s[:n+utf8.UTFMax]
	}
	return clip(audit.EscapeControls(s), n)
}
