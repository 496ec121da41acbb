package tcsstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// The emulator's seeded asset inventory: what TCSS would list for an account with a few hosts,
// two registries and a handful of clusters, so that the pickers work locally and in tests. It is
// the same in every emulator, and the IDs are stable.

// LocalImageRow, RegistryImageRow and ClusterRow are the seeded rows, as the list actions answer
// them (the fields vulscan reads, named as TCSS names them).
type LocalImageRow struct {
	ImageID      string
	ImageName    string
	Size         int64
	HostCnt      int64
	ContainerCnt int64
	VulCnt       int64
	ScanStatus   string
}

type RegistryImageRow struct {
	Id               uint64
	ImageRepoAddress string
	ImageName        string
	ImageTag         string
	InstanceName     string
	ScanStatus       string
	VulCnt           int64
	IsLatestImage    bool
}

type ClusterRow struct {
	ClusterID      string
	ClusterName    string
	ClusterType    string
	ClusterVersion string
	Status         string
}

// FirstRegistryImageID is the numeric ID of the first seeded registry image; the others follow.
const FirstRegistryImageID = 1001

var (
	seedRepos    = []string{"nginx", "redis", "postgres", "payments-api", "checkout-web", "batch-worker", "auth-service"}
	seedTags     = []string{"1.0.0", "1.1.0", "latest"}
	seedStatuses = []string{"SCANNED", "NOT_SCAN", "SCANNED", "SCAN_ERR"}
)

// LocalImages is the seeded local image inventory (21 images).
func LocalImages() []LocalImageRow {
	var rows []LocalImageRow
	for i, repo := range seedRepos {
		for j, tag := range seedTags {
			n := i*len(seedTags) + j
			sum := sha256.Sum256([]byte(repo + ":" + tag))
			rows = append(rows, LocalImageRow{
				ImageID: "sha256:" + hex.EncodeToString(sum[:]), ImageName: repo + ":" + tag,
				Size: int64(20+n*7) << 20, HostCnt: int64(1 + n%4), ContainerCnt: int64(n % 3),
				VulCnt: int64(n * 3 % 17), ScanStatus: seedStatuses[n%len(seedStatuses)],
			})
		}
	}
	return rows
}

// RegistryImages is the seeded registry image inventory (42 images in two registries).
func RegistryImages() []RegistryImageRow {
	var rows []RegistryImageRow
	for r, registry := range []struct{ instance, address string }{
		{"ccr-default", "ccr.ccs.tencentyun.com/shop"},
		{"tcr-prod", "prod-registry.tencentcloudcr.com/platform"},
	} {
		for i, repo := range seedRepos {
			for j, tag := range seedTags {
				n := (r*len(seedRepos)+i)*len(seedTags) + j
				rows = append(rows, RegistryImageRow{
					Id: FirstRegistryImageID + uint64(n), ImageRepoAddress: registry.address + "/" + repo,
					ImageName: repo, ImageTag: tag, InstanceName: registry.instance,
					ScanStatus: seedStatuses[n%len(seedStatuses)], VulCnt: int64(n * 5 % 23), IsLatestImage: tag == "latest",
				})
			}
		}
	}
	return rows
}

// ClusterTypes are the cluster types DescribeAssetClusterList answers (AssetClusterListItem's
// ClusterType in Tencent's SDKs: a TKE cluster, a self-built one, a TKE Serverless one).
// MANAGED_CLUSTER and INDEPENDENT_CLUSTER are DescribeClusterDetail's, not the list's.
var ClusterTypes = []string{"CT_TKE", "CT_USER_CREATE", "CT_TKE_SERVERLESS"}

// Clusters is the seeded cluster inventory: every type of ClusterTypes, in turn.
func Clusters() []ClusterRow {
	var rows []ClusterRow
	for i, name := range []string{"prod-gz", "prod-sh", "staging", "dev", "data-pipeline", "edge-hk"} {
		rows = append(rows, ClusterRow{
			ClusterID: fmt.Sprintf("cls-%08x", 0x5eed0000+i), ClusterName: name, ClusterType: ClusterTypes[i%len(ClusterTypes)],
			ClusterVersion: "1.28.3", Status: "CSR_RUNNING",
		})
	}
	return rows
}

// assetFilter is a filter of the list actions (AssetFilters, RunTimeFilters). ExactMatch is read
// as Tencent's SDKs describe it on AssetFilters and RunTimeFilters, "whether to match fuzzily"
// (是否模糊查询): true matches the values as substrings, false exactly. Whether TCSS itself reads
// it so, or as its name says, is not settled (see tcss.AssetFilters); left out, it is fuzzy under
// both readings (ComplianceFilters documents that default, 默认为是), and so it is here.
type assetFilter struct {
	Name       string
	Values     []string
	ExactMatch *bool
}

// fuzzy says whether f matches its values as substrings (case-insensitively).
func (f assetFilter) fuzzy() bool { return f.ExactMatch == nil || *f.ExactMatch }

// listParams are the list actions' inputs.
type listParams struct {
	Limit, Offset  int64
	Filters        []assetFilter
	By, Order      string
	OnlyShowLatest bool
}

