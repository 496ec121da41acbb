package web

import (
	"testing"
	"time"
)

// SetPickerTimeout shortens the bound of a picker's calls to TCSS for one test.
func SetPickerTimeout(t testing.TB, d time.Duration) {
	old := pickerTimeout
	pickerTimeout = d
	t.Cleanup(func() { pickerTimeout = old })
}

// StaticVersion exposes the static files' version to the tests.
var StaticVersion = staticVersion

// VersionOf is the version of the files given as name, content pairs, in order.
func VersionOf(pairs ...string) string {
	var files []staticFile
	for i := 0; i+1 < len(pairs); i += 2 {
		files = append(files, staticFile{pairs[i], pairs[i+1]})
	}
	return versionOf(files)
}

// SetMaxScannedPerPage lowers the bound of the records one audit page filtered several ways
// reads, for one test.
func SetMaxScannedPerPage(t testing.TB, n int) {
	old := maxScannedPerPage
	maxScannedPerPage = n
	t.Cleanup(func() { maxScannedPerPage = old })
}
