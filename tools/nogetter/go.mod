// The tools module's stand-in for github.com/hashicorp/go-getter (see ../go.mod's replace).
module github.com/hashicorp/go-getter

go 1.26.4
