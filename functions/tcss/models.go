package tcss

import (
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
)

// The models below are declared field for field as Tencent's Go SDK declares them in
// tencentcloud/tcss/v20201101/models.go (pointers, JSON tag = field name), because the typed tcss
// module is not available here. Only the two actions vulscan calls are modelled.

// Service, version and actions of the TCSS API this package speaks.
const (
	service                   = "tcss"
	apiVersion                = "2020-11-01"
	ActionCreateVulScanTask   = "CreateVulScanTask"
	ActionDescribeVulScanInfo = "DescribeVulScanInfo"
)

// CreateVulScanTaskRequest is the request of CreateVulScanTask. The action has no ClientToken:
// sending it twice may start two scans.
type CreateVulScanTaskRequest struct {
	*tchttp.BaseRequest

	// ALL, NOT_SCAN, IMAGEIDS or CLUSTER.
	LocalImageScanType *string `json:"LocalImageScanType,omitempty" name:"LocalImageScanType"`
	// Local image IDs; take precedence over condition-based selection.
	LocalImageIDs []*string `json:"LocalImageIDs,omitempty" name:"LocalImageIDs"`
	// ALL, NOT_SCAN or IMAGEIDS.
	RegistryImageScanType *string `json:"RegistryImageScanType,omitempty" name:"RegistryImageScanType"`
	// Registry image list IDs.
	RegistryImageIDs []*uint64 `json:"RegistryImageIDs,omitempty" name:"RegistryImageIDs"`
	// Re-run the local-image scan task with this ID.
	LocalTaskID *int64 `json:"LocalTaskID,omitempty" name:"LocalTaskID"`
	// Re-run the registry-image scan task with this ID.
	RegistryTaskID *int64 `json:"RegistryTaskID,omitempty" name:"RegistryTaskID"`
	// Only local images with a running container.
	LocalImageContainerRunning *bool `json:"LocalImageContainerRunning,omitempty" name:"LocalImageContainerRunning"`
	// Only registry images with a running container.
	RegistryImageContainerRunning *bool `json:"RegistryImageContainerRunning,omitempty" name:"RegistryImageContainerRunning"`
	// Only the latest version of each registry image.
	IsLatest *bool `json:"IsLatest,omitempty" name:"IsLatest"`
	// Local image IDs to leave out.
	ExcludeLocalImageIDs []*string `json:"ExcludeLocalImageIDs,omitempty" name:"ExcludeLocalImageIDs"`
	// Registry image IDs to leave out.
	ExcludeRegistryImageIDs []*uint64 `json:"ExcludeRegistryImageIDs,omitempty" name:"ExcludeRegistryImageIDs"`
	// Cluster IDs, with CLUSTER.
	LocalClusterIDs []*string `json:"LocalClusterIDs,omitempty" name:"LocalClusterIDs"`
}

// CreateVulScanTaskResponseParams is the Response object of CreateVulScanTask.
type CreateVulScanTaskResponseParams struct {
	LocalTaskID    *int64  `json:"LocalTaskID,omitempty" name:"LocalTaskID"`
	RegistryTaskID *int64  `json:"RegistryTaskID,omitempty" name:"RegistryTaskID"`
	RequestId      *string `json:"RequestId,omitempty" name:"RequestId"`
}

// CreateVulScanTaskResponse is the answer to CreateVulScanTask.
type CreateVulScanTaskResponse struct {
	*tchttp.BaseResponse
	Response *CreateVulScanTaskResponseParams `json:"Response"`
}

// DescribeVulScanInfoRequest is the request of DescribeVulScanInfo; omitted IDs mean the latest
// task.
type DescribeVulScanInfoRequest struct {
	*tchttp.BaseRequest

	LocalTaskID    *int64 `json:"LocalTaskID,omitempty" name:"LocalTaskID"`
	RegistryTaskID *int64 `json:"RegistryTaskID,omitempty" name:"RegistryTaskID"`
}

// DescribeVulScanInfoResponseParams is the Response object of DescribeVulScanInfo.
type DescribeVulScanInfoResponseParams struct {
	LocalImageScanCount    *int64   `json:"LocalImageScanCount,omitempty" name:"LocalImageScanCount"`
	IgnoreVulCount         *int64   `json:"IgnoreVulCount,omitempty" name:"IgnoreVulCount"`
	ScanStartTime          *string  `json:"ScanStartTime,omitempty" name:"ScanStartTime"`
	ScanEndTime            *string  `json:"ScanEndTime,omitempty" name:"ScanEndTime"`
	FoundRiskImageCount    *int64   `json:"FoundRiskImageCount,omitempty" name:"FoundRiskImageCount"`
	FoundVulCount          *int64   `json:"FoundVulCount,omitempty" name:"FoundVulCount"`
	ScanProgress           *float64 `json:"ScanProgress,omitempty" name:"ScanProgress"`
	RegistryImageScanCount *int64   `json:"RegistryImageScanCount,omitempty" name:"RegistryImageScanCount"`
	LocalTaskID            *int64   `json:"LocalTaskID,omitempty" name:"LocalTaskID"`
	// NOT_SCAN, SCANNING, SCANNED or CANCELED.
	Status *string `json:"Status,omitempty" name:"Status"`
	// Seconds.
	RemainingTime         *float64 `json:"RemainingTime,omitempty" name:"RemainingTime"`
	RegistryTaskID        *int64   `json:"RegistryTaskID,omitempty" name:"RegistryTaskID"`
	RegistryFoundVulCount *int64   `json:"RegistryFoundVulCount,omitempty" name:"RegistryFoundVulCount"`
	RequestId             *string  `json:"RequestId,omitempty" name:"RequestId"`
}

// DescribeVulScanInfoResponse is the answer to DescribeVulScanInfo.
type DescribeVulScanInfoResponse struct {
	*tchttp.BaseResponse
	Response *DescribeVulScanInfoResponseParams `json:"Response"`
}
