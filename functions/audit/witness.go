package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A witness is a copy of the log kept outside the database: every record and checkpoint is also
// written as one JSON line to the process's output, which SCF ships to Cloud Log Service and
// Lambda to CloudWatch Logs. Someone who rewrites the database does not rewrite those logs, so
// CompareWitness, given an export of them, names the records that differ or are missing on either
// side.

// WitnessMark starts every witness line: {"witness":"vulscan-audit/v1",…}. Filter the logs on it.
const WitnessMark = `{"witness":"vulscan-audit/v1"`

// witnessLine is one line of the witness.
type witnessLine struct {
	Witness    string      `json:"witness"`
	Record     *Record     `json:"record,omitempty"`
	Checkpoint *Checkpoint `json:"checkpoint,omitempty"`
}

// witnessVersion is the witness field's value.
const witnessVersion = "vulscan-audit/v1"

// WithWitness returns store writing each record it appends, and each checkpoint, as a witness
// line to w. A line that cannot be written does not fail the append (the record is stored);
// onErr hears of it.
func WithWitness(store Store, w io.Writer, onErr func(error)) interface {
	Store
	CheckpointStore
} {
	cs, _ := store.(CheckpointStore)
	return &witnessed{Store: store, cs: cs, w: w, onErr: onErr}
}

type witnessed struct {
	Store
	cs    CheckpointStore // nil when the store keeps none
	mu    sync.Mutex      // one line at a time
	w     io.Writer
	onErr func(error)
}

func (s *witnessed) write(line witnessLine) {
	line.Witness = witnessVersion
	b, err := json.Marshal(line)
	if err == nil {
		s.mu.Lock()
		_, err = s.w.Write(append(b, '\n'))
		s.mu.Unlock()
	}
	if err != nil && s.onErr != nil {
		s.onErr(fmt.Errorf("audit: witness: %w", err))
	}
}

func (s *witnessed) Append(ctx context.Context, rec Record) (Record, error) {
	stored, err := s.Store.Append(ctx, rec)
	if err == nil {
		s.write(witnessLine{Record: &stored})
	}
	return stored, err
}

var errNoCheckpoints = errors.New("audit: this store keeps no checkpoints")

func (s *witnessed) AppendCheckpoint(ctx context.Context, c Checkpoint) (Checkpoint, error) {
	if s.cs == nil {
		return Checkpoint{}, errNoCheckpoints
	}
	stored, err := s.cs.AppendCheckpoint(ctx, c)
	if err == nil {
		s.write(witnessLine{Checkpoint: &stored})
	}
	return stored, err
}

func (s *witnessed) LatestCheckpoint(ctx context.Context) (Checkpoint, error) {
	if s.cs == nil {
		return Checkpoint{}, errNoCheckpoints
	}
	return s.cs.LatestCheckpoint(ctx)
}

func (s *witnessed) EachCheckpoint(ctx context.Context, fn func(Checkpoint) error) error {
	if s.cs == nil {
		return errNoCheckpoints
	}
	return s.cs.EachCheckpoint(ctx, fn)
}

// WitnessReport is what CompareWitness found.
type WitnessReport struct {
	Compared         int64   // records found on both sides
	MissingFromStore []int64 // in the witness, not in the store: deleted (or the store is another log)
	MissingFromLog   []int64 // in the store, not in the witness: inserted, or written while no witness was kept
	Differing        []int64 // on both sides with different hashes: rewritten
	// CheckpointsMissing are checkpoints (by Seq) in the witness but not in the store.
	CheckpointsMissing []int64
	// WitnessFrom is the witness's oldest record, and Older the store's records before it: a
	// witness kept for a retention window (the last 30 days of a log service) does not reach
	// back to them. They are not findings: each record's hash covers the one before it, so a
	// change to an older record that the chain check does not catch rewrites every later hash,
	// WitnessFrom's too, and that one is compared.
	WitnessFrom, Older int64
}

// OK reports whether both sides hold the same records.
func (r WitnessReport) OK() bool {
	return len(r.MissingFromStore)+len(r.MissingFromLog)+len(r.Differing)+len(r.CheckpointsMissing) == 0
}

// Findings lists what differs, one line each, with record IDs as ranges.
func (r WitnessReport) Findings() []string {
	var out []string
	add := func(ids []int64, one, many, what string) {
		switch {
		case len(ids) == 1:
			out = append(out, fmt.Sprintf("record %d %s %s", ids[0], one, what))
		case len(ids) > 1:
			out = append(out, fmt.Sprintf("records %s %s %s", ranges(ids), many, what))
		}
	}
	add(r.Differing, "differs", "differ", "between the store and the witness: rewritten in the store")
	add(r.MissingFromStore, "is", "are", "in the witness but missing from the store: deleted")
	add(r.MissingFromLog, "is", "are", "in the store but missing from the witness: inserted, or written while no witness was kept")
	if len(r.CheckpointsMissing) > 0 {
		out = append(out, fmt.Sprintf("checkpoints %s are in the witness but missing from the store", ranges(r.CheckpointsMissing)))
	}
	return out
}

