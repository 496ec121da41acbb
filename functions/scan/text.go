package scan

import "strings"

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
