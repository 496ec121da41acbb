package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/web"
)

func withEmulator(endpoint string) harnessOption {
	return func(c *harnessConfig) { c.web.Emulator = endpoint }
}

// While an emulator stands in for TCSS, every page says so, error pages included; with TCSS
// itself, none does.
func TestEveryPageShowsTheEmulatorBanner(t *testing.T) {
	const emulator = "http://127.0.0.1:9100"
	for _, tt := range []struct {
		name   string
		config web.Config
		want   bool
	}{
		{"emulator", web.Config{Emulator: emulator}, true},
		{"real TCSS", web.Config{}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withEmulator(tt.config.Emulator), withAllowedHosts("example.com"))
			resp := h.postForm(url.Values{"LocalImageScanType": {"IMAGEIDS"}, "LocalImageIDs": {localImage('a')},
				"IdempotencyKey": {"banner-1"}})
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("form post: %d", resp.StatusCode)
			}
			attempt := strings.TrimPrefix(strings.TrimPrefix(resp.Header.Get("Location"), "."), "/")
			pages := map[string]*http.Response{}
			for _, path := range []string{"/", "/" + attempt, "/audit", "/no-such-page", "/scans/999999"} {
				pages[path] = h.get(path)
			}
			// The pages the guards in front of the routes answer themselves.
			crossSite := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("LocalImageScanType=ALL"))
			crossSite.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			crossSite.Header.Set("Sec-Fetch-Site", "cross-site")
			pages["a cross-site post (403)"] = h.do(crossSite)
			wrongHost := httptest.NewRequest(http.MethodGet, "/", nil)
			wrongHost.Host = "rebound.example"
			pages["a wrong Host (421)"] = h.do(wrongHost)
			if a, b := pages["a cross-site post (403)"].StatusCode, pages["a wrong Host (421)"].StatusCode; a != http.StatusForbidden || b != http.StatusMisdirectedRequest {
				t.Fatalf("cross-site post %d, wrong Host %d; want 403 and 421", a, b)
			}
			for path, resp := range pages {
				doc := document(t, resp)
				banner := doc.Find(".emulator-banner[role=status]")
				switch {
				case tt.want && (banner.Length() != 1 || !strings.Contains(banner.Text(), emulator) || !strings.Contains(banner.Text(), "not to Tencent Cloud")):
					t.Errorf("%s: banner %q; want one naming %s", path, banner.Text(), emulator)
				case !tt.want && banner.Length() != 0:
					t.Errorf("%s: an emulator banner with TCSS itself: %q", path, banner.Text())
				}
			}
		})
	}
}

// An attempt's page names the TCSS endpoint its record names, and says when that was an
// emulator, whatever the server now runs against: an attempt started against an emulator must
// not pass for a real scan when its log is later viewed from a server on Tencent Cloud.
func TestAttemptPageNamesItsEndpoint(t *testing.T) {
	h := newHarness(t) // TCSS itself: no banner
	ctx := context.Background()
	pending, err := h.store.Append(ctx, audit.Record{Trigger: audit.TriggerForm, Action: audit.ActionCreateVulScanTask,
		Params: []byte(`{"LocalImageScanType":"NOT_SCAN"}`), Outcome: audit.OutcomePending, Endpoint: "emulator:http://127.0.0.1:9100"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Append(ctx, audit.Record{Trigger: audit.TriggerForm, Action: audit.ActionCreateVulScanTask,
		Params: pending.Params, Outcome: audit.OutcomeSucceeded, PendingID: pending.ID, LocalTaskID: 29171171892,
		Endpoint: pending.Endpoint}); err != nil {
		t.Fatal(err)
	}
	real := h.postForm(url.Values{"LocalImageScanType": {"NOT_SCAN"}})
	if real.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: %d", real.StatusCode)
	}
	for _, tt := range []struct {
		path, endpoint string
		emulated       bool
	}{
		{"/scans/" + strconv.FormatInt(pending.ID, 10), "emulator:http://127.0.0.1:9100", true},
		{"/" + strings.TrimPrefix(real.Header.Get("Location"), "./"), h.records()[2].Endpoint, false},
	} {
		if tt.endpoint == "" {
			t.Fatalf("%s: the record names no endpoint", tt.path)
		}
		got := document(t, h.get(tt.path)).Find("#endpoint").Text()
		if !strings.Contains(got, tt.endpoint) || strings.Contains(got, "nothing was sent to Tencent Cloud") != tt.emulated {
			t.Errorf("%s: endpoint %q, want %q (emulator: %v)", tt.path, got, tt.endpoint, tt.emulated)
		}
	}
}
