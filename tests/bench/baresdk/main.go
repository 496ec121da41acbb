// Command baresdk is the one-shot anchor: what a user would write without vulscan, one
// CreateVulScanTask call through the Go SDK's CommonClient, signed with TC3, printed as JSON.
// Settings: ENDPOINT (an http:// URL), SECRET_ID, SECRET_KEY.
package main

import (
	"fmt"
	"net/url"
	"os"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

func main() {
	u, err := url.Parse(os.Getenv("ENDPOINT"))
	if err != nil || u.Host == "" {
		fmt.Fprintln(os.Stderr, "baresdk: ENDPOINT must be an http:// URL")
		os.Exit(2)
	}
	cred := common.NewCredential(os.Getenv("SECRET_ID"), os.Getenv("SECRET_KEY"))
	cpf := profile.NewClientProfile()
	cpf.HttpProfile.Endpoint = u.Host
	cpf.HttpProfile.Scheme = "HTTP"
	client := common.NewCommonClient(cred, "ap-guangzhou", cpf)
	req := tchttp.NewCommonRequest("tcss", "2020-11-01", "CreateVulScanTask")
	if err := req.SetActionParameters(map[string]any{"LocalImageScanType": "ALL"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	resp := tchttp.NewCommonResponse()
	if err := client.Send(req, resp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(resp.GetBody()))
}
