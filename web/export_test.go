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

// StaticVersion and VersionOf expose the static files' version to the tests.
var (
	StaticVersion = staticVersion
	VersionOf     = versionOf
)

// SetMaxScannedPerPage lowers the bound of the records one audit page filtered several ways
// reads, for one test.
func SetMaxScannedPerPage(t testing.TB, n int) {
	old := maxScannedPerPage
	maxScannedPerPage = n
	t.Cleanup(func() { maxScannedPerPage = old })
}
