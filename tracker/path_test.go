package tracker

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenExistingNeverCreates: reading commands open with OpenExisting,
// which must neither create a missing file nor write a schema into an
// empty one.
func TestOpenExistingNeverCreates(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if db, err := OpenExisting(missing); err == nil || !errors.Is(err, fs.ErrNotExist) {
		if db != nil {
			db.Close()
		}
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Error("OpenExisting created the file")
	}

	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var pe *PathError
	if db, err := OpenExisting(empty); !errors.As(err, &pe) {
		if db != nil {
			db.Close()
		}
		t.Errorf("empty file: %v, want a *PathError", err)
	}
	if fi, err := os.Stat(empty); err != nil || fi.Size() != 0 {
		t.Errorf("OpenExisting wrote into the empty file: %v, %v", fi, err)
	}

	db, path := openTemp(t)
	if _, err := db.StartRun(RunInfo{}); err != nil {
		t.Fatal(err)
	}
	again, err := OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if runs, err := again.ListRuns(); err != nil || len(runs) != 1 {
		t.Errorf("OpenExisting of a tracker: %d runs, %v", len(runs), err)
	}
}
