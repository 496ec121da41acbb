package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/internal/citest"
)

// TestSuiteWritesReport runs the suite through its entry point on the items that need nothing
// outside Go but zip and the test PostgreSQL (deploy size, SCF cold start on a fake runtime
// API), one sample each, and checks
// the report: the machine, each figure beside its anchor with a ratio and a verdict, and a note
// that the run was partial. It asserts nothing about speed.
func TestSuiteWritesReport(t *testing.T) {
	if testing.Short() {
		citest.Missing(t, "-short: the benchmark suite's test builds vulscan and the anchors")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	for _, only := range []string{"deploy size", "SCF cold start"} {
		if only == "SCF cold start" && os.Getenv("VULSCAN_TEST_POSTGRES_DSN") == "" {
			// The deploy bootstrap keeps its audit log in PostgreSQL.
			if citest.Set() {
				t.Fatal("VULSCAN_TEST_POSTGRES_DSN is not set; CI must run the SCF cold start")
			}
			t.Log("SCF cold start not run: VULSCAN_TEST_POSTGRES_DSN is not set")
			continue
		}
		if err := run(out, config{runs: 1, coldRuns: 1, microCount: 1, only: only}); err != nil {
			t.Fatalf("run(only %q): %v", only, err)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		report := string(data)
		for _, want := range []string{"# Benchmarks", "- Go: go1.", "| item | vulscan (min / median / max) |",
			"a partial run: only the items named like \"" + only + "\"", "## Where the time goes"} {
			if !strings.Contains(report, want) {
				t.Errorf("only %q: the report lacks %q:\n%s", only, want, report)
			}
		}
		wantRow := map[string]string{
			"deploy size":    "| lambda.zip / scf.zip | ",
			"SCF cold start": "| SCF cold start, exec to init/ready | ",
		}[only]
		line := lineWith(report, wantRow)
		if line == "" || !strings.Contains(line, "minimal custom runtime") && !strings.Contains(line, "hello-world Lambda") ||
			!strings.Contains(line, "met") {
			t.Errorf("only %q: want a row %q with its anchor and a verdict, got %q", only, wantRow, line)
		}
		if strings.Contains(report, "not measured: ") {
			t.Errorf("only %q: an item failed:\n%s", only, report)
		}
	}
}

func lineWith(text, prefix string) string {
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
