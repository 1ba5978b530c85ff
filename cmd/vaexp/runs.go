package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/tracker"
)

// listMetrics are the final metrics `runs list` shows, in order of preference.
var listMetrics = []string{"test/nelbo", "test/loss", "val/nelbo", "val/loss", "train/loss"}

func newRunsListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the runs, newest first",
		Long: "list shows every run of the database, newest first. A run whose process died\n" +
			"without finishing is marked killed first.",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return a.runsList(c) },
	}
}

func (a *app) runsList(c *cobra.Command) error {
	db, err := a.openDBFresh()
	if err != nil {
		return err
	}
	defer db.Close()
	runs, err := db.ListRuns()
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		fmt.Fprintf(c.OutOrStdout(), "no runs in %s yet; start one with `vaexp train`\n", db.Path())
		return nil
	}
	t := newTable(c.OutOrStdout())
	t.row("ID", "NAME", "MODEL", "STATUS", "STARTED", "DURATION", "STEPS", "FINAL")
	for _, r := range runs {
		latest, err := db.LatestMetrics(r.ID)
		if err != nil {
			return err
		}
		t.row(r.ID, orDash(r.Name), orDash(r.Family), r.Status, formatTime(r.StartedAt),
			formatDuration(runDuration(r)), trainSteps(latest), finalMetric(latest))
	}
	return t.flush()
}

// trainSteps is the highest training step a run recorded.
func trainSteps(latest []tracker.LatestMetric) int64 {
	var n int64
	for _, m := range latest {
		if strings.HasPrefix(m.Key, "train/") {
			n = max(n, m.Step)
		}
	}
	return n
}

// finalMetric names the run's headline number: the first of listMetrics it has.
func finalMetric(latest []tracker.LatestMetric) string {
	for _, key := range listMetrics {
		for _, m := range latest {
			if m.Key == key {
				return key + " " + formatValue(m.Value)
			}
		}
	}
	return "-"
}

func newRunsShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "show RUN_ID",
		Short:   "Show a run: attributes, parameters, tags, final metrics, artifacts",
		Example: "  vaexp runs show 3\n  vaexp runs show last",
		Args:    runIDArgs,
		RunE:    func(c *cobra.Command, args []string) error { return a.runsShow(c, args[0]) },
	}
}

func (a *app) runsShow(c *cobra.Command, arg string) error {
	db, err := a.openDBFresh()
	if err != nil {
		return err
	}
	defer db.Close()
	r, err := resolveRun(db, arg)
	if err != nil {
		return err
	}
	params, err := db.Params(r.ID)
	if err != nil {
		return err
	}
	tags, err := db.Tags(r.ID)
	if err != nil {
		return err
	}
	latest, err := db.LatestMetrics(r.ID)
	if err != nil {
		return err
	}
	arts, err := db.Artifacts(r.ID)
	if err != nil {
		return err
	}

	w := c.OutOrStdout()
	t := newTable(w)
	t.row("id", r.ID)
	t.row("name", orDash(r.Name))
	t.row("experiment", orDash(r.Experiment))
	t.row("model", orDash(r.Family))
	t.row("status", r.Status)
	if r.Error != "" {
		t.row("error", r.Error)
	}
	t.row("started", formatTime(r.StartedAt))
	t.row("ended", formatTime(r.EndedAt))
	t.row("duration", formatDuration(runDuration(r)))
	t.row("steps", trainSteps(latest))
	t.row("seed", r.Seed)
	t.row("backend", orDash(r.Backend))
	t.row("host", fmt.Sprintf("%s (pid %d)", orDash(r.Host), r.PID))
	t.row("git commit", orDash(r.GitCommit))
	t.row("folder", orDash(r.RunDir))
	t.row("command", orDash(r.Command))
	if err := t.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nparams")
	t = newTable(w)
	for _, p := range params {
		t.row("  "+p.Key, p.Value)
	}
	if err := t.flush(); err != nil {
		return err
	}

	if len(tags) > 0 {
		fmt.Fprintln(w, "\ntags")
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t = newTable(w)
		for _, k := range keys {
			t.row("  "+k, tags[k])
		}
		if err := t.flush(); err != nil {
			return err
		}
	}

	fmt.Fprintln(w, "\nmetrics")
	t = newTable(w)
	t.row("  KEY", "STEP", "VALUE", "MIN", "MAX")
	for _, m := range latest {
		t.row("  "+m.Key, m.Step, formatValue(m.Value), formatValue(m.Min), formatValue(m.Max))
	}
	if err := t.flush(); err != nil {
		return err
	}

	fmt.Fprintln(w, "\nartifacts")
	t = newTable(w)
	t.row("  NAME", "STEP", "TYPE", "SIZE")
	for _, art := range arts {
		t.row("  "+art.Name, art.Step, art.MIME, formatSize(art.Size))
	}
	return t.flush()
}
