package tcss

import (
	"testing"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// BenchmarkNew is what a function's start pays for its TCSS client before the first event.
func BenchmarkNew(b *testing.B) {
	cred := common.NewCredential("id", "key")
	for b.Loop() {
		if _, err := New(Config{Region: "ap-guangzhou", Credential: cred, Limiter: NewPacer(RequestsPerSecond)}); err != nil {
			b.Fatal(err)
		}
	}
}
