package scan

import "context"

// The asset inventory TCSS keeps, as the pickers need it: the local images, registry images and
// clusters whose IDs a request names (LocalImageIDs, RegistryImageIDs, LocalClusterIDs).

// InventoryQuery asks for one page of an inventory list. Empty filters match everything; TCSS
// matches them as substrings.
type InventoryQuery struct {
	Name     string // image or cluster name
	Tag      string // image tag (registry images)
	Registry string // registry address, e.g. ccr.ccs.tencentyun.com/team (registry images)
	Offset   int
	Limit    int // 1..MaxInventoryPage
}

// MaxInventoryPage is the largest page TCSS serves (its Limit allows at most 100).
const MaxInventoryPage = 100

// LocalImage is a row of DescribeAssetImageList.
type LocalImage struct {
	ID         string // sha256:…, the value LocalImageIDs takes
	Name       string // repository:tag as the hosts know it
	Size       int64  // bytes
	Hosts      int64  // hosts holding the image
	Containers int64  // containers running from it
	ScanStatus string
	Vulns      int64
}

// RegistryImage is a row of DescribeAssetImageRegistryList.
type RegistryImage struct {
	ID         uint64 // the numeric list ID RegistryImageIDs takes
	Repository string // ImageRepoAddress, e.g. ccr.ccs.tencentyun.com/team/app
	Name       string
	Tag        string
	Registry   string // the registry instance's name
	ScanStatus string
	Vulns      int64
	Latest     bool
}

// Cluster is a row of TCSS's cluster list (DescribeAssetClusterList).
type Cluster struct {
	ID      string // cls-…, the value LocalClusterIDs takes
	Name    string
	Type    string
	Version string
	Status  string
}

// Page is one page of an inventory list and the total that matched.
type Page[T any] struct {
	Items []T
	Total int64
}

// Inventory reads TCSS's asset lists. Errors as Scanner's DescribeVulScanInfo: *APIError
// (wrapped) when TCSS refused, another error when it could not be reached.
type Inventory interface {
	LocalImages(ctx context.Context, q InventoryQuery) (Page[LocalImage], error)
	RegistryImages(ctx context.Context, q InventoryQuery) (Page[RegistryImage], error)
	Clusters(ctx context.Context, q InventoryQuery) (Page[Cluster], error)
}
