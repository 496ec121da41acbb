package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// EncodingV2 names encoding version 2; it is the first field of every version 2 encoding. A
// store that builds the encoding itself (LinkSource) writes it.
const EncodingV2 = hashV2

// EncodeV2 returns r's version 2 encoding appended to b: the bytes ComputeHash hashes. Stores
// that build the encoding in their query language test theirs against it.
func (r Record) EncodeV2(b []byte) []byte { return r.encodeV2(b) }

// Link is what a fast walk reads of one record: enough to check its place in the chain and its
// hash without reading its fields one by one.
type Link struct {
	ID       int64
	TimeNs   int64  // the record's time, Unix nanoseconds
	PrevHash []byte // hex, as stored
	Hash     []byte // hex, as stored
	Emulated bool   // the record's Endpoint starts with EmulatorPrefix
	// Encoding is the record's version 2 encoding as the store built it from the stored row:
	// byte for byte Record.EncodeV2 of the record a full read would return.
	Encoding []byte
}

// LinkSource is a ChainSource that can also hand over Links, which costs a database far less
// than whole records. VerifyChainFrom uses it when a source has it: a link whose fast check fails
// (a version 1 record, or anything wrong) is read again as a whole record and judged exactly as
// a ChainSource's would be, so reports name problems as precisely either way.
type LinkSource interface {
	ChainSource
	// WalkLinks calls fn with every record whose ID is above afterID (every record when afterID
	// is 0, as Walk), in ascending ID order,
	// stopping at fn's first error and returning it. The Link's slices are valid only until fn
	// returns.
	WalkLinks(ctx context.Context, afterID int64, fn func(*Link) error) error
	// Record returns the record with this ID, or an error wrapping ErrNotFound.
	Record(ctx context.Context, id int64) (Record, error)
}

// linkBatch is a batch of links whose slices point into one buffer, handed from the walk to the
// hashers and the checker.
type linkBatch struct {
	links []Link
	buf   []byte
	// hashOK[i]: links[i].Encoding hashes to links[i].Hash; set by a hasher before ready closes.
	hashOK []bool
	ready  chan struct{}
}

// add copies l into the batch.
func (b *linkBatch) add(l *Link) {
	start := len(b.buf)
	b.buf = append(b.buf, l.PrevHash...)
	b.buf = append(b.buf, l.Hash...)
	b.buf = append(b.buf, l.Encoding...)
	b.links = append(b.links, Link{ID: l.ID, TimeNs: l.TimeNs, Emulated: l.Emulated})
	// The slices are cut at the end, once buf no longer moves.
	last := &b.links[len(b.links)-1]
	last.PrevHash = b.buf[start : start+len(l.PrevHash) : start+len(l.PrevHash)]
	start += len(l.PrevHash)
	last.Hash = b.buf[start : start+len(l.Hash) : start+len(l.Hash)]
	start += len(l.Hash)
	last.Encoding = b.buf[start : start+len(l.Encoding) : start+len(l.Encoding)]
}

// hash sets hashOK for every link of the batch.
func (b *linkBatch) hash() {
	b.hashOK = b.hashOK[:0]
	for i := range b.links {
		b.hashOK = append(b.hashOK, encodingHashes(b.links[i].Encoding, b.links[i].Hash))
	}
	close(b.ready)
}

// encodingHashes reports whether encoding is a version 2 encoding whose hex SHA-256 is hash.
func encodingHashes(encoding, hash []byte) bool {
	if len(hash) != 2*sha256.Size || !bytes.HasPrefix(encoding, encodingV2Start) {
		return false
	}
	sum := sha256.Sum256(encoding)
	var text [2 * sha256.Size]byte
	hex.Encode(text[:], sum[:])
	return bytes.Equal(text[:], hash)
}

// verifyLinks is VerifyChainFrom over a LinkSource. The walk copies links into batches; hashers,
// one per CPU, hash each batch's encodings; the checker takes the batches in order, checks each
// link's place in the chain, and hands the batches back for reuse.
func verifyLinks(ctx context.Context, src LinkSource, w *walker, after int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hashers := runtime.GOMAXPROCS(0)
	inFlight := 2 * hashers
	ordered, work := make(chan *linkBatch, inFlight), make(chan *linkBatch, inFlight)
	free := make(chan *linkBatch, inFlight+1)
	for range inFlight + 1 {
		free <- &linkBatch{links: make([]Link, 0, verifyBatch), buf: make([]byte, 0, verifyBatch*1024),
			hashOK: make([]bool, 0, verifyBatch)}
	}
	var hashing sync.WaitGroup
	for range hashers {
		hashing.Go(func() {
			for b := range work {
				b.hash()
			}
		})
	}
	done := make(chan error, 1)
	go func() {
		err := w.checkLinks(ctx, src, ordered, free)
		// Stop the walk first: after a problem the checker frees no more batches, and the walk
		// may be waiting for one. Then take what it sent meanwhile, so that it is never blocked.
		cancel()
		for range ordered {
		}
		done <- err
	}()
	send := func(b *linkBatch) error {
		b.ready = make(chan struct{})
		select {
		case ordered <- b:
		case <-ctx.Done():
			return errStop
		}
		work <- b // never blocks long: it holds no more batches than ordered does
		return nil
	}
	batch := <-free
	err := src.WalkLinks(ctx, after, func(l *Link) error {
		batch.add(l)
		if len(batch.links) < verifyBatch {
			return nil
		}
		if err := send(batch); err != nil {
			return err
		}
		select {
		case batch = <-free:
		case <-ctx.Done():
			return errStop
		}
		return nil
	})
	if err == nil && len(batch.links) > 0 {
		err = send(batch)
	}
	close(ordered)
	close(work)
	checkErr := <-done
	hashing.Wait()
	if checkErr != nil {
		return checkErr
	}
	return err
}

// checkLinks checks the batches in order until they end or a problem is found, and hands each
// batch it finished back to free.
func (w *walker) checkLinks(ctx context.Context, src LinkSource, batches <-chan *linkBatch, free chan<- *linkBatch) error {
	for batch := range batches {
		<-batch.ready
		for i := range batch.links {
			l := &batch.links[i]
			if !w.resume && batch.hashOK[i] && w.linked(l) {
				w.prev = Record{ID: l.ID, Time: time.Unix(0, l.TimeNs).UTC(), Hash: string(l.Hash)}
				w.report.Records, w.report.HeadHash = w.report.Records+1, w.prev.Hash
				if l.Emulated {
					w.report.Emulated++
				}
				w.want++
				continue
			}
			// The slow path: the whole record, judged as VerifyChain judges it.
			r, err := src.Record(ctx, l.ID)
			if err != nil {
				return fmt.Errorf("reading record %d: %w", l.ID, err)
			}
			if p, err := w.next(ctx, r); err != nil || p != nil {
				w.report.Problem = p
				return err
			}
		}
		batch.links, batch.buf = batch.links[:0], batch.buf[:0]
		free <- batch
	}
	return nil
}

// linked reports whether l, whose encoding hashes to its Hash, is the next record of the chain:
// the ID expected, linked to the last good record, and not earlier than it.
func (w *walker) linked(l *Link) bool {
	if l.ID != w.want || string(l.PrevHash) != w.prev.Hash {
		return false
	}
	return w.prev.ID == 0 || l.TimeNs >= w.prev.Time.UnixNano()
}

// encodingV2Start is how every version 2 encoding begins.
var encodingV2Start = field(nil, "version", hashV2)
