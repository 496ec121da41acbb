package tcss

import (
	"fmt"
	"strings"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/scan"
)

// EmulatorPrefix marks a Config.Endpoint as a TCSS emulator's URL ("emulator:http://127.0.0.1:9100").
// The client talks to it as to any URL; TCSSEndpoint keeps the prefix, so that every audit record
// of an attempt against an emulator says so.
const EmulatorPrefix = audit.EmulatorPrefix

// TCSSEndpoint names the endpoint this client calls, for the audit record: a host such as
// tcss.tencentcloudapi.com, an http(s) URL, or an emulator's URL with EmulatorPrefix.
func (c *Client) TCSSEndpoint() string { return c.endpoint }

// maxEndpointLen bounds an endpoint setting: a host name's 253 bytes with a scheme, an emulator
// prefix and a port.
const maxEndpointLen = 300

// splitEmulator reads Config.Endpoint: the endpoint to dial and the name to record.
func splitEmulator(endpoint string) (dial, record string, err error) {
	endpoint = strings.TrimSpace(endpoint)
	if len(endpoint) > maxEndpointLen {
		// Every message below quotes the endpoint: one that long is no endpoint, and quoted
		// whole it would be a start-up line of any length.
		return "", "", fmt.Errorf("endpoint %q is %d bytes, longer than any %shttp(s)://host:port (at most %d)",
			scan.Shorten(endpoint, 64), len(endpoint), EmulatorPrefix, maxEndpointLen)
	}
	rest, emulated := strings.CutPrefix(endpoint, EmulatorPrefix)
	if !emulated {
		if endpoint == "" {
			return "", DefaultEndpoint, nil
		}
		return endpoint, endpoint, nil
	}
	if !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "https://") {
		return "", "", fmt.Errorf("endpoint %q: an emulator is named by its URL, %shttp://host:port", endpoint, EmulatorPrefix)
	}
	return rest, EmulatorPrefix + strings.TrimSuffix(rest, "/"), nil
}
