package sqlstore

import (
	"context"
	"slices"
	"testing"
)

// dropAllGuards removes every append-only trigger, the checkpoints' too.
func (h *harness) dropAllGuards(t *testing.T) {
	t.Helper()
	for _, name := range h.d.guardNames {
		on := ""
		if h.d.name == "postgres" {
			on = " ON " + guardTable(name)
		}
		h.exec(t, `DROP TRIGGER `+name+on)
	}
}

func guardTable(name string) string {
	if guardTableVersion(name) == 4 {
		return "audit_checkpoints"
	}
	return "audit_log"
}

// A log whose guards someone dropped: opening it for reading (a verifier) leaves it as it is and
// names the missing guards; opening it for writing (a server) puts them back and says which.
func TestMissingGuards(t *testing.T) {
	eachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		mustAppend(t, h.store, rec(0))
		h.store.Close()
		if got, err := h.store.missingGuards(ctx, h.raw); err != nil || got != nil {
			t.Fatalf("a new log lacks guards %v (%v); want all in place", got, err)
		}
		h.dropAllGuards(t)

		open := OpenSQLiteExisting
		if h.d.name == "postgres" {
			open = OpenPostgresExisting
		}
		for range 2 { // the second read finds them missing still: the first changed nothing
			r, err := open(ctx, h.dsn)
			if err != nil {
				t.Fatal(err)
			}
			missing, err := r.MissingGuards(ctx)
			r.Close()
			if err != nil || !slices.Equal(missing, h.d.guardNames) {
				t.Fatalf("read-only open: MissingGuards = %v, %v; want %v", missing, err, h.d.guardNames)
			}
		}

		s := h.reopen(t)
		if got := s.RestoredGuards(); !slices.Equal(got, h.d.guardNames) {
			t.Errorf("RestoredGuards = %v; want %v", got, h.d.guardNames)
		}
		if missing, err := s.MissingGuards(ctx); err != nil || missing != nil {
			t.Errorf("after a writing open: MissingGuards = %v, %v; want none", missing, err)
		}
		if again := h.reopen(t); again.RestoredGuards() != nil {
			t.Errorf("a log with every guard: RestoredGuards = %v; want none", again.RestoredGuards())
		}
	})
}

// A read-only open neither creates a log nor migrates one.
func TestOpenExistingRefusesWhatItWouldHaveToChange(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/empty.db"
	if s, err := OpenSQLiteExisting(ctx, path); err == nil {
		s.Close()
		t.Fatal("OpenSQLiteExisting opened a file holding no log")
	}
	h := newSQLite(t)
	mustAppend(t, h.store, rec(0))
	h.exec(t, `DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)`)
	if s, err := OpenSQLiteExisting(ctx, h.path); err == nil {
		s.Close()
		t.Fatal("OpenSQLiteExisting opened a log at an older schema version")
	}
}
