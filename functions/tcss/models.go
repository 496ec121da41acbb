package tcss

import (
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
)

// The models below are declared field for field as Tencent's Go SDK declares them in
// tencentcloud/tcss/v20201101/models.go and tencentcloud/sts/v20180813/models.go (pointers, JSON
// tag = field name), because the typed modules are not available here. Only the actions vulscan
// calls are modelled: TCSS's two, and STS AssumeRole for RoleCredential.

// Service, version and actions of the TCSS API this package speaks.
const (
	service                   = "tcss"
	apiVersion                = "2020-11-01"
	ActionCreateVulScanTask   = "CreateVulScanTask"
	ActionDescribeVulScanInfo = "DescribeVulScanInfo"

	// STS AssumeRole, https://www.tencentcloud.com/document/product/598/35840.
	stsService       = "sts"
	stsVersion       = "2018-08-13"
	actionAssumeRole = "AssumeRole"
	// STS AssumeRoleWithWebIdentity, https://cloud.tencent.com/document/product/1312/61292.
	actionAssumeRoleWithWebIdentity = "AssumeRoleWithWebIdentity"
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

// assumeRoleRequest is the request of STS AssumeRole, with the fields vulscan sends (the SDK's
// also has Policy, ExternalId, Tags and SourceIdentity).
type assumeRoleRequest struct {
	*tchttp.BaseRequest
	RoleArn         *string `json:"RoleArn,omitempty" name:"RoleArn"`
	RoleSessionName *string `json:"RoleSessionName,omitempty" name:"RoleSessionName"`
	DurationSeconds *uint64 `json:"DurationSeconds,omitempty" name:"DurationSeconds"`
}

// assumeRoleWithWebIdentityRequest is the request of STS AssumeRoleWithWebIdentity; it is sent
// unsigned, the token being the proof. Its answer has AssumeRole's shape.
type assumeRoleWithWebIdentityRequest struct {
	*tchttp.BaseRequest
	ProviderId       *string `json:"ProviderId,omitempty" name:"ProviderId"`
	WebIdentityToken *string `json:"WebIdentityToken,omitempty" name:"WebIdentityToken"`
	RoleArn          *string `json:"RoleArn,omitempty" name:"RoleArn"`
	RoleSessionName  *string `json:"RoleSessionName,omitempty" name:"RoleSessionName"`
	DurationSeconds  *int64  `json:"DurationSeconds,omitempty" name:"DurationSeconds"`
}

// stsCredentials is the temporary key AssumeRole issues.
type stsCredentials struct {
	Token        *string `json:"Token,omitempty" name:"Token"`
	TmpSecretId  *string `json:"TmpSecretId,omitempty" name:"TmpSecretId"`
	TmpSecretKey *string `json:"TmpSecretKey,omitempty" name:"TmpSecretKey"`
}

// assumeRoleResponseParams is the Response object of AssumeRole.
type assumeRoleResponseParams struct {
	Credentials *stsCredentials `json:"Credentials,omitempty" name:"Credentials"`
	// Unix seconds.
	ExpiredTime *int64 `json:"ExpiredTime,omitempty" name:"ExpiredTime"`
	// ISO 8601 UTC, e.g. 2020-02-25T06:23:31Z.
	Expiration *string `json:"Expiration,omitempty" name:"Expiration"`
	RequestId  *string `json:"RequestId,omitempty" name:"RequestId"`
}

// assumeRoleResponse is the answer to AssumeRole.
type assumeRoleResponse struct {
	*tchttp.BaseResponse
	Response *assumeRoleResponseParams `json:"Response"`
}
