package scan

// Request is every input of TCSS CreateVulScanTask (API 2020-11-01), named as the API names them,
// so that the JSON API, the timer argument and the audit record all speak the API's language.
// Zero values mean "not given": TCSS treats an absent filter and a false one alike, and task IDs
// start at 1.
type Request struct {
	// LocalImageScanType: ALL, NOT_SCAN (authorized, never scanned), IMAGEIDS or CLUSTER.
	LocalImageScanType string `json:"LocalImageScanType,omitempty"`
	// LocalImageIDs: local image IDs (sha256:<64 hex>), with IMAGEIDS.
	LocalImageIDs []string `json:"LocalImageIDs,omitempty"`
	// RegistryImageScanType: ALL, NOT_SCAN or IMAGEIDS.
	RegistryImageScanType string `json:"RegistryImageScanType,omitempty"`
	// RegistryImageIDs: numeric registry image IDs, with IMAGEIDS.
	RegistryImageIDs []uint64 `json:"RegistryImageIDs,omitempty"`
	// LocalTaskID re-runs the local-image scan task with this ID.
	LocalTaskID int64 `json:"LocalTaskID,omitempty"`
	// RegistryTaskID re-runs the registry-image scan task with this ID.
	RegistryTaskID int64 `json:"RegistryTaskID,omitempty"`
	// LocalImageContainerRunning: only local images with a running container.
	LocalImageContainerRunning bool `json:"LocalImageContainerRunning,omitempty"`
	// RegistryImageContainerRunning: only registry images with a running container.
	RegistryImageContainerRunning bool `json:"RegistryImageContainerRunning,omitempty"`
	// IsLatest: only the latest version of each registry image.
	IsLatest bool `json:"IsLatest,omitempty"`
	// ExcludeLocalImageIDs: local image IDs to leave out of a broad local scope.
	ExcludeLocalImageIDs []string `json:"ExcludeLocalImageIDs,omitempty"`
	// ExcludeRegistryImageIDs: registry image IDs to leave out of a broad registry scope.
	ExcludeRegistryImageIDs []uint64 `json:"ExcludeRegistryImageIDs,omitempty"`
	// LocalClusterIDs: cluster IDs (cls-xxxxxxxx), with CLUSTER.
	LocalClusterIDs []string `json:"LocalClusterIDs,omitempty"`
}
