package main

// Faults a hostile tester found (issue 8), each checked with real processes,
// signals and file systems.

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConcurrentResume starts two `train --resume 1` of one killed run at
// the same moment: exactly one may run it, and the other must say which
// process (pid and host) holds it, without writing to the run's log.
func TestConcurrentResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and trains")
	}
	bin := buildVaexp(t)
	dir := t.TempDir()
	dbPath, runs := filepath.Join(dir, "vaexp.db"), filepath.Join(dir, "runs")
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
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildVaexp(t)
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
