package tcsstest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/vulscan/vulscan/functions/tcss/tcsstest"
)

// createRequest and createResponse are CreateVulScanTask's models as Tencent's SDK declares them
// (the few fields this test sends).
type createRequest struct {
	*tchttp.BaseRequest
	LocalImageScanType    *string `json:"LocalImageScanType,omitempty"`
	RegistryImageScanType *string `json:"RegistryImageScanType,omitempty"`
}

type createResponse struct {
	*tchttp.BaseResponse
	Response *struct {
		LocalTaskID    *int64  `json:"LocalTaskID,omitempty"`
		RegistryTaskID *int64  `json:"RegistryTaskID,omitempty"`
		RequestId      *string `json:"RequestId,omitempty"`
	} `json:"Response"`
}

// goSDKCall sends CreateVulScanTask through the real common client (v1.3.211) to srvURL.
func goSDKCall(t *testing.T, srvURL string, cred common.CredentialIface) (*createResponse, error) {
	t.Helper()
	prof := profile.NewClientProfile()
	prof.HttpProfile.Endpoint = strings.TrimPrefix(srvURL, "http://")
	prof.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(cred, "ap-guangzhou", prof).WithHttpTransport(&http.Transport{})
	req := &createRequest{}
	client.InitBaseRequest(&req.BaseRequest, "tcss", tcsstest.Version, "CreateVulScanTask")
	all := "ALL"
	req.LocalImageScanType, req.RegistryImageScanType = &all, &all
	resp := &createResponse{BaseResponse: &tchttp.BaseResponse{}}
	return resp, client.Send(req, resp)
}

func TestGoSDKCommonClient(t *testing.T) {
	key := tcsstest.RandomKey()
	temp := tcsstest.Key{SecretID: "AKIDtemp" + key.SecretID[4:], SecretKey: key.SecretKey + "t", Token: "tok-123"}
	emu, srv := tcsstest.NewServer(tcsstest.Options{Keys: []tcsstest.Key{key, temp}})
	defer srv.Close()

	resp, err := goSDKCall(t, srv.URL, common.NewCredential(key.SecretID, key.SecretKey))
	if err != nil {
		t.Fatalf("Go SDK request refused: %v", err)
	}
	if resp.Response == nil || resp.Response.LocalTaskID == nil || *resp.Response.LocalTaskID == 0 || *resp.Response.RegistryTaskID == 0 {
		t.Fatalf("response: %+v", resp.Response)
	}
	if _, err := goSDKCall(t, srv.URL, common.NewTokenCredential(temp.SecretID, temp.SecretKey, temp.Token)); err != nil {
		t.Fatalf("Go SDK request with a temporary key refused: %v", err)
	}

	_, err = goSDKCall(t, srv.URL, common.NewCredential(key.SecretID, "wrong-"+key.SecretKey))
	var sdkErr *tcerr.TencentCloudSDKError
	if !errors.As(err, &sdkErr) || sdkErr.Code != "AuthFailure.SignatureFailure" || sdkErr.RequestId == "" {
		t.Fatalf("wrong key: err = %v, want AuthFailure.SignatureFailure with a RequestId", err)
	}
	if got := emu.Calls("CreateVulScanTask"); got != 2 {
		t.Fatalf("Calls = %d, want 2 (the refused request never reached the action)", got)
	}
}
