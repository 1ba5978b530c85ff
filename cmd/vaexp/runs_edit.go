package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/tracker"
)

func newRunsTagCmd(a *app) *cobra.Command {
	var remove []string
	c := &cobra.Command{
		Use:   "tag RUN_ID key=value... [--delete KEY]...",
		Short: "Set or remove tags of a run",
		Long: "tag sets each key=value as a tag of the run (replacing a tag of the same key) and\n" +
			"removes each --delete KEY. Filter on tags with --filter \"tags.KEY = 'value'\".",
		Example: "  vaexp runs tag 3 note=keep baseline=yes\n" +
			"  vaexp runs tag last --delete note",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("tag takes a RUN_ID, then key=value tags; e.g. `vaexp runs tag 3 note=keep`")
			}
			if _, err := parseRunID(args[0]); err != nil {
				return err
			}
			if _, err := parseTags(args[1:]); err != nil {
				return err
			}
			if len(args) == 1 && len(remove) == 0 {
				return usagef("tag %s: give key=value tags to set, or --delete KEY; e.g. `vaexp runs tag %s note=keep`", args[0], args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			return a.runsTag(c, args[0], args[1:], remove)
		},
	}
	c.Flags().StringArrayVar(&remove, "delete", nil, "remove the tag `KEY` (repeatable)")
	return c
}

// tagPair is one key=value argument.
type tagPair struct{ key, value string }

// parseTags parses key=value arguments, in order.
func parseTags(args []string) ([]tagPair, error) {
	var out []tagPair
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usagef("tag %q: want key=value, e.g. note=keep (remove a tag with --delete KEY)", arg)
		}
		out = append(out, tagPair{k, strings.TrimSpace(v)})
	}
	return out, nil
}

func (a *app) runsTag(c *cobra.Command, arg string, pairs, remove []string) error {
	tags, err := parseTags(pairs)
	if err != nil {
		return err
	}
	db, err := a.openDB(false)
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := resolveRun(db, arg)
	if err != nil {
		return err
	}
	for _, t := range tags {
		if err := db.SetTag(r.ID, t.key, t.value); err != nil {
			return err
		}
	}
	for _, k := range remove {
		if err := db.DeleteTag(r.ID, strings.TrimSpace(k)); err != nil {
			return err
		}
	}
	now, err := db.Tags(r.ID)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(now))
	for k := range now {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + now[k]
	}
	list := strings.Join(keys, ", ")
	if list == "" {
		list = "(none)"
	}
	fmt.Fprintf(c.OutOrStdout(), "run %d tags: %s\n", r.ID, list)
	return nil
}

func newRunsDeleteCmd(a *app) *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete RUN_ID... [--yes]",
		Short: "Delete runs: their params, metrics, tags and artifacts, and their folders",
		Long: "delete removes each run from the database with its params, metrics, tags and\n" +
			"artifacts, in one transaction per run, and then its folder (checkpoints, log,\n" +
			"spec) if that folder is inside the runs folder (the global --out, default runs);\n" +
			"a folder elsewhere is kept. It asks for each run unless --yes is given, and\n" +
			"refuses a run that is still running.",
		Example: "  vaexp runs delete 3\n" +
			"  vaexp --out /data/runs runs delete 4 5 6 --yes",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("delete takes one or more RUN_IDs (run numbers, or last); e.g. `vaexp runs delete 3`")
			}
			for _, arg := range args {
				if _, err := parseRunID(arg); err != nil {
					return err
				}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runsDelete(c, args, yes) },
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking")
	return c
}

func (a *app) runsDelete(c *cobra.Command, args []string, yes bool) error {
	db, err := a.openDBFresh() // a dead run shows as killed, and can go
	if err != nil {
		return err
	}
	defer db.Close()
	// Every id is checked before anything is deleted.
	var runs []tracker.Run
	seen := map[int64]bool{}
	for _, arg := range args {
		r, err := resolveRun(db, arg)
		if err != nil {
			return err
		}
		if r.Status == tracker.StatusRunning {
			return runningError(r, len(args))
		}
		if !seen[r.ID] {
			seen[r.ID] = true
			runs = append(runs, r)
		}
	}
	w := c.OutOrStdout()
	in := bufio.NewReader(c.InOrStdin())
	for _, r := range runs {
		if !yes {
			fmt.Fprintf(c.ErrOrStderr(), "delete run %d (%s, %s, %s)? [y/N] ", r.ID, orDash(r.Family), r.Status, ago(r.StartedAt, time.Now()))
			if !confirmed(in) {
				fmt.Fprintf(w, "kept run %d\n", r.ID)
				continue
			}
		}
		if err := db.DeleteRun(r.ID); err != nil {
			if errors.Is(err, tracker.ErrRunning) {
				return runningError(r, len(args))
			}
			return err
		}
		folder, err := a.removeRunDir(r)
		if err != nil {
			return fmt.Errorf("deleted run %d from %s, but %w", r.ID, db.Path(), err)
		}
		fmt.Fprintf(w, "deleted run %d from %s (params, metrics, tags, artifacts); %s\n", r.ID, db.Path(), folder)
	}
	return nil
}

// runningError refuses to delete a running run: its process would keep
// writing to rows that no longer exist.
func runningError(r tracker.Run, n int) error {
	nothing := ""
	if n > 1 {
		nothing = "; nothing was deleted"
	}
	return fmt.Errorf("run %d is still running (pid %d on %s): stop it first (Ctrl-C where it runs, or kill %d), then delete it%s",
		r.ID, r.PID, orDash(r.Host), r.PID, nothing)
}

// confirmed reads one answer; only y or yes (any case) is a yes, and the
// end of the input is a no.
func confirmed(in *bufio.Reader) bool {
	line, err := in.ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// removeRunDir removes a deleted run's folder if it lies inside the runs
// folder (a.outDir), and says what became of it.
func (a *app) removeRunDir(r tracker.Run) (string, error) {
	if r.RunDir == "" {
		return "it had no folder", nil
	}
	if _, err := os.Lstat(r.RunDir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Sprintf("its folder %s was already gone", r.RunDir), nil
	}
	inside, err := within(r.RunDir, a.outDir)
	if err != nil {
		return "", fmt.Errorf("could not check its folder %s: %w", r.RunDir, err)
	}
	if !inside {
		return fmt.Sprintf("kept its folder %s: it is outside the runs folder %s (--out)", r.RunDir, a.outDir), nil
	}
	if err := os.RemoveAll(r.RunDir); err != nil {
		return "", fmt.Errorf("could not remove its folder: %w", err)
	}
	return fmt.Sprintf("removed its folder %s", r.RunDir), nil
}

// within reports whether path lies strictly inside root, after resolving
// both to absolute paths without symbolic links: a link can never lead the
// removal outside root.
func within(path, root string) (bool, error) {
	resolve := func(p string) (string, error) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			return real, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return abs, nil
	}
	p, err := resolve(path)
	if err != nil {
		return false, err
	}
	base, err := resolve(root)
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(base, p)
	if err != nil {
		return false, nil
	}
	return rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel), nil
}

// ago says how long before now t was: "just now", "5 minutes ago",
// "3 hours ago", "2 days ago".
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "start unknown"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute") + " ago"
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour") + " ago"
	}
	return plural(int(d.Hours()/24), "day") + " ago"
}
