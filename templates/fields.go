package templates

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// scopeChoice is one radio button of a scan-type group.
type scopeChoice struct {
	Value string // "" for "no scan on this side"
	Label string
	Hint  string
}

// The scope choices of each side, with what TCSS does for each (Tencent's docs, in our words).
var (
	localScopes = []scopeChoice{
		{"", "None", "Leave local images out of this scan."},
		{"ALL", "All local images", "Every local image on the hosts TCSS protects."},
		{"NOT_SCAN", "Not yet scanned", "Authorized local images that have never been scanned."},
		{"IMAGEIDS", "Listed images", "Only the local image IDs listed below."},
		{"CLUSTER", "Listed clusters", "Local images in the TKE clusters listed below."},
	}
	registryScopes = []scopeChoice{
		{"", "None", "Leave registry images out of this scan."},
		{"ALL", "All registry images", "Every image in the registries TCSS is connected to."},
		{"NOT_SCAN", "Not yet scanned", "Authorized registry images that have never been scanned."},
		{"IMAGEIDS", "Listed images", "Only the registry image IDs listed below."},
	}
)

// radioID is the id of a scope radio button. The first choice carries the field's own name, so
// that the error summary's link (#LocalImageScanType) lands on the group.
func radioID(field, value string) string {
	if value == "" {
		return field
	}
	return field + "-" + value
}

// choiceHintID is the id of a scope choice's explanation.
func choiceHintID(field, value string) string {
	if value == "" {
		value = "none"
	}
	return field + "-" + value + "-hint"
}

// describedBy lists the ids that describe a field: its hint, and its error when it has one.
func describedBy(field, errMsg string) string {
	if errMsg == "" {
		return field + "-hint"
	}
	return field + "-hint " + field + "-error"
}

// knownFields are the fields the form shows; errors of other fields are listed without a link.
var knownFields = map[string]bool{
	"LocalImageScanType": true, "LocalImageIDs": true, "LocalClusterIDs": true,
	"ExcludeLocalImageIDs": true, "LocalImageContainerRunning": true, "LocalTaskID": true,
	"RegistryImageScanType": true, "RegistryImageIDs": true, "ExcludeRegistryImageIDs": true,
	"RegistryImageContainerRunning": true, "IsLatest": true, "RegistryTaskID": true,
}

// fieldLabels name fields as the form labels them, in the error summary and inside messages.
var fieldLabels = map[string]string{
	"LocalImageScanType":            "Which local images to scan",
	"LocalImageIDs":                 "Local image IDs",
	"LocalClusterIDs":               "Cluster IDs",
	"ExcludeLocalImageIDs":          "Local images to leave out",
	"LocalImageContainerRunning":    "Local images: only images with a running container",
	"LocalTaskID":                   "Re-run local task",
	"RegistryImageScanType":         "Which registry images to scan",
	"RegistryImageIDs":              "Registry image IDs",
	"ExcludeRegistryImageIDs":       "Registry images to leave out",
	"RegistryImageContainerRunning": "Registry images: only images with a running container",
	"IsLatest":                      "Only the latest version of each image",
	"RegistryTaskID":                "Re-run registry task",
	"IdempotencyKey":                "Form key",
}

// scopeLabels name the scan types as the form's choices do (for either side).
var scopeLabels = map[string]string{
	"ALL":      "All images",
	"NOT_SCAN": "Not yet scanned",
	"IMAGEIDS": "Listed images",
	"CLUSTER":  "Listed clusters",
}

// summaryLabel is how the error summary names a field.
func summaryLabel(field string) string {
	if l, ok := fieldLabels[field]; ok {
		return l
	}
	return field
}

// apiWords matches the API's field names and scan types inside a validation message. It compiles
// on first use: only a form with errors needs it, and at package initialisation it cost every
// cold start about 0.1 ms.
var apiWords = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\b(` + strings.Join(slices.Concat(slices.Collect(maps.Keys(fieldLabels)), slices.Collect(maps.Keys(scopeLabels))), "|") + `)\b`)
})

// formWords rewrites a validation message, written with the API's names for the API and the
// CLI, in the words of the form: "when LocalImageScanType is IMAGEIDS" becomes
// "when “Which local images to scan” is “Listed images”".
func formWords(msg string) string {
	return apiWords().ReplaceAllStringFunc(msg, func(w string) string {
		if l, ok := fieldLabels[w]; ok {
			return "“" + l + "”"
		}
		return "“" + scopeLabels[w] + "”"
	})
}
