// Command minimalscf is the cold-start anchor for SCF: a minimal custom runtime that reports
// ready and then answers each event with an empty object, as Tencent's custom runtime protocol
// asks (POST /runtime/init/ready, GET /runtime/invocation/next, POST .../response).
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	base := "http://" + os.Getenv("SCF_RUNTIME_API") + ":" + os.Getenv("SCF_RUNTIME_API_PORT")
	if _, err := post(base+"/runtime/init/ready", ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		resp, err := http.Get(base + "/runtime/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if _, err := post(base+"/runtime/invocation/response", "{}"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

func post(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
