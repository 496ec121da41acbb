// Package getter stands in for github.com/hashicorp/go-getter in vulscan's tools module.
//
// The task runner imports go-getter for one experimental feature, Taskfiles included from a
// remote Git repository, and go-getter links the Google Cloud Storage, AWS S3 and OpenTelemetry
// SDKs (about 780 MB of modules) for its other protocols. vulscan's Taskfile includes nothing
// remote, so this package keeps only the API task compiles against and refuses the download,
// which turns a fresh machine's first `go tool task` from minutes into seconds.
package getter

import (
	"context"
	"errors"
)

// ClientMode is how a download is stored, as in go-getter.
type ClientMode uint

// The modes go-getter defines; task uses ClientModeDir.
const (
	ClientModeInvalid ClientMode = iota
	ClientModeAny
	ClientModeFile
	ClientModeDir
)

// Client holds the fields task sets on go-getter's Client.
type Client struct {
	Ctx  context.Context
	Src  string
	Dst  string
	Pwd  string
	Mode ClientMode
}

// ErrRemoteTaskfiles is what every download returns.
var ErrRemoteTaskfiles = errors.New("remote Taskfiles are not supported by vulscan's task build " +
	"(tools/nogetter replaces go-getter to keep cloud SDKs out of the tools module)")

// Get refuses: see the package comment.
func (c *Client) Get() error { return ErrRemoteTaskfiles }