// ranges writes sorted IDs as "1-3, 7, 9-12", at most 20 ranges.
func ranges(ids []int64) string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if len(parts) == 20 {
			parts = append(parts, fmt.Sprintf("… (%d in all)", len(ids)))
			break
		}
		if i == j {
			parts = append(parts, strconv.FormatInt(ids[i], 10))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// maxWitnessLine bounds one line of a witness export.
const maxWitnessLine = 1 << 20

// CompareWitness compares the store's records (and, when cs is not nil, checkpoints) with a
// witness export: any text holding witness lines, one per line, possibly after a log service's
// own prefix (a timestamp, a request ID), in any order; other lines are skipped. It holds 24
// bytes for each of the witness's records, not their lines, and reads the store once, oldest
// first. The store's records older than the witness's oldest are counted in Older, not listed
// as missing from it.
func CompareWitness(ctx context.Context, store Store, cs CheckpointStore, witness io.Reader) (WitnessReport, error) {
	records, checkpoints, err := readWitness(witness)
	if err != nil {
		return WitnessReport{}, err
	}
	if !sort.IsSorted(records) {
		sort.Sort(records)
	}
	var rep WitnessReport
	if records.n > 0 {
		rep.WitnessFrom = records.at(0).id
	}
	i := 0 // the next witness record not yet met in the store
	err = store.Each(ctx, Filter{}, func(r Record) error {
		for ; i < records.n && records.at(i).id < r.ID; i++ {
			rep.MissingFromStore = appendOnce(rep.MissingFromStore, records.at(i).id)
		}
		if i == records.n || records.at(i).id > r.ID {
			if r.ID < rep.WitnessFrom {
				rep.Older++
			} else {
				rep.MissingFromLog = append(rep.MissingFromLog, r.ID)
			}
			return nil
		}
		stored, same := compactHash(r.Hash), true
		for ; i < records.n && records.at(i).id == r.ID; i++ { // the same line shipped twice
			same = same && records.at(i).hash == stored
		}
		if same {
			rep.Compared++
		} else {
			rep.Differing = append(rep.Differing, r.ID)
		}
		return nil
	})
	if err != nil {
		return WitnessReport{}, fmt.Errorf("audit: witness: reading the store: %w", err)
	}
	for ; i < records.n; i++ {
		rep.MissingFromStore = appendOnce(rep.MissingFromStore, records.at(i).id)
	}
	if cs != nil && len(checkpoints) > 0 {
		err := cs.EachCheckpoint(ctx, func(c Checkpoint) error {
			if sig, ok := checkpoints[c.Seq]; ok && sig == c.Signature {
				delete(checkpoints, c.Seq)
			}
			return nil
		})
		if err != nil {
			return WitnessReport{}, fmt.Errorf("audit: witness: reading the checkpoints: %w", err)
		}
		for seq := range checkpoints {
			rep.CheckpointsMissing = append(rep.CheckpointsMissing, seq)
		}
		slices.Sort(rep.CheckpointsMissing)
	}
	return rep, nil
}

// appendOnce appends id to sorted ids unless it is already the last.
func appendOnce(ids []int64, id int64) []int64 {
	if len(ids) > 0 && ids[len(ids)-1] == id {
		return ids
	}
	return append(ids, id)
}

// witnessHash is one record of a witness in compact form: its ID and the first half of its
// hash. Half of SHA-256 is still 128 bits: a rewritten record whose hash agreed with the
// witness's in them would take 2^128 tries to find.
type witnessHash struct {
	id   int64
	hash [sha256.Size / 2]byte
}

// compactHash is the first half of a hex hash; one that is not hex (the chain check has
// already failed then) gives a value no valid hash has in its place, the zero one, or whatever
// hex it starts with.
func compactHash(h string) [sha256.Size / 2]byte {
	var out [sha256.Size / 2]byte
	if len(h) >= 2*len(out) {
		hex.Decode(out[:], []byte(h[:2*len(out)]))
	}
	return out
}

// witnessBlock is how many witnessHashes one block holds.
const witnessBlock = 1 << 14

// witnessHashes are a witness's records in blocks of witnessBlock, so that a million of them
// take 24 MB and are never copied as they grow. It sorts by ID (sort.Interface).
type witnessHashes struct {
	blocks [][]witnessHash
	n      int
}

func (w *witnessHashes) add(h witnessHash) {
	if w.n%witnessBlock == 0 {
		w.blocks = append(w.blocks, make([]witnessHash, 0, witnessBlock))
	}
	last := &w.blocks[len(w.blocks)-1]
	*last = append(*last, h)
	w.n++
}

func (w *witnessHashes) at(i int) *witnessHash { return &w.blocks[i/witnessBlock][i%witnessBlock] }
func (w *witnessHashes) Len() int              { return w.n }
func (w *witnessHashes) Less(i, j int) bool    { return w.at(i).id < w.at(j).id }
func (w *witnessHashes) Swap(i, j int)         { a, b := w.at(i), w.at(j); *a, *b = *b, *a }

// witnessFields are the fields of a witness line CompareWitness reads; the decoder skips the
// rest of each record without keeping it.
type witnessFields struct {
	Record *struct {
		ID   int64  `json:"id"`
		Hash string `json:"hash"`
	} `json:"record"`
	Checkpoint *struct {
		Seq       int64  `json:"seq"`
		Signature string `json:"signature"`
	} `json:"checkpoint"`
}

// readWitness returns the witness's records and its checkpoint signatures by Seq.
func readWitness(r io.Reader) (*witnessHashes, map[int64]string, error) {
	records, checkpoints := &witnessHashes{}, map[int64]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxWitnessLine)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		i := bytes.Index(line, []byte(WitnessMark))
		if i < 0 {
			continue
		}
		var w witnessFields
		if err := json.NewDecoder(bytes.NewReader(line[i:])).Decode(&w); err != nil {
			return nil, nil, fmt.Errorf("audit: witness line %d: %w", n, err)
		}
		switch {
		case w.Record != nil:
			records.add(witnessHash{id: w.Record.ID, hash: compactHash(w.Record.Hash)})
		case w.Checkpoint != nil:
			checkpoints[w.Checkpoint.Seq] = w.Checkpoint.Signature
		}
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("audit: reading the witness: %w", err)
	}
	return records, checkpoints, nil
}
