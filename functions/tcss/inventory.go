package tcss

import (
	"context"
	"fmt"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/vulscan/vulscan/functions/scan"
)

// TCSS's read-only asset lists, for the pickers. The models follow Tencent's SDKs for tcss
// 2020-11-01 (DescribeAssetImageListRequest, DescribeAssetImageRegistryListRequest,
// DescribeAssetClusterListRequest and their rows, as the Java, C++ and PHP SDKs and tccli's
// examples declare them); rows keep only the fields vulscan shows: JSON decoding drops the rest.
const (
	ActionDescribeAssetImageList         = "DescribeAssetImageList"
	ActionDescribeAssetImageRegistryList = "DescribeAssetImageRegistryList"
	ActionDescribeAssetClusterList       = "DescribeAssetClusterList"
)

// AssetFilters is one filter of an asset list. What ExactMatch means is not settled: Tencent's
// SDKs describe it as "whether to match fuzzily" (是否模糊查询, tencentcloud-sdk-go tcss/v20201101
// models.go, AssetFilters and RunTimeFilters), the reverse of its name, while Tencent's own
// Terraform provider sets it true to look one cluster up by its ID. Either way, a filter without it
// matches fuzzily (the name's false; ComplianceFilters' documented default, 默认为是), so vulscan's
// substring searches leave it out.
type AssetFilters struct {
	Name       *string   `json:"Name,omitempty" name:"Name"`
	Values     []*string `json:"Values,omitempty" name:"Values"`
	ExactMatch *bool     `json:"ExactMatch,omitempty" name:"ExactMatch"`
}

// assetListRequest is the paging, filtering and sorting every asset list takes.
type assetListRequest struct {
	*tchttp.BaseRequest
	// At most 100; TCSS's default is 10.
	Limit   *uint64         `json:"Limit,omitempty" name:"Limit"`
	Offset  *uint64         `json:"Offset,omitempty" name:"Offset"`
	Filters []*AssetFilters `json:"Filters,omitempty" name:"Filters"`
	By      *string         `json:"By,omitempty" name:"By"`
	Order   *string         `json:"Order,omitempty" name:"Order"`
}

// DescribeAssetImageListRequest lists local images. Filters: ImageName, ImageID, ScanStatus,
// SecurityRisk.
type DescribeAssetImageListRequest = assetListRequest

// DescribeAssetClusterListRequest lists clusters (the SDK types its filters RunTimeFilters, of
// the same shape).
type DescribeAssetClusterListRequest = assetListRequest

// DescribeAssetImageRegistryListRequest lists registry images; OnlyShowLatest keeps the newest
// image of each repository.
type DescribeAssetImageRegistryListRequest struct {
	assetListRequest
	OnlyShowLatest *bool `json:"OnlyShowLatest,omitempty" name:"OnlyShowLatest"`
}

// ImagesInfo is a row of DescribeAssetImageList.
type ImagesInfo struct {
	ImageID      *string `json:"ImageID,omitempty" name:"ImageID"`
	ImageName    *string `json:"ImageName,omitempty" name:"ImageName"`
	Size         *int64  `json:"Size,omitempty" name:"Size"`
	HostCnt      *int64  `json:"HostCnt,omitempty" name:"HostCnt"`
	ContainerCnt *int64  `json:"ContainerCnt,omitempty" name:"ContainerCnt"`
	VulCnt       *int64  `json:"VulCnt,omitempty" name:"VulCnt"`
	ScanStatus   *string `json:"ScanStatus,omitempty" name:"ScanStatus"`
}

// ImageRepoInfo is a row of DescribeAssetImageRegistryList.
type ImageRepoInfo struct {
	Id               *uint64 `json:"Id,omitempty" name:"Id"`
	ImageRepoAddress *string `json:"ImageRepoAddress,omitempty" name:"ImageRepoAddress"`
	ImageName        *string `json:"ImageName,omitempty" name:"ImageName"`
	ImageTag         *string `json:"ImageTag,omitempty" name:"ImageTag"`
	InstanceName     *string `json:"InstanceName,omitempty" name:"InstanceName"`
	ScanStatus       *string `json:"ScanStatus,omitempty" name:"ScanStatus"`
	VulCnt           *int64  `json:"VulCnt,omitempty" name:"VulCnt"`
	IsLatestImage    *bool   `json:"IsLatestImage,omitempty" name:"IsLatestImage"`
}

