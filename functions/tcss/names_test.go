package tcss

import (
	"regexp"
	"testing"
)

// regionName and hostName accept what the patterns they replace accepted (ASCII only: the
// pattern's (?i) also folded a few non-ASCII letters, such as the Kelvin sign, into a-z).
func TestRegionAndHostNames(t *testing.T) {
	region := regexp.MustCompile(`^([a-z]+(-[a-z0-9]+)+)?$`)
	host := regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	inputs := []string{"", "ap-guangzhou", "na-siliconvalley", "ap-shanghai-fsi", "eu-frankfurt1", "ap", "-ap", "ap-",
		"ap--x", "Ap-guangzhou", "ap-Guangzhou", "1ap-x", "ap-1", "ap_x", "ap-x y",
		"tcss.tencentcloudapi.com", "TCSS.TencentCloudAPI.com", "localhost", "a.b", "a-.b", "-a.b", "a..b", ".a.b", "a.b.",
		"a-b.c-d", "127.0.0.1", "x_y.com", "a.b:80", "ä.com", "a.b-", "xn--bcher-kva.example"}
	// Every string of up to four characters over an alphabet that exercises each rule.
	alphabet := []string{"a", "Z", "1", "-", ".", "_"}
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		inputs = append(inputs, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			grow(prefix+c, n-1)
		}
	}
	grow("", 4)
	for _, s := range inputs {
		if got, want := regionName(s), region.MatchString(s); got != want {
			t.Errorf("regionName(%q) = %v, the pattern says %v", s, got, want)
		}
		if got, want := hostName(s), host.MatchString(s); got != want {
			t.Errorf("hostName(%q) = %v, the pattern says %v", s, got, want)
		}
	}
}
