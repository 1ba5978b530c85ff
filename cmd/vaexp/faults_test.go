package main

// Faults a hostile tester found (issue 8), each checked with real processes,
// signals and file systems.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vaexp/vaexp/tracker"
)

// TestConcurrentResume starts two `train --resume 1` of one killed run at
// the same moment: exactly one may run it, and the other must say which
// process (pid and host) holds it, without writing to the run's log.
func TestConcurrentResume(t *testing.T) {
	bin := needBinary(t, "builds the binary and trains")
	dbPath, runs := freshPaths(t)
	p := start(t, bin, trainArgs(dbPath, runs, 12)...)
	waitTraining(t, p, dbPath, filepath.Join(runs, "1"), 12)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := p.exitCode(t); code != 1 || lastLine(p.stdout.String()) != "run 1 killed" {
		t.Fatalf("interrupt: exit %d\n%s%s", code, p.stdout.String(), p.stderr.String())
	}
	logPath := filepath.Join(runs, "1", "run.log")
	before, _ := os.ReadFile(logPath)

	resume := []string{"--db", dbPath, "train", "--resume", "1", "--quiet"}
	a, b := start(t, bin, resume...), start(t, bin, resume...)
	procs := []*proc{a, b}
	codes := []int{a.exitCode(t), b.exitCode(t)}
	host, _ := os.Hostname()
	var winner, loser int = -1, -1
	for i, c := range codes {
		switch c {
		case 0:
			winner = i
		case 1:
			loser = i
		}
	}
	if winner < 0 || loser < 0 {
		t.Fatalf("two resumes of one run: exit statuses %v, want one 0 and one 1\nA:\n%s%s\nB:\n%s%s", codes,
			a.stdout.String(), a.stderr.String(), b.stdout.String(), b.stderr.String())
	}
	w, l := procs[winner], procs[loser]
	if lastLine(w.stdout.String()) != "run 1 finished" {
		t.Errorf("the winner did not finish the run:\n%s%s", w.stdout.String(), w.stderr.String())
	}
	t.Logf("the loser said: %s", lastLine(l.stderr.String()))
	holder := fmt.Sprintf("process %d on %s", w.cmd.Process.Pid, host)
	if msg := l.stderr.String(); !strings.Contains(msg, holder) || !strings.HasPrefix(lastLine(msg), "vaexp: ") {
		t.Errorf("the loser's message does not name the holder (%s):\n%s", holder, msg)
	}
	after, _ := os.ReadFile(logPath)
	added := strings.TrimPrefix(string(after), string(before))
	if n := len(regexp.MustCompile(`resuming run 1 from step`).FindAllString(added, -1)); n != 1 {
		t.Errorf("run.log shows %d resumes, want 1:\n%s", n, added)
	}
}

// TestBadRunFolderStopsAtOnce: a runs folder (--out) that is an existing
// file, or a path too long for the file system, made train loop forever at
// 100% CPU, deaf to SIGTERM. It must stop at once with a usage error naming
// the path, and record nothing.
func TestBadRunFolderStopsAtOnce(t *testing.T) {
	bin := needBinary(t, "builds the binary")
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, out, want string
	}{
		{"file", file, "is a file, not a folder"},
		{"inside a file", filepath.Join(file, "runs"), "is a file, not a folder"},
		{"too long", filepath.Join(dir, strings.Repeat("r", 300)), "too long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dbPath := filepath.Join(t.TempDir(), "vaexp.db")
			p := start(t, bin, "--db", dbPath, "--out", c.out, "train", "--limit", "256", "--steps", "2", "--quiet")
			select {
			case err := <-p.done:
				p.done <- err
			case <-time.After(60 * time.Second):
				_ = p.cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-p.done:
					t.Fatalf("train with --out %s ran for a minute; it stopped only on SIGTERM", c.out)
				case <-time.After(5 * time.Second):
					t.Fatalf("train with --out %s ran for a minute and ignored SIGTERM", c.out)
				}
			}
			msg := lastLine(p.stderr.String())
			if code := p.exitCode(t); code != 2 || !strings.Contains(msg, c.out) || !strings.Contains(msg, c.want) || !strings.Contains(msg, "--out") {
				t.Errorf("exit %d, message %q: want 2 and one naming %s, %q and --out", code, msg, c.out, c.want)
			}
			if _, err := os.Stat(dbPath); err == nil {
				t.Error("a database file was created for a usage mistake")
			}
		})
	}
}

// fileSizeLimitMu serializes the windows in which this test process lowers
// its own file size limit so that a child inherits it.
var fileSizeLimitMu sync.Mutex

