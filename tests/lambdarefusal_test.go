package tests

import (
	"net/http"
	"testing"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// Through the Lambda adapter as in HTTP mode, a refused request is recorded only when it could
// have started a scan: a post from another site to the audit page, one to an attempt's page, a
// read under a wrong Host are answered and logged, not recorded as rejected form attempts.
func TestLambdaRecordsOnlyRefusalsOfScanRequests(t *testing.T) {
	key := tcsstest.RandomKey()
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key}})
	t.Cleanup(srv.Close)
	fn := startLambdaWith(t, emu, srv.URL, "VULSCAN_ALLOWED_HOSTS=a1b2c3d4e5.execute-api.ap-southeast-1.amazonaws.com",
		"TENCENTCLOUD_SECRET_ID="+key.SecretID, "TENCENTCLOUD_SECRET_KEY="+key.SecretKey)
	crossSite := map[string]string{"content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "cross-site",
		"origin": "https://evil.example"}
	wrongHost := map[string]string{"host": "rebind.attacker.example"}
	for _, tc := range []struct {
		name         string
		method, path string
		headers      map[string]string
		status       int
		records      int
	}{
		// Recorded first: the audit store is created on the function's first append.
		{"a cross-site post of the form", "POST", "/", crossSite, http.StatusForbidden, 1},
		{"a cross-site post to the audit page", "POST", "/audit", crossSite, http.StatusForbidden, 1},
		{"a cross-site post to an attempt's page", "POST", "/scans/1", crossSite, http.StatusForbidden, 1},
		{"a cross-site PUT of the form's address", "PUT", "/", crossSite, http.StatusForbidden, 1},
		{"a read of the audit log under a wrong Host", "GET", "/audit.csv", wrongHost, http.StatusMisdirectedRequest, 1},
		{"a post of the API's audit under a wrong Host", "POST", "/api/audit", wrongHost, http.StatusMisdirectedRequest, 1},
		{"a post to the API under a wrong Host", "POST", "/api/scans", wrongHost, http.StatusMisdirectedRequest, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := fn.http(t, jwtCaller(httpAPIEvent(tc.method, tc.path, tc.headers, []byte("LocalImageScanType=ALL"), false)))
			resp.wantStatus(t, tc.status)
			if recs := auditRecords(t, fn.dsn); len(recs) != tc.records {
				t.Errorf("%d records, want %d: %+v", len(recs), tc.records, recs)
			}
		})
	}
}
