package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
)

func newRunsCompareCmd(a *app) *cobra.Command {
	var metric, out string
	c := &cobra.Command{
		Use:   "compare RUN_ID RUN_ID... [--out FILE --metric KEY]",
		Short: "Set runs side by side: params (differences marked), final metrics, tags; overlay their curves",
		Long: "compare lines up the runs' params, final metrics and tags, one column per run. A row\n" +
			"whose values differ (or that some run lacks) is marked with a * in its first column,\n" +
			"and drawn bold on a terminal. With --out it also draws the --metric curve of every\n" +
			"run on one set of axes (smoothed as `vaexp plot` does), labelled by the run and its\n" +
			"differing params. The format follows the extension of --out: " + strings.Join(figureExts, ", ") + ".",
		Example: "  vaexp runs compare 3 4 5\n" +
			"  vaexp runs compare 3 4 last --metric train/nelbo --out compare.png",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usagef("compare takes two or more RUN_IDs (run numbers, or last), got %d; e.g. `vaexp runs compare 3 4`", len(args))
			}
			for _, arg := range args {
				if _, err := parseRunID(arg); err != nil {
					return err
				}
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" && c.Flags().Changed("metric") {
				return usagef("--metric %s chooses the curves drawn into --out FILE; add e.g. --out compare.png", metric)
			}
			return a.runsCompare(c, args, metric, out)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&out, "out", "o", "", "also draw the runs' --metric curves into this figure `FILE` ("+strings.Join(figureExts, ", ")+")")
	fl.StringVar(&metric, "metric", "train/loss", "metric `KEY` whose curves --out overlays, e.g. train/nelbo or val/loss")
	return c
}

func (a *app) runsCompare(c *cobra.Command, args []string, metric, out string) error {
	if out != "" {
		if ext := strings.ToLower(filepath.Ext(out)); !slices.Contains(figureExts, ext) {
			return usagef("--out %q: unsupported figure format %q; use a file name ending in %s", out, ext, strings.Join(figureExts, ", "))
		}
	}
	db, err := a.openDBFresh()
	if err != nil {
		return err
	}
	defer db.Close()
	ids := make([]int64, len(args))
	for i, arg := range args {
		r, err := resolveRun(db, arg)
		if err != nil {
			return err
		}
		ids[i] = r.ID
	}
	cmp, err := db.Compare(ids...)
	if err != nil {
		return err
	}
	if len(cmp.Runs) < 2 {
		return usagef("compare needs two different runs; %s all name run %d", strings.Join(args, ", "), cmp.Runs[0].ID)
	}

	var wrote string
	if out != "" {
		if wrote, err = drawComparison(db, cmp, metric, out); err != nil {
			return err
		}
	}
	w := c.OutOrStdout()
	if err := writeComparison(w, cmp, colorOK(w)); err != nil {
		return err
	}
	if wrote != "" {
		fmt.Fprintln(w, "\n"+wrote)
	}
	return nil
}

