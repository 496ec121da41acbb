package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vulscan/vulscan/functions/audit"
	"github.com/vulscan/vulscan/functions/audit/sqlstore"
	"github.com/vulscan/vulscan/functions/audit/sqlstore/sqlstoretest"
)

// verify --witness holds a compact form of the witness, not its lines: on a log of 100,000
// records it needs a few MB more than the plain walk (it once held every record's hash as text
// in a map: 227 MB of heap at a million records, against the plain walk's 14).
func TestWitnessVerifyMemory(t *testing.T) {
	const records = 100_000
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.db")
	store, err := sqlstore.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	sqlstoretest.Fill(t, store, records)
	store.Close()
	witness := filepath.Join(dir, "witness.log")
	f, err := os.Create(witness)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	type line struct {
		Witness string        `json:"witness"`
		Record  *audit.Record `json:"record"`
	}
	for r := range sqlstoretest.Generate(records) {
		b, err := json.Marshal(line{"vulscan-audit/v1", &r})
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString("2026-12-04T10:00:00Z\tINFO\t")
		w.Write(append(b, '\n'))
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The runtime's own account of its heap (GODEBUG=gctrace=1: "gc 3 @0.1s 2%: … 4->5->1 MB,
	// …" per collection): the largest heap a collection began at. The process's resident size
	// would mostly measure SQLite's pages, which both walks read.
	peak := func(args ...string) int {
		t.Helper()
		cmd := exec.Command(vulscanBinary(t), append([]string{"audit", "verify", "--dsn", "sqlite:" + path}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "GODEBUG=gctrace=1"}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || !strings.Contains(string(out), "ok: 100000 records") {
			t.Fatalf("verify %q: %v, %s", args, err, out)
		}
		most := 0
		for _, m := range gcHeap.FindAllStringSubmatch(stderr.String(), -1) {
			mb, _ := strconv.Atoi(m[1])
			most = max(most, mb)
		}
		return most
	}
	plain := peak()
	withWitness := peak("--witness", witness)
	if withWitness > plain+4 {
		t.Errorf("verify --witness: the heap reached %d MB, the plain walk's %d MB; want at most 4 MB more for %d records (2.4 MB of them)",
			withWitness, plain, records)
	}
}

// gcHeap finds a gctrace line's heap at the start of a collection.
var gcHeap = regexp.MustCompile(`(?m)^gc \d+ .* (\d+)->\d+->\d+ MB`)