// startWithFileLimit starts vaexp with RLIMIT_FSIZE set to limit bytes: every
// write past that offset of any file fails with EFBIG, as writes fail on a
// full disk. It needs no privileges (unlike mounting a small file system).
// The child inherits the limit from this process, which lowers it only
// around the fork.
func startWithFileLimit(t *testing.T, limit uint64, bin string, args ...string) *proc {
	t.Helper()
	fileSizeLimitMu.Lock()
	defer fileSizeLimitMu.Unlock()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := syscall.Rlimit{Cur: min(limit, old.Max), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
			t.Fatal(err)
		}
	}()
	return start(t, bin, args...)
}

// diskFullTrain is a run whose first checkpoint (8 steps in, ~7 MB) does not
// fit: 2048 examples, batch 64, checkpoint every 8 steps.
func diskFullTrain(db, runs string) []string {
	return []string{"--db", db, "--out", runs, "train", "--limit", "2048", "--test-limit", "100", "--batch-size", "64",
		"--epochs", "4", "--checkpoint-every", "8", "--samples", "0", "--quiet"}
}

// checkHonestFailure checks a training process that ran out of space: exit
// 1, the run recorded as failed with its metrics (not left running), and no
// partial checkpoint file left behind.
func checkHonestFailure(t *testing.T, p *proc, dbPath, runs string) {
	t.Helper()
	if code := p.exitCode(t); code != 1 || lastLine(p.stdout.String()) != "run 1 failed" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, p.stdout.String(), p.stderr.String())
	}
	db := openDBRead(t, dbPath)
	r, err := db.Run(1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "failed" || !strings.Contains(r.Error, "checkpoint") || !strings.Contains(r.Error, "removed the partial checkpoint files") {
		t.Errorf("run 1: status %s, error %q; want failed, naming the checkpoint save and the removed files", r.Status, r.Error)
	}
	if h, _ := db.MetricHistory(1, "train/loss"); len(h) < 8 {
		t.Errorf("%d train/loss points recorded, want the 8 steps before the failed save", len(h))
	}
	left, _ := os.ReadDir(filepath.Join(runs, "1", "checkpoint"))
	if len(left) != 0 {
		t.Errorf("files left in the checkpoint folder: %v", names(left))
	}
}

