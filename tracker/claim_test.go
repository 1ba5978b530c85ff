package tracker

import (
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
)

func TestClaimRun(t *testing.T) {
	db, _ := openTemp(t)
	host, _ := os.Hostname()
	exited := exec.Command(os.Args[0], "-test.run=^$")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	start := func(set string, args ...any) int64 {
		t.Helper()
		rec, err := db.StartRun(RunInfo{})
		if err != nil {
			t.Fatal(err)
		}
		rec.stopFlusher() // keep the heartbeat where the test puts it
		if set != "" {
			if _, err := db.sql.Exec(`UPDATE runs SET `+set+` WHERE id = ?`, append(args, rec.RunID())...); err != nil {
				t.Fatal(err)
			}
		}
		return rec.RunID()
	}
	live := start("")
	dead := start("pid = ?", exited.Process.Pid)
	elsewhereLive := start("host = 'elsewhere', pid = 1")
	elsewhereSilent := start("host = 'elsewhere', pid = 1, heartbeat_at = heartbeat_at - 3600")
	killed := start("status = 'killed'")
	finished := start("status = 'finished'")

	for _, c := range []struct {
		name     string
		id       int64
		heldBy   string // host of the holder named in a *HeldError
		wantErr  error
		takeOver bool
	}{
		{"running here, process alive", live, host, nil, false},
		{"running here, process exited", dead, "", nil, true},
		{"running elsewhere, recent heartbeat", elsewhereLive, "elsewhere", nil, false},
		{"running elsewhere, heartbeat an hour old", elsewhereSilent, "", nil, true},
		{"killed", killed, "", nil, true},
		{"finished", finished, "", ErrFinished, false},
		{"missing", 999, "", ErrNotFound, false},
	} {
		rec, err := db.ClaimRun(c.id)
		var held *HeldError
		switch {
		case c.takeOver:
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			r, _ := db.Run(c.id)
			if r.Status != StatusRunning || r.PID != os.Getpid() || r.Host != host || r.Error != "" || !r.EndedAt.IsZero() {
				t.Errorf("%s: after the claim %+v", c.name, r)
			}
			rec.stopFlusher()
		case c.heldBy != "":
			if !errors.As(err, &held) || held.Host != c.heldBy || held.RunID != c.id {
				t.Errorf("%s: err %v, want held by %s", c.name, err, c.heldBy)
			}
		default:
			if !errors.Is(err, c.wantErr) {
				t.Errorf("%s: err %v, want %v", c.name, err, c.wantErr)
			}
		}
	}
}

// TestClaimRunRace has 8 connections of their own (as 8 processes would
// have) claim one killed run at the same moment, 20 times: exactly one
// must win each time, and every other one must be told who holds the run.
func TestClaimRunRace(t *testing.T) {
	db, path := openTemp(t)
	const claimants = 8
	handles := make([]*DB, claimants)
	for i := range handles {
		h, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		handles[i] = h
	}
	for round := range 20 {
		rec, err := db.StartRun(RunInfo{})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Finish(StatusKilled, nil); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		ready := make(chan struct{})
		recs := make([]*Recorder, claimants)
		errs := make([]error, claimants)
		for i, h := range handles {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-ready
				recs[i], errs[i] = h.ClaimRun(rec.RunID())
			}()
		}
		close(ready)
		wg.Wait()
		won := 0
		for i, err := range errs {
			var held *HeldError
			switch {
			case err == nil:
				won++
				if err := recs[i].Finish(StatusKilled, nil); err != nil {
					t.Fatal(err)
				}
			case errors.As(err, &held):
				if held.PID != os.Getpid() {
					t.Errorf("round %d: the loser was told process %d holds the run, not %d", round, held.PID, os.Getpid())
				}
			default:
				t.Errorf("round %d: claimant %d: %v", round, i, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d claimants won the run, want exactly 1", round, won)
		}
	}
}
