package tcsstest

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
)

// firstTaskID is the first task ID handed out (TCSS's documented example answers 36002).
const firstTaskID = 36001

// maxListLen bounds every list parameter; maxStringLen every string in one.
const (
	maxListLen   = 1000
	maxStringLen = 256
)

// The emulated asset inventory: how many images a broad scope selects.
const (
	localImagesAll           = 12
	localImagesNotScanned    = 5
	localImagesPerCluster    = 4
	registryImagesAll        = 8
	registryImagesNotScanned = 3
)

// beijing is the zone TCSS writes its times in.
var beijing = time.FixedZone("CST", 8*3600)

type side int

const (
	localSide side = iota
	registrySide
)

// task is one scan task: a local-image or a registry-image scan.
type task struct {
	id      int64
	side    side
	images  int64
	started time.Time
}

// scanState holds every task; guarded by Emulator.mu.
type scanState struct {
	nextID int64
	tasks  map[int64]*task
	latest [2]*task
}

// createParams are CreateVulScanTask's inputs, typed as Tencent's SDK declares them.
type createParams struct {
	LocalImageScanType            string
	LocalImageIDs                 []string
	RegistryImageScanType         string
	RegistryImageIDs              []uint64
	LocalTaskID                   int64
	RegistryTaskID                int64
	LocalImageContainerRunning    bool
	RegistryImageContainerRunning bool
	IsLatest                      bool
	ExcludeLocalImageIDs          []string
	ExcludeRegistryImageIDs       []uint64
	LocalClusterIDs               []string
}

// fields maps each parameter name to where it decodes; names not here get UnknownParameter.
func (p *createParams) fields() map[string]any {
	return map[string]any{
		"LocalImageScanType":            &p.LocalImageScanType,
		"LocalImageIDs":                 &p.LocalImageIDs,
		"RegistryImageScanType":         &p.RegistryImageScanType,
		"RegistryImageIDs":              &p.RegistryImageIDs,
		"LocalTaskID":                   &p.LocalTaskID,
		"RegistryTaskID":                &p.RegistryTaskID,
		"LocalImageContainerRunning":    &p.LocalImageContainerRunning,
		"RegistryImageContainerRunning": &p.RegistryImageContainerRunning,
		"IsLatest":                      &p.IsLatest,
		"ExcludeLocalImageIDs":          &p.ExcludeLocalImageIDs,
		"ExcludeRegistryImageIDs":       &p.ExcludeRegistryImageIDs,
		"LocalClusterIDs":               &p.LocalClusterIDs,
	}
}

// binder decodes a request's parameters into fields (name -> pointer to a typed value),
// refusing unknown names, wrong types and oversized lists as the API does.
type binder func(fields map[string]any) *apiError

// bindJSON is the binder of a JSON body.
func bindJSON(params map[string]json.RawMessage, fields map[string]any) *apiError {
	for _, name := range sortedKeys(params) {
		dst, ok := fields[name]
		if !ok {
			return &apiError{Code: "UnknownParameter", Message: "The parameter `" + name + "` is not recognized."}
		}
		raw := params[name]
		if string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return &apiError{Code: "InvalidParameter", Message: "The parameter `" + name + "` has the wrong type: want " + jsonType(dst) + "."}
			}
			return &apiError{Code: "InvalidParameter", Message: "The parameter `" + name + "` could not be parsed."}
		}
	}
	return checkLists(fields)
}

func checkLists(fields map[string]any) *apiError {
	for _, name := range sortedKeys(fields) {
		if aerr := checkList(name, fields[name]); aerr != nil {
			return aerr
		}
	}
	return nil
}

func jsonType(dst any) string {
	switch dst.(type) {
	case *string:
		return "a string"
	case *[]string:
		return "an array of strings"
	case *[]uint64:
		return "an array of unsigned integers"
	case *int64:
		return "an integer"
	case *bool:
		return "a boolean"
	}
	return "another type"
}

func checkList(name string, dst any) *apiError {
	n := 0
	switch v := dst.(type) {
	case *[]string:
		n = len(*v)
		for _, s := range *v {
			if s == "" || len(s) > maxStringLen {
				return &apiError{Code: "InvalidParameterValue", Message: "Each value of `" + name + "` must be 1 to " +
					strconv.Itoa(maxStringLen) + " characters."}
			}
		}
	case *[]uint64:
		n = len(*v)
	}
	if n > maxListLen {
		return &apiError{Code: "InvalidParameterValue", Message: "`" + name + "` holds more than " + strconv.Itoa(maxListLen) + " values."}
	}
	return nil
}

