package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func newTrackerCmd(a *app) *cobra.Command {
	c := &cobra.Command{
		Use:   "tracker",
		Short: "Maintain tracker database files: merge",
		Args:  groupArgs,
		RunE:  groupRun,
	}
	c.AddCommand(newTrackerMergeCmd(a))
	return c
}

func newTrackerMergeCmd(a *app) *cobra.Command {
	var into string
	var quiet bool
	c := &cobra.Command{
		Use:   "merge A.db [B.db ...] --into ALL.db",
		Short: "Merge tracker files (e.g. one per job-array task) into one, without duplicates",
		Long: "merge copies every run (params, metrics, tags, artifacts) and every sweep (trials, rung\n" +
			"results) of the given files into --into, creating it if needed, in one transaction: all\n" +
			"of it or nothing. A run is recognized by its uid, so merging again adds nothing, and a run\n" +
			"merged while running is replaced by its later state. Runs new to --into get its next ids\n" +
			"(in source order); sweep trials follow their runs. Sweeps and experiments are matched by\n" +
			"name. A file is never merged into itself.",
		Example: "  vaexp tracker merge sweep-beta/task-*.db --into sweep-beta/all.db\n" +
			"  vaexp --db sweep-beta/all.db sweep status beta",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("tracker merge needs the files to merge, e.g. `vaexp tracker merge task-*.db --into all.db`")
			}
			if into == "" {
				return usagef("tracker merge needs --into FILE (the database to merge into; --db is not used here)")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if target, err := os.Stat(into); err == nil {
				for _, src := range args {
					if fi, err := os.Stat(src); err == nil && os.SameFile(fi, target) {
						return usagef("%s is the target database %s itself: list only other files to merge into it", src, into)
					}
				}
			}
			saved := a.dbPath
			a.dbPath = into
			db, err := a.openDB(true)
			a.dbPath = saved
			if err != nil {
				return err
			}
			defer db.Close()
			w := c.OutOrStdout()
			var progress func(string)
			if !quiet {
				progress = func(s string) { fmt.Fprintln(c.ErrOrStderr(), s) }
			}
			rep, err := db.Merge(args, progress)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "merged %s into %s: %s added, %d updated, %d already there; %s added, %d trials advanced\n",
				plural(rep.Sources, "file"), into, plural(rep.RunsAdded, "run"), rep.RunsUpdated, rep.RunsSkipped,
				plural(rep.SweepsAdded, "sweep"), rep.TrialsUpdated)
			return nil
		},
	}
	c.Flags().StringVar(&into, "into", "", "the database `FILE` to merge into (created if missing)")
	c.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines")
	return c
}
