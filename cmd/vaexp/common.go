package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/tracker"
)

// staleAfter is how long a 'running' run may go without a heartbeat before
// the CLI calls it killed: the same rule as resuming uses.
const staleAfter = tracker.StaleAfter

// openDB opens the tracker database. Only a new training run creates it:
// every other command (resuming one included) reports a missing file, and
// never writes a schema into a file that has none.
func (a *app) openDB(create bool) (*tracker.DB, error) {
	if create {
		return tracker.Open(a.dbPath)
	}
	db, err := tracker.OpenExisting(a.dbPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no tracker database at %q: train a run first (`vaexp train`), or point --db or $%s at the database",
			a.dbPath, tracker.EnvDB)
	}
	return db, err
}

// openDBFresh opens the database for reading run state and first marks runs
// whose process died as killed, so listings never show a dead run as running.
// Reading never depends on writing: when the marking fails (a full disk, a
// read-only file system) the command goes on with a warning.
func (a *app) openDBFresh() (*tracker.DB, error) {
	db, err := a.openDB(false)
	if err != nil {
		return nil, err
	}
	if _, err := db.MarkStale(staleAfter); err != nil && a.stderr != nil {
		fmt.Fprintf(a.stderr, "vaexp: warning: runs whose process has died may still show as running: %v\n", err)
	}
	return db, nil
}

// openRun opens the database (marking dead runs killed) and resolves one run
// argument (a number or "last"); the caller closes db.
func (a *app) openRun(arg string) (*tracker.DB, tracker.Run, error) {
	db, err := a.openDBFresh()
	if err != nil {
		return nil, tracker.Run{}, err
	}
	r, err := resolveRun(db, arg)
	if err != nil {
		db.Close()
		return nil, tracker.Run{}, err
	}
	return db, r, nil
}

// runIDArgs accepts exactly one RUN_ID argument: a run number or "last".
func runIDArgs(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s takes one RUN_ID (a run number, or last for the newest run), got %d arguments; e.g. `%s last`",
			c.CommandPath(), len(args), c.CommandPath())
	}
	_, err := parseRunID(args[0])
	return err
}

// parseRunID parses a RUN_ID argument; 0 means "last".
func parseRunID(s string) (int64, error) {
	if s == "last" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("run id %q: use a run number (see `vaexp runs list`) or last for the newest run", s)
	}
	return id, nil
}

// resolveRun turns a RUN_ID argument into a run of db.
func resolveRun(db *tracker.DB, arg string) (tracker.Run, error) {
	id, err := parseRunID(arg)
	if err != nil {
		return tracker.Run{}, err
	}
	if id != 0 {
		return db.Run(id)
	}
	runs, err := db.ListRuns()
	if err != nil {
		return tracker.Run{}, err
	}
	if len(runs) == 0 {
		return tracker.Run{}, fmt.Errorf("run last: the database %q has no runs yet; start one with `vaexp train`", db.Path())
	}
	return runs[0], nil
}

// writeFileAtomic writes path through a temporary file in the same folder
// renamed into place, so a failure never leaves a half-written file. write
// gets the temporary path, which keeps path's extension (plots choose the
// format by it).
func writeFileAtomic(path string, write func(tmp string) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*"+filepath.Ext(base))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("write %s: %v (does the folder %s exist and is it writable?)", path, err, dir)
	}
	tmp := f.Name()
	f.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmp)
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	return nil
}

// writeBytesAtomic writes data to path; see writeFileAtomic.
func writeBytesAtomic(path string, data []byte) error {
	return writeFileAtomic(path, func(tmp string) error {
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (t *table) row(cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(t.tw, strings.Join(parts, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// formatValue prints a metric value with six significant digits.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// formatTime prints a time in the local zone, or "-" when unset.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// runDuration is how long a run ran: to its end, or to its last heartbeat
// while it is still running.
func runDuration(r tracker.Run) time.Duration {
	end := r.EndedAt
	if end.IsZero() {
		end = r.HeartbeatAt
	}
	if end.IsZero() || r.StartedAt.IsZero() || end.Before(r.StartedAt) {
		return 0
	}
	return end.Sub(r.StartedAt)
}

// formatDuration prints 42s, 3m07s or 2h05m.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}

// formatSize prints a byte count as 812 B, 14.2 kB or 3.1 MB.
func formatSize(n int) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
}

// orDash prints "-" for an empty string.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