// openDBRead opens a database for the test's checks and closes it at the end.
func openDBRead(t *testing.T, path string) *tracker.DB {
	t.Helper()
	db, err := tracker.OpenExisting(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestDiskFull runs out of space in the middle of a run, with a real file
// size limit (always) and a real 1 MiB tmpfs (where mounting is permitted):
// the run must end honestly (failed, or killed once space is back; never
// 'running' forever), its partial checkpoint must be removed, and reading
// (runs list) must work while nothing can be written.
func TestDiskFull(t *testing.T) {
	bin := needBinary(t, "builds the binary and trains")

	t.Run("file size limit", func(t *testing.T) {
		dbPath, runs := freshPaths(t)
		// 1 MiB: the database and the run's log fit, the checkpoint does not.
		p := startWithFileLimit(t, 1<<20, bin, diskFullTrain(dbPath, runs)...)
		checkHonestFailure(t, p, dbPath, runs)

		// With no byte writable, SQLite cannot even create its index file:
		// listing must still work, reading the database as it is.
		l := startWithFileLimit(t, 0, bin, "--db", dbPath, "runs", "list")
		if code := l.exitCode(t); code != 0 || !regexp.MustCompile(`(?m)^1\s.*\sfailed\s`).MatchString(l.stdout.String()) {
			t.Errorf("runs list with no writable byte: exit %d\n%s%s", code, l.stdout.String(), l.stderr.String())
		}
	})

	t.Run("tmpfs", func(t *testing.T) {
		mnt := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a 1 MiB tmpfs here (%v: %s); the file size limit case covers the logic", err, strings.TrimSpace(string(out)))
		}
		t.Cleanup(func() {
			if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
				t.Errorf("umount %s: %v %s", mnt, err, out)
			}
		})
		dbPath, runs := filepath.Join(mnt, "vaexp.db"), filepath.Join(mnt, "runs")

		// Everything on the small disk: the checkpoint does not fit.
		checkHonestFailure(t, start(t, bin, diskFullTrain(dbPath, runs)...), dbPath, runs)

		// The disk filled by something else: listing reads.
		filler := filepath.Join(mnt, "filler")
		fill(t, filler, 1<<30)
		l := start(t, bin, "--db", dbPath, "runs", "list")
		if code := l.exitCode(t); code != 0 || !strings.Contains(l.stdout.String(), "failed") {
			t.Errorf("runs list on a full disk: exit %d\n%s%s", code, l.stdout.String(), l.stderr.String())
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}

		// The database's disk fills while a run trains (checkpoints go
		// elsewhere): the run's last writes fail, the process exits with
		// the run still marked running under its pid, and once there is
		// space again the next listing finds it killed.
		fresh := filepath.Join(mnt, "second.db")
		var st syscall.Statfs_t
		if err := syscall.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		fill(t, filler, int64(st.Bavail)*st.Bsize-240<<10) // leave 240 KiB: room to start, not to finish
		p := start(t, bin, diskFullTrain(fresh, t.TempDir())...)
		if code := p.exitCode(t); code != 1 || !strings.Contains(p.stderr.String(), "could not be") {
			t.Fatalf("exit %d, want 1 and a note of what could not be written\n%s", code, p.stderr.String())
		}
		statusLost := strings.Contains(p.stderr.String(), "could not be recorded")
		t.Logf("the full disk stopped the run with: %s", lastLine(p.stderr.String()))
		l = start(t, bin, "--db", fresh, "runs", "list")
		if code := l.exitCode(t); code != 0 {
			t.Errorf("runs list while the disk is full: exit %d\n%s", code, l.stderr.String())
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		l = start(t, bin, "--db", fresh, "runs", "list")
		want := `(failed|killed)` // the status recorded, or found dead
		if statusLost {
			want = `killed` // as the message promised
		}
		if code := l.exitCode(t); code != 0 || !regexp.MustCompile(`(?m)^1\s.*\s`+want+`\s`).MatchString(l.stdout.String()) {
			t.Errorf("runs list once space is back: exit %d, want run 1 %s\n%s%s\ntrain said:\n%s", code, want, l.stdout.String(), l.stderr.String(), p.stderr.String())
		}
	})
}

// fill writes zeros to path until the disk is full or max bytes are written.
func fill(t *testing.T, path string, max int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for n := int64(0); n < max; n += int64(len(buf)) {
		if _, err := f.Write(buf[:min(int64(len(buf)), max-n)]); err != nil {
			break // full
		}
	}
}

// TestSignalDuringFinalEvaluation interrupts the importance-sampled
// log-likelihood estimate at the end of a run, a phase that can take
// minutes: the signal must stop it promptly, mark the run killed, and a
// resume must run the evaluation again and finish.
func TestSignalDuringFinalEvaluation(t *testing.T) {
	bin := needBinary(t, "builds the binary and trains")
	dbPath, runs := freshPaths(t)
	// 200 examples × 20,000 samples: about 12 s of estimate on a 2-core
	// AVX-512 machine (longer on AVX2), 0.1 s per example and worker, so the
	// signal lands inside it and a prompt stop is far shorter than the rest.
	p := start(t, bin, "--db", dbPath, "--out", runs, "train", "--limit", "256", "--test-limit", "200", "--batch-size", "64",
		"--steps", "4", "--iwae-k", "20000", "--samples", "0", "--quiet")
	logPath := filepath.Join(runs, "1", "run.log")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if log, _ := os.ReadFile(logPath); strings.Contains(string(log), "estimating the log-likelihood") {
			break
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("the run ended before its IWAE estimate could be interrupted\n%s%s", p.stdout.String(), p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the run did not reach its IWAE estimate within 2 minutes")
		}
	}
	time.Sleep(100 * time.Millisecond) // into the estimate
	signalled := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
	case <-time.After(30 * time.Second):
		t.Fatalf("SIGINT during the final evaluation: still running after 30 s\n%s", p.stderr.String())
	}
	stopped := time.Since(signalled)
	msg := lastLine(p.stderr.String())
	t.Logf("stopped %v after SIGINT: %s", stopped.Round(time.Millisecond), msg)
	if stopped > 4*time.Second {
		t.Errorf("stopped %v after SIGINT: the estimate must stop after the examples in progress, not run to its end", stopped.Round(time.Millisecond))
	}
	if code := p.exitCode(t); code != 1 || lastLine(p.stdout.String()) != "run 1 killed" ||
		!strings.Contains(msg, "final evaluation") || !strings.Contains(msg, "--resume 1") {
		t.Fatalf("exit %d, stdout %q, message %q: want 1, run 1 killed, and how to run the evaluation again", code, lastLine(p.stdout.String()), msg)
	}

	stdout, stderr, code := runVaexp(t, bin, "--db", dbPath, "train", "--resume", "1", "--quiet")
	if code != 0 || lastLine(stdout) != "run 1 finished" || !strings.Contains(stdout, "test/iwae_nll") {
		t.Fatalf("resume after an interrupted evaluation: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestInvalidSIMDSwitch: GoMLX panics at start-up, with a stack trace, on a
// SIMD switch it cannot read; vaexp must say so in one line and go on.
func TestInvalidSIMDSwitch(t *testing.T) {
	cmd := exec.Command(needBinary(t, "builds the binary"), "version")
	cmd.Env = append(os.Environ(), "GOMLX_GO_SIMD_AVX512=maybe")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `GOMLX_GO_SIMD_AVX512="maybe" is not true or false`) || strings.Contains(string(out), "panic") {
		t.Errorf("GOMLX_GO_SIMD_AVX512=maybe vaexp version: %v\n%s", err, out)
	}
}