// writeComparison prints the comparison table; bold marks the differing
// rows as well as the * when the output is a terminal.
func writeComparison(w io.Writer, cmp tracker.Comparison, bold bool) error {
	var buf bytes.Buffer
	t := newTable(&buf)
	var marked []bool // per line of the table
	row := func(mark bool, cells ...any) {
		t.row(cells...)
		marked = append(marked, mark)
	}
	n := len(cmp.Runs)
	cells := func(first string, value func(r tracker.RunRow) string) []any {
		out := make([]any, 0, n+1)
		out = append(out, first)
		for _, r := range cmp.Runs {
			out = append(out, value(r))
		}
		return out
	}
	row(false, cells("", func(r tracker.RunRow) string { return fmt.Sprintf("run %d", r.ID) })...)
	row(false, cells("  name", func(r tracker.RunRow) string { return cellText(r.Name, true) })...)
	row(false, cells("  model", func(r tracker.RunRow) string { return cellText(r.Family, true) })...)
	row(false, cells("  status", func(r tracker.RunRow) string { return r.Status })...)
	row(false, cells("  started", func(r tracker.RunRow) string { return formatTime(r.StartedAt) })...)
	row(false, cells("  duration", func(r tracker.RunRow) string { return formatDuration(runDuration(r.Run)) })...)
	sections := []struct {
		title string
		rows  []tracker.CompareRow
	}{{"params", cmp.Params}, {"final metrics", cmp.Metrics}, {"tags", cmp.Tags}}
	for _, s := range sections {
		if len(s.rows) == 0 {
			continue
		}
		// Empty cells keep the title inside the table's column block:
		// tabwriter aligns only runs of lines that have tabs.
		row(false, cells(s.title, func(tracker.RunRow) string { return "" })...)
		for _, cr := range s.rows {
			mark := "  "
			if cr.Differs {
				mark = "* "
			}
			line := []any{mark + cr.Key}
			for _, v := range cr.Values {
				line = append(line, cellText(v, v != nil))
			}
			row(cr.Differs, line...)
		}
	}
	if err := t.flush(); err != nil {
		return err
	}
	// Styled after alignment: tabwriter would count the escape codes as width.
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, line := range lines {
		if strings.HasSuffix(line, "\n") {
			line = strings.TrimRight(line, " \n") + "\n"
		}
		if bold && i < len(marked) && marked[i] {
			line = "\x1b[1m" + strings.TrimSuffix(line, "\n") + "\x1b[0m\n"
		}
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}

// colorOK reports whether w is a terminal that takes ANSI styles
// (NO_COLOR unset, TERM not dumb).
func colorOK(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// drawComparison writes the figure overlaying the metric's curve of every
// compared run, and returns the line reporting it.
func drawComparison(db *tracker.DB, cmp tracker.Comparison, metric, out string) (string, error) {
	key, err := compareMetricKey(cmp.Runs, metric)
	if err != nil {
		return "", err
	}
	var series []plots.Series
	var lacking []string
	longest := 0
	for _, r := range cmp.Runs {
		h, err := db.MetricHistory(r.ID, key)
		if err != nil {
			return "", err
		}
		if len(h) == 0 {
			lacking = append(lacking, fmt.Sprint(r.ID))
			continue
		}
		s := plots.Series{Name: runLabel(r, cmp.Params)}
		for _, p := range h {
			s.X, s.Y = append(s.X, float64(p.Step)), append(s.Y, p.Value)
		}
		series = append(series, s)
		longest = max(longest, len(h))
	}
	smooth := longest / 50
	if smooth < 3 {
		smooth = 0
	}
	opt := plots.CurveOptions{
		Title:         key + " of runs " + runIDList(cmp.Runs),
		XLabel:        "step",
		YLabel:        key,
		Smooth:        smooth,
		SkipTransient: 0.05, // as `vaexp plot`: the first steps would flatten the rest
	}
	p, err := plots.Curves(series, opt)
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(out, func(tmp string) error { return plots.Save(p, tmp, 0, 0) }); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("wrote %s (%s of %d runs)", out, key, len(series))
	if len(lacking) > 0 {
		msg += fmt.Sprintf("; run %s has no %s", strings.Join(lacking, ", "), key)
	}
	return msg, nil
}

// compareMetricKey finds the stored key --metric names: "train/loss",
// "metrics.train/loss" or "train_loss". Some run must have it.
func compareMetricKey(runs []tracker.RunRow, metric string) (string, error) {
	metric = strings.TrimPrefix(metric, "metrics.")
	cands := []string{metric}
	for _, split := range splitOrder {
		if rest, ok := strings.CutPrefix(metric, split+"_"); ok && rest != "" {
			cands = append(cands, split+"/"+rest)
		}
	}
	have := map[string]bool{}
	for _, r := range runs {
		for k := range r.Metrics {
			have[k] = true
		}
	}
	for _, k := range cands {
		if have[k] {
			return k, nil
		}
	}
	keys := make([]string, 0, len(have))
	for k := range have {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "", fmt.Errorf("--metric %s: runs %s have logged no metrics yet", metric, runIDList(runs))
	}
	return "", fmt.Errorf("--metric %q: no run of %s has it; use one of %s", metric, runIDList(runs), strings.Join(keys, ", "))
}

// runLabel names a run in the figure's legend: its id and the values of
// the params that tell the runs apart (at most two). A param that only some
// runs have, with one value among them, tells nothing.
func runLabel(r tracker.RunRow, params []tracker.CompareRow) string {
	var parts []string
	for _, p := range params {
		distinct := map[string]bool{}
		for _, v := range p.Values {
			if v != nil {
				distinct[cellText(v, true)] = true
			}
		}
		v, ok := r.Params[p.Key]
		if len(distinct) < 2 || !ok {
			continue
		}
		if len(parts) == 2 {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, p.Key+"="+clipText(cellText(v, true), 16))
	}
	label := fmt.Sprintf("run %d", r.ID)
	if len(parts) > 0 {
		label += " (" + strings.Join(parts, ", ") + ")"
	}
	return label
}

// runIDList prints "3, 4, 5".
func runIDList(runs []tracker.RunRow) string {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = fmt.Sprint(r.ID)
	}
	return strings.Join(ids, ", ")
}