func (e *Emulator) createVulScanTask(bind binder) (map[string]any, *apiError) {
	var p createParams
	if aerr := bind(p.fields()); aerr != nil {
		return nil, aerr
	}
	switch p.LocalImageScanType {
	case "", "ALL", "NOT_SCAN", "IMAGEIDS", "CLUSTER":
	default:
		return nil, &apiError{Code: "InvalidParameterValue", Message: "LocalImageScanType must be ALL, NOT_SCAN, IMAGEIDS or CLUSTER."}
	}
	switch p.RegistryImageScanType {
	case "", "ALL", "NOT_SCAN", "IMAGEIDS":
	default:
		return nil, &apiError{Code: "InvalidParameterValue", Message: "RegistryImageScanType must be ALL, NOT_SCAN or IMAGEIDS."}
	}
	if p.LocalTaskID < 0 || p.RegistryTaskID < 0 {
		return nil, &apiError{Code: "InvalidParameterValue", Message: "Task IDs must be positive."}
	}
	if p.LocalImageScanType == "IMAGEIDS" && len(p.LocalImageIDs) == 0 {
		return nil, &apiError{Code: "InvalidParameter.MissingParameter", Message: "LocalImageScanType IMAGEIDS needs LocalImageIDs."}
	}
	if p.LocalImageScanType == "CLUSTER" && len(p.LocalClusterIDs) == 0 {
		return nil, &apiError{Code: "InvalidParameter.MissingParameter", Message: "LocalImageScanType CLUSTER needs LocalClusterIDs."}
	}
	if p.RegistryImageScanType == "IMAGEIDS" && len(p.RegistryImageIDs) == 0 {
		return nil, &apiError{Code: "InvalidParameter.MissingParameter", Message: "RegistryImageScanType IMAGEIDS needs RegistryImageIDs."}
	}
	wantLocal := p.LocalImageScanType != "" || p.LocalTaskID != 0
	wantRegistry := p.RegistryImageScanType != "" || p.RegistryTaskID != 0
	if !wantLocal && !wantRegistry {
		return nil, &apiError{Code: "MissingParameter", Message: "Name a scope: LocalImageScanType, RegistryImageScanType, LocalTaskID or RegistryTaskID."}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	for _, rescan := range []struct {
		id int64
		s  side
	}{{p.LocalTaskID, localSide}, {p.RegistryTaskID, registrySide}} {
		if t := e.scans.tasks[rescan.id]; rescan.id != 0 && (t == nil || t.side != rescan.s) {
			return nil, &apiError{Code: "ResourceNotFound", Message: "The scan task " + strconv.FormatInt(rescan.id, 10) + " does not exist."}
		}
	}
	now := e.now()
	out := map[string]any{"LocalTaskID": int64(0), "RegistryTaskID": int64(0)}
	if wantLocal {
		out["LocalTaskID"] = e.scans.start(localSide, p.LocalTaskID, localImages(p), now)
	}
	if wantRegistry {
		out["RegistryTaskID"] = e.scans.start(registrySide, p.RegistryTaskID, registryImages(p), now)
	}
	return out, nil
}

// start (re)starts a task: a re-scan restarts the named task under its own ID, a new scan gets
// the next ID. e.mu must be held.
func (s *scanState) start(sd side, rescanID, images int64, now time.Time) int64 {
	if s.tasks == nil {
		s.tasks = map[int64]*task{}
	}
	t := s.tasks[rescanID]
	if t == nil {
		t = &task{id: s.nextID, side: sd, images: images}
		s.nextID++
		s.tasks[t.id] = t
	}
	t.started = now
	s.latest[sd] = t
	return t.id
}

func localImages(p createParams) int64 {
	var n int
	switch p.LocalImageScanType {
	case "IMAGEIDS":
		n = len(unique(p.LocalImageIDs))
	case "ALL":
		n = localImagesAll - len(unique(p.ExcludeLocalImageIDs))
	case "NOT_SCAN":
		n = localImagesNotScanned - len(unique(p.ExcludeLocalImageIDs))
	case "CLUSTER":
		n = localImagesPerCluster*len(unique(p.LocalClusterIDs)) - len(unique(p.ExcludeLocalImageIDs))
	}
	return int64(max(n, 0))
}

func registryImages(p createParams) int64 {
	var n int
	switch p.RegistryImageScanType {
	case "IMAGEIDS":
		n = len(unique(p.RegistryImageIDs))
	case "ALL":
		n = registryImagesAll - len(unique(p.ExcludeRegistryImageIDs))
	case "NOT_SCAN":
		n = registryImagesNotScanned - len(unique(p.ExcludeRegistryImageIDs))
	}
	return int64(max(n, 0))
}

func unique[T comparable](xs []T) map[T]bool {
	m := make(map[T]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func (e *Emulator) describeVulScanInfo(bind binder) (map[string]any, *apiError) {
	var p struct{ LocalTaskID, RegistryTaskID int64 }
	if aerr := bind(map[string]any{"LocalTaskID": &p.LocalTaskID, "RegistryTaskID": &p.RegistryTaskID}); aerr != nil {
		return nil, aerr
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	var picked [2]*task
	for sd, id := range []int64{p.LocalTaskID, p.RegistryTaskID} {
		if id == 0 {
			picked[sd] = e.scans.latest[sd]
			continue
		}
		t := e.scans.tasks[id]
		if t == nil || t.side != side(sd) {
			return nil, &apiError{Code: "ResourceNotFound", Message: "The scan task " + strconv.FormatInt(id, 10) + " does not exist."}
		}
		picked[sd] = t
	}
	return e.progress(picked[localSide], picked[registrySide]), nil
}

// scanned is how many of a task's images are scanned by now. e.mu must be held.
func (e *Emulator) scanned(t *task) int64 {
	frac := math.Min(math.Max(float64(e.now().Sub(t.started))/float64(e.duration), 0), 1)
	return int64(math.Floor(frac * float64(t.images)))
}

// progress reports the two tasks as one scan, as DescribeVulScanInfo does: SCANNING while either
// runs, with the slower task's progress and remaining time.
func (e *Emulator) progress(local, registry *task) map[string]any {
	now := e.now()
	out := map[string]any{
		"LocalTaskID": int64(0), "RegistryTaskID": int64(0),
		"LocalImageScanCount": int64(0), "FoundRiskImageCount": int64(0), "FoundVulCount": int64(0), "IgnoreVulCount": int64(0),
		"RegistryImageScanCount": int64(0), "RegistryFoundVulCount": int64(0),
		"ScanStartTime": "", "ScanEndTime": "", "ScanProgress": float64(0), "RemainingTime": float64(0), "Status": "NOT_SCAN",
	}
	if local == nil && registry == nil {
		return out
	}
	minFrac, maxRemaining := 1.0, time.Duration(0)
	var start, end time.Time
	for _, t := range []*task{local, registry} {
		if t == nil {
			continue
		}
		elapsed := now.Sub(t.started)
		frac := math.Min(math.Max(float64(elapsed)/float64(e.duration), 0), 1)
		scanned := e.scanned(t)
		if t.side == localSide {
			out["LocalTaskID"] = t.id
			out["LocalImageScanCount"] = scanned
			out["FoundRiskImageCount"] = scanned / 2
			out["FoundVulCount"] = 3 * scanned
		} else {
			out["RegistryTaskID"] = t.id
			out["RegistryImageScanCount"] = scanned
			out["RegistryFoundVulCount"] = 2 * scanned
		}
		minFrac = math.Min(minFrac, frac)
		maxRemaining = max(maxRemaining, e.duration-min(max(elapsed, 0), e.duration))
		if start.IsZero() || t.started.Before(start) {
			start = t.started
		}
		if done := t.started.Add(e.duration); done.After(end) {
			end = done
		}
	}
	out["ScanStartTime"] = start.In(beijing).Format(time.DateTime)
	out["ScanProgress"] = math.Round(minFrac*10000) / 100
	out["RemainingTime"] = maxRemaining.Seconds()
	out["Status"] = "SCANNING"
	if minFrac >= 1 {
		out["Status"] = "SCANNED"
		out["ScanEndTime"] = end.In(beijing).Format(time.DateTime)
	}
	return out
}