// ClusterInfoItem is a row of DescribeAssetClusterList (AssetClusterListItem in Tencent's SDKs:
// ClusterType is CT_TKE, CT_USER_CREATE or CT_TKE_SERVERLESS; Status CSR_RUNNING, CSR_EXCEPTION
// or CSR_DEL).
type ClusterInfoItem struct {
	ClusterID      *string `json:"ClusterID,omitempty" name:"ClusterID"`
	ClusterName    *string `json:"ClusterName,omitempty" name:"ClusterName"`
	ClusterType    *string `json:"ClusterType,omitempty" name:"ClusterType"`
	ClusterVersion *string `json:"ClusterVersion,omitempty" name:"ClusterVersion"`
	Status         *string `json:"Status,omitempty" name:"Status"`
}

// assetListResponse is the answer of an asset list: one page of rows and the total.
type assetListResponse[T any] struct {
	*tchttp.BaseResponse
	Response *struct {
		List       []*T    `json:"List,omitempty"`
		TotalCount *int64  `json:"TotalCount,omitempty"`
		RequestId  *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

// newAssetListRequest maps a query onto the paging and substring filters of an asset list
// (without ExactMatch, the one form both readings of it match fuzzily: see AssetFilters).
func newAssetListRequest(q scan.InventoryQuery, filters map[string]string) assetListRequest {
	limit := uint64(min(max(q.Limit, 1), scan.MaxInventoryPage))
	req := assetListRequest{Limit: &limit, Offset: nonZero(uint64(max(q.Offset, 0)))}
	for _, name := range []string{"ImageName", "ImageTag", "ImageRepoAddress", "ClusterName"} {
		if v := filters[name]; v != "" {
			req.Filters = append(req.Filters, &AssetFilters{Name: ptr(name), Values: []*string{ptr(v)}})
		}
	}
	return req
}

func ptr[T any](v T) *T { return &v }

// listAssets sends one asset-list request, paced and retried as every read-only call.
func listAssets[T any](ctx context.Context, c *Client, action string, req tchttp.Request, base **tchttp.BaseRequest) ([]*T, int64, error) {
	c.sdk().InitBaseRequest(base, service, apiVersion, action)
	resp := &assetListResponse[T]{}
	if err := c.call(ctx, action, req, resp, true); err != nil {
		return nil, 0, err
	}
	if resp.Response == nil {
		return nil, 0, fmt.Errorf("tcss %s: the answer has no Response object", action)
	}
	return resp.Response.List, deref(resp.Response.TotalCount), nil
}

// LocalImages is one page of DescribeAssetImageList, filtered by image name.
func (c *Client) LocalImages(ctx context.Context, q scan.InventoryQuery) (scan.Page[scan.LocalImage], error) {
	req := newAssetListRequest(q, map[string]string{"ImageName": q.Name})
	rows, total, err := listAssets[ImagesInfo](ctx, c, ActionDescribeAssetImageList, &req, &req.BaseRequest)
	page := scan.Page[scan.LocalImage]{Total: total}
	for _, r := range rows {
		page.Items = append(page.Items, scan.LocalImage{ID: deref(r.ImageID), Name: deref(r.ImageName), Size: deref(r.Size),
			Hosts: deref(r.HostCnt), Containers: deref(r.ContainerCnt), ScanStatus: deref(r.ScanStatus), Vulns: deref(r.VulCnt)})
	}
	return page, err
}

// RegistryImages is one page of DescribeAssetImageRegistryList, filtered by name, tag and
// repository address.
func (c *Client) RegistryImages(ctx context.Context, q scan.InventoryQuery) (scan.Page[scan.RegistryImage], error) {
	req := DescribeAssetImageRegistryListRequest{assetListRequest: newAssetListRequest(q, map[string]string{
		"ImageName": q.Name, "ImageTag": q.Tag, "ImageRepoAddress": q.Registry})}
	rows, total, err := listAssets[ImageRepoInfo](ctx, c, ActionDescribeAssetImageRegistryList, &req, &req.BaseRequest)
	page := scan.Page[scan.RegistryImage]{Total: total}
	for _, r := range rows {
		page.Items = append(page.Items, scan.RegistryImage{ID: deref(r.Id), Repository: deref(r.ImageRepoAddress),
			Name: deref(r.ImageName), Tag: deref(r.ImageTag), Registry: deref(r.InstanceName),
			ScanStatus: deref(r.ScanStatus), Vulns: deref(r.VulCnt), Latest: deref(r.IsLatestImage)})
	}
	return page, err
}

// Clusters is one page of DescribeAssetClusterList, filtered by cluster name.
func (c *Client) Clusters(ctx context.Context, q scan.InventoryQuery) (scan.Page[scan.Cluster], error) {
	req := newAssetListRequest(q, map[string]string{"ClusterName": q.Name})
	rows, total, err := listAssets[ClusterInfoItem](ctx, c, ActionDescribeAssetClusterList, &req, &req.BaseRequest)
	page := scan.Page[scan.Cluster]{Total: total}
	for _, r := range rows {
		page.Items = append(page.Items, scan.Cluster{ID: deref(r.ClusterID), Name: deref(r.ClusterName),
			Type: deref(r.ClusterType), Version: deref(r.ClusterVersion), Status: deref(r.Status)})
	}
	return page, err
}

// ActionDescribeVulScanLocalImageList lists the local images of a scan task with their
// vulnerabilities by severity (tccli's example: TaskID in; rows of ImageID, ImageName,
// CriticalLevelVulCount, HighLevelVulCount, MediumLevelVulCount, LowLevelVulCount, …).
const ActionDescribeVulScanLocalImageList = "DescribeVulScanLocalImageList"

// maxSeverityPages bounds the pages read for one breakdown (100 images a page).
const maxSeverityPages = 10

// DescribeVulScanLocalImageListRequest is one page of a local scan task's images.
type DescribeVulScanLocalImageListRequest struct {
	assetListRequest
	TaskID *int64 `json:"TaskID,omitempty" name:"TaskID"`
}

// VulScanImageInfo is a row of DescribeVulScanLocalImageList.
type VulScanImageInfo struct {
	ImageID               *string `json:"ImageID,omitempty" name:"ImageID"`
	CriticalLevelVulCount *int64  `json:"CriticalLevelVulCount,omitempty" name:"CriticalLevelVulCount"`
	HighLevelVulCount     *int64  `json:"HighLevelVulCount,omitempty" name:"HighLevelVulCount"`
	MediumLevelVulCount   *int64  `json:"MediumLevelVulCount,omitempty" name:"MediumLevelVulCount"`
	LowLevelVulCount      *int64  `json:"LowLevelVulCount,omitempty" name:"LowLevelVulCount"`
}

// LocalVulSeverities adds up a local scan task's vulnerabilities by severity, over at most
// maxSeverityPages pages of its images (Partial says when there were more).
func (c *Client) LocalVulSeverities(ctx context.Context, taskID int64) (scan.Severities, error) {
	var sev scan.Severities
	for page := range maxSeverityPages {
		req := DescribeVulScanLocalImageListRequest{
			assetListRequest: newAssetListRequest(scan.InventoryQuery{Offset: page * scan.MaxInventoryPage, Limit: scan.MaxInventoryPage}, nil),
			TaskID:           &taskID,
		}
		rows, total, err := listAssets[VulScanImageInfo](ctx, c, ActionDescribeVulScanLocalImageList, &req, &req.BaseRequest)
		if err != nil {
			return scan.Severities{}, err
		}
		for _, r := range rows {
			sev.Critical += deref(r.CriticalLevelVulCount)
			sev.High += deref(r.HighLevelVulCount)
			sev.Medium += deref(r.MediumLevelVulCount)
			sev.Low += deref(r.LowLevelVulCount)
			sev.Images++
		}
		if len(rows) == 0 || sev.Images >= total {
			return sev, nil
		}
	}
	sev.Partial = true
	return sev, nil
}
