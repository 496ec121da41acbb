// Command loadgen is the bench suite's open-loop load generator, a process of its own so that its
// work is not charged to the server it measures. It sends -n requests, request i at start+i/rate
// whether or not earlier ones were answered (rate 0: all at once, a burst), measures each latency
// from its scheduled time (so a stalled server cannot hide its queue), and prints one JSON object.
//
// Modes: -mode api posts {"LocalImageScanType":"ALL"} to vulscan's POST /api/scans at -url;
// -mode tcss makes the signed CreateVulScanTask call itself through the Go SDK against the TCSS
// emulator at -url (SECRET_ID, SECRET_KEY from the environment): the anchor, the call alone.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Result is what loadgen prints.
type Result struct {
	Latencies []time.Duration  `json:"latencies_ns"` // per answered request, in send order
	Answered  []time.Duration  `json:"answered_ns"`  // when each answer came, since the start
	Statuses  map[string]int   `json:"statuses"`     // HTTP status or error kind -> count
	Errors    []string         `json:"errors,omitempty"`
	Elapsed   time.Duration    `json:"elapsed_ns"` // start to last answer
	Extra     map[string]int64 `json:"extra,omitempty"`
}

func main() {
	mode := flag.String("mode", "api", "api (vulscan POST /api/scans) or tcss (the signed call alone)")
	target := flag.String("url", "", "vulscan's base URL or the TCSS emulator's URL")
	rate := flag.Float64("rate", 15, "requests per second; 0 sends all at once")
	n := flag.Int("n", 150, "number of requests")
	timeout := flag.Duration("timeout", 2*time.Minute, "per-request timeout")
	flag.Parse()
	if *target == "" || *n <= 0 || *n > 100000 {
		fmt.Fprintln(os.Stderr, "loadgen: -url is required and -n must be 1..100000")
		os.Exit(2)
	}
	send, err := sender(*mode, *target, *n, *timeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	res := Result{Latencies: make([]time.Duration, *n), Answered: make([]time.Duration, *n), Statuses: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for i := range *n {
		at := start
		if *rate > 0 {
			at = start.Add(time.Duration(float64(i) / *rate * float64(time.Second)))
		}
		time.Sleep(time.Until(at))
		wg.Go(func() {
			status, err := send(i)
			done := time.Now()
			mu.Lock()
			defer mu.Unlock()
			res.Latencies[i], res.Answered[i] = done.Sub(at), done.Sub(start)
			res.Statuses[status]++
			if err != nil && len(res.Errors) < 5 {
				res.Errors = append(res.Errors, err.Error())
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// sender returns the function that sends request i and names its outcome.
func sender(mode, target string, n int, timeout time.Duration) (func(i int) (string, error), error) {
	transport := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0, IdleConnTimeout: time.Minute}
	switch mode {
	case "api":
		client := &http.Client{Transport: transport, Timeout: timeout}
		endpoint := strings.TrimSuffix(target, "/") + "/api/scans"
		return func(i int) (string, error) {
			req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{"LocalImageScanType":"ALL"}`))
			if err != nil {
				return "error", err
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				return "error", err
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode >= 300 {
				return fmt.Sprint(resp.StatusCode), fmt.Errorf("%d: %.200s", resp.StatusCode, body)
			}
			return fmt.Sprint(resp.StatusCode), nil
		}, nil
	case "tcss":
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("-url %q: want the emulator's http:// URL", target)
		}
		cpf := profile.NewClientProfile()
		cpf.HttpProfile.Endpoint, cpf.HttpProfile.Scheme = u.Host, "HTTP"
		cpf.HttpProfile.ReqTimeout = int(timeout / time.Second)
		client := common.NewCommonClient(common.NewCredential(os.Getenv("SECRET_ID"), os.Getenv("SECRET_KEY")), "ap-guangzhou", cpf).
			WithHttpTransport(transport)
		return func(int) (string, error) {
			req := tchttp.NewCommonRequest("tcss", "2020-11-01", "CreateVulScanTask")
			if err := req.SetActionParameters(map[string]any{"LocalImageScanType": "ALL"}); err != nil {
				return "error", err
			}
			if err := client.Send(req, tchttp.NewCommonResponse()); err != nil {
				return "tcss-error", err
			}
			return "200", nil
		}, nil
	}
	return nil, fmt.Errorf("-mode %q: want api or tcss", mode)
}
