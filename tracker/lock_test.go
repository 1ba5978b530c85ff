package tracker

import (
	"path/filepath"
	"testing"
	"time"
)

// holdWriteLock makes another connection (as another process would) take
// the write lock, signals on locked, and commits after hold.
func holdWriteLock(t *testing.T, path string, hold time.Duration) (locked, released chan struct{}) {
	t.Helper()
	other, err := openRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	locked, released = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(released)
		defer other.Close()
		tx, err := other.Begin() // BEGIN IMMEDIATE: takes the write lock now
		if err != nil {
			t.Error(err)
			close(locked)
			return
		}
		if _, err := tx.Exec(`INSERT INTO experiments(name, created_at) VALUES ('blocker', 0)`); err != nil {
			t.Error(err)
		}
		close(locked)
		time.Sleep(hold)
		if err := tx.Commit(); err != nil {
			t.Error(err)
		}
	}()
	return locked, released
}

func testLocked(t *testing.T, busy time.Duration) {
	path := filepath.Join(t.TempDir(), "locked.db")
	db, err := openWith(path, busy, openCreate)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, err := db.StartRun(RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	locked, released := holdWriteLock(t, path, 200*time.Millisecond)
	<-locked
	for s := range int64(100) {
		rec.LogMetric("loss", s, float64(s))
	}
	if err := rec.Flush(); err != nil {
		t.Fatalf("Flush while another connection writes: %v", err)
	}
	if err := rec.SetTag("during", "lock"); err != nil {
		t.Fatalf("SetTag while another connection writes: %v", err)
	}
	<-released
	if err := rec.Finish(StatusFinished, nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	if h, _ := db.MetricHistory(rec.RunID(), "loss"); len(h) != 100 {
		t.Errorf("%d points, want 100", len(h))
	}
}

// TestLockedDatabase relies on SQLite's busy timeout.
func TestLockedDatabase(t *testing.T) { testLocked(t, busyTimeout) }

// TestLockedDatabaseRetry shortens the busy timeout to 1 ms so SQLITE_BUSY
// reaches Go and the transaction retry must carry the write through.
func TestLockedDatabaseRetry(t *testing.T) { testLocked(t, time.Millisecond) }
