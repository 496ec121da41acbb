package templates

import (
	"bytes"
	"context"
	"testing"
)

func BenchmarkZZForm(b *testing.B) {
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		FormPage(FormView{IdempotencyKey: "form-abc"}).Render(context.Background(), &buf)
	}
}