func (p *listParams) fields(registry bool) map[string]any {
	f := map[string]any{"Limit": &p.Limit, "Offset": &p.Offset, "Filters": &p.Filters, "By": &p.By, "Order": &p.Order}
	if registry {
		f["OnlyShowLatest"] = &p.OnlyShowLatest
	}
	return f
}

// maxListLimit is TCSS's largest page.
const maxListLimit = 100

// page checks the paging and returns the [from, to) slice bounds of n rows.
func (p listParams) page(n int) (from, to int, aerr *apiError) {
	if p.Limit < 0 || p.Limit > maxListLimit || p.Offset < 0 {
		return 0, 0, &apiError{Code: "InvalidParameterValue", Message: fmt.Sprintf("Limit must be 1 to %d and Offset not negative.", maxListLimit)}
	}
	limit := p.Limit
	if limit == 0 {
		limit = 10 // TCSS's default
	}
	from = int(min(p.Offset, int64(n)))
	return from, min(from+int(limit), n), nil
}

// matches applies the filters the emulator knows to one row's named values; a filter it does not
// know is refused, as TCSS refuses unknown filter names.
func (p listParams) matches(values map[string]string) (bool, *apiError) {
	for _, f := range p.Filters {
		v, ok := values[f.Name]
		if !ok {
			return false, &apiError{Code: "InvalidParameterValue", Message: "Unknown filter `" + f.Name + "`."}
		}
		hit := len(f.Values) == 0
		for _, want := range f.Values {
			if !f.fuzzy() && v == want || f.fuzzy() && strings.Contains(strings.ToLower(v), strings.ToLower(want)) {
				hit = true
			}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

// list filters rows with values and answers one page of them.
func list[T any](bind binder, registry bool, rows []T, values func(T) map[string]string, keep func(listParams, T) bool) (map[string]any, *apiError) {
	var p listParams
	if aerr := bind(p.fields(registry)); aerr != nil {
		return nil, aerr
	}
	var hits []T
	for _, r := range rows {
		ok, aerr := p.matches(values(r))
		if aerr != nil {
			return nil, aerr
		}
		if ok && (keep == nil || keep(p, r)) {
			hits = append(hits, r)
		}
	}
	from, to, aerr := p.page(len(hits))
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"List": hits[from:to], "TotalCount": int64(len(hits))}, nil
}

func (e *Emulator) describeAssetImageList(bind binder) (map[string]any, *apiError) {
	return list(bind, false, LocalImages(), func(r LocalImageRow) map[string]string {
		return map[string]string{"ImageName": r.ImageName, "ImageID": r.ImageID, "ScanStatus": r.ScanStatus}
	}, nil)
}

func (e *Emulator) describeAssetImageRegistryList(bind binder) (map[string]any, *apiError) {
	return list(bind, true, RegistryImages(), func(r RegistryImageRow) map[string]string {
		return map[string]string{"ImageName": r.ImageName, "ImageTag": r.ImageTag, "ImageRepoAddress": r.ImageRepoAddress,
			"ScanStatus": r.ScanStatus, "InstanceName": r.InstanceName}
	}, func(p listParams, r RegistryImageRow) bool { return !p.OnlyShowLatest || r.IsLatestImage })
}

func (e *Emulator) describeAssetClusterList(bind binder) (map[string]any, *apiError) {
	return list(bind, false, Clusters(), func(r ClusterRow) map[string]string {
		return map[string]string{"ClusterName": r.ClusterName, "ClusterID": r.ClusterID, "Status": r.Status}
	}, nil)
}

// describeVulScanLocalImageList lists the images a local scan task has scanned so far, each with
// three vulnerabilities by severity, so that the breakdown adds up to DescribeVulScanInfo's
// FoundVulCount for the task.
func (e *Emulator) describeVulScanLocalImageList(bind binder) (map[string]any, *apiError) {
	var p listParams
	var taskID int64
	fields := p.fields(false)
	fields["TaskID"] = &taskID
	if aerr := bind(fields); aerr != nil {
		return nil, aerr
	}
	e.mu.Lock()
	t := e.scans.tasks[taskID]
	var scanned int64
	if t != nil {
		scanned = e.scanned(t)
	}
	e.mu.Unlock()
	if t == nil || t.side != localSide {
		return nil, &apiError{Code: "ResourceNotFound", Message: "The local scan task " + fmt.Sprint(taskID) + " does not exist."}
	}
	seed := LocalImages()
	rows := make([]map[string]any, 0, scanned)
	for i := range scanned {
		img := seed[int(i)%len(seed)]
		critical := int64(0)
		if i%4 == 0 {
			critical = 1
		}
		rows = append(rows, map[string]any{
			"ImageID": img.ImageID, "ImageName": img.ImageName, "TaskID": taskID, "ScanStatus": "SCANNED",
			"CriticalLevelVulCount": critical, "HighLevelVulCount": int64(1), "MediumLevelVulCount": 1 - critical, "LowLevelVulCount": int64(1),
		})
	}
	from, to, aerr := p.page(len(rows))
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"List": rows[from:to], "TotalCount": int64(len(rows))}, nil
}
