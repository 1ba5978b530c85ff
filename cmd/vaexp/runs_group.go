package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
)

func newRunsGroupCmd(a *app) *cobra.Command {
	var filter, by, metric, out string
	c := &cobra.Command{
		Use:   "group --by FIELD [--metric FIELD] [--filter EXPR] [--out FILE]",
		Short: "Summarize a metric over seeds: mean, std, min, max and count per value of a field",
		Long: "group groups the runs matching --filter by the value of --by (typically a param\n" +
			"swept over several seeds) and summarizes --metric in each group: the number of runs\n" +
			"with a value (N), mean, sample standard deviation (n−1), min, max, and the runs\n" +
			"lacking the metric (MISSING; e.g. killed before the test). With --out it also draws\n" +
			"the means with ±std error bars and min–max ranges (" + strings.Join(figureExts, ", ") + ").",
		Example: "  vaexp runs group --by params.beta --metric metrics.test/nelbo\n" +
			"  vaexp runs group --by params.beta --filter \"status = 'finished'\" --out group.png\n" +
			"  vaexp runs group --by family --metric 'min(metrics.val/nelbo)'\n" +
			"  vaexp runs group --by 'params.* except seed' --filter \"sweep = 'latent_lr'\"   # one group per configuration",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if by == "" {
				return usagef("group needs --by FIELD, e.g. --by params.beta")
			}
			return a.runsGroup(c, filter, by, metric, out)
		},
	}
	fl := c.Flags()
	fl.SortFlags = false
	fl.StringVar(&by, "by", "", "group by this `FIELD`, e.g. params.beta, family or tags.note; or by every param but some: 'params.* except seed'")
	fl.StringVar(&metric, "metric", "metrics.test/nelbo", "summarize this numeric `FIELD`, e.g. metrics.test/nelbo or min(metrics.val/nelbo)")
	fl.StringVarP(&filter, "filter", "f", "", "only runs matching `EXPR` (see `vaexp runs list --help`)")
	fl.StringVarP(&out, "out", "o", "", "also draw the groups as error bars into this figure `FILE` ("+strings.Join(figureExts, ", ")+")")
	return c
}

// groupField parses --by or --metric. A bare metric key (test/nelbo) is
// taken as metrics.test/nelbo.
func groupField(flag, s string, numeric bool) (tracker.Field, error) {
	f, err := tracker.ParseField(s)
	if err != nil && numeric && !strings.ContainsAny(s, ".()") {
		if g, err2 := tracker.ParseField("metrics." + s); err2 == nil {
			f, err = g, nil
		}
	}
	if err != nil {
		return f, fmt.Errorf("--%s: %w", flag, err)
	}
	if numeric {
		ns, key := f.Namespace(), f.Key()
		if ns == "tags" || (ns == "attribute" && key != "id" && key != "seed") {
			return f, usagef("--%s %s is not numeric: use a metric (metrics.test/nelbo), a numeric param, or seed", flag, f)
		}
	}
	return f, nil
}

func (a *app) runsGroup(c *cobra.Command, filter, by, metric, out string) error {
	except, allParams, err := tracker.ParamsExcept(by)
	if err != nil {
		return usageError{err}
	}
	var byF tracker.Field
	if !allParams {
		if byF, err = groupField("by", by, false); err != nil {
			return err
		}
	}
	mF, err := groupField("metric", metric, true)
	if err != nil {
		return err
	}
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
	byName := by
	var groups []tracker.GroupStat
	if allParams {
		byName = strings.TrimSpace(by)
		groups, err = db.Runs().Where(filter).GroupByParams(except, mF.String())
	} else {
		byName = byF.String()
		groups, err = db.Group(filter, byName, mF.String())
	}
	if err != nil {
		return err
	}
	w := c.OutOrStdout()
	if len(groups) == 0 {
		if strings.TrimSpace(filter) != "" {
			fmt.Fprintf(w, "no runs match --filter %q\n", filter)
		} else {
			fmt.Fprintf(w, "no runs in %s yet; start one with `vaexp train`\n", db.Path())
		}
		return nil
	}

	var wrote string
	if out != "" {
		if wrote, err = drawGroups(groups, byName, mF, filter, out); err != nil {
			return err
		}
	}
	t := newTable(w)
	t.row(byName, "N", "MEAN", "STD", "MIN", "MAX", "MISSING", "RUNS")
	for _, g := range groups {
		t.row(groupLabel(g), g.Count, statText(g.Mean), statText(g.Std), statText(g.Min), statText(g.Max), g.Missing, idRanges(g.RunIDs))
	}
	if err := t.flush(); err != nil {
		return err
	}
	if wrote != "" {
		fmt.Fprintln(w, "\n"+wrote)
	}
	return nil
}

// groupLabel names a group in the table; runs lacking the field form the
// group "(none)".
func groupLabel(g tracker.GroupStat) string {
	if g.Value == nil {
		return "(none)"
	}
	return cellText(g.Value, true)
}

// statText prints a summary statistic, "-" where it is undefined (the std
// of one value, anything of none).
func statText(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return formatValue(v)
}

// drawGroups writes the error-bar figure of the groups and returns the
// line reporting it. The group of runs lacking the field is left out: it
// has no place on a numeric axis.
func drawGroups(groups []tracker.GroupStat, by string, metric tracker.Field, filter, out string) (string, error) {
	var bars []plots.Group
	var none, runs int
	for _, g := range groups {
		if g.Value == nil {
			none = len(g.RunIDs)
			continue
		}
		if g.Count == 0 {
			continue
		}
		bars = append(bars, plots.Group{Label: g.Label, Mean: g.Mean, Std: g.Std, Min: g.Min, Max: g.Max, N: g.Count})
		runs += g.Count
	}
	if len(bars) == 0 {
		return "", fmt.Errorf("no group has a value of %s to draw; check --metric (see `vaexp runs show RUN_ID` for a run's metrics)", metric)
	}
	title := metric.String() + " by " + by
	if f := strings.TrimSpace(filter); f != "" {
		title += "  (" + clipText(f, 60) + ")"
	}
	p, err := plots.ErrorBars(bars, plots.CurveOptions{Title: title, XLabel: by, YLabel: metric.String()})
	if err != nil {
		return "", err
	}
	if err := writeFileAtomic(out, func(tmp string) error { return plots.Save(p, tmp, 0, 0) }); err != nil {
		return "", err
	}
	msg := fmt.Sprintf("wrote %s (%s, %s)", out, plural(len(bars), "group"), plural(runs, "run"))
	if none > 0 {
		msg += fmt.Sprintf("; %s without %s left out", plural(none, "run"), by)
	}
	return msg, nil
}

// idRanges prints run ids compactly: 1-3,7,9-10.
func idRanges(ids []int64) string {
	sorted := slices.Sorted(slices.Values(ids))
	var parts []string
	for i := 0; i < len(sorted); {
		j := i
		for j+1 < len(sorted) && sorted[j+1] == sorted[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(sorted[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", sorted[i], sorted[j]))
		}
		i = j + 1
	}
	return clipText(strings.Join(parts, ","), maxCell)
}

// clipText shortens s to at most n runes, ending it with "…" when cut.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// plural prints "1 run", "3 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
