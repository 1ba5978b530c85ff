package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
)

// figureExts are the formats `vaexp plot` writes (those plots.SavePanels knows).
var figureExts = []string{".png", ".svg", ".pdf"}

// panelOrder puts the headline metrics first; others follow by name.
var panelOrder = []string{"loss", "nelbo", "recon", "kl"}

// splitOrder is the order, and so the colour, of the series in every panel.
var splitOrder = []string{"train", "val", "test"}

func newPlotCmd(a *app) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "plot RUN_ID --out FILE",
		Short: "Draw a run's metric curves: one panel per metric, train/val/test overlaid",
		Long: "plot draws one panel per metric (loss, nelbo, recon, kl, ...) with the run's train\n" +
			"curve (raw and smoothed), its validation points and its final test value (a\n" +
			"horizontal line) overlaid. The format follows the extension of --out: " + strings.Join(figureExts, ", ") + ".",
		Example: "  vaexp plot last --out curves.png",
		Args:    runIDArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return usagef("plot needs --out FILE (%s), e.g. `vaexp plot %s --out curves.png`", strings.Join(figureExts, ", "), args[0])
			}
			return a.plot(c, args[0], out)
		},
	}
	c.Flags().StringVarP(&out, "out", "o", "", "figure to write ("+strings.Join(figureExts, ", ")+")")
	return c
}

func (a *app) plot(c *cobra.Command, arg, out string) error {
	ext := strings.ToLower(filepath.Ext(out))
	if !slices.Contains(figureExts, ext) {
		return usagef("--out %q: unsupported figure format %q; use a file name ending in %s", out, ext, strings.Join(figureExts, ", "))
	}
	db, r, err := a.openRun(arg)
	if err != nil {
		return err
	}
	defer db.Close()
	panels, notes, smooth, err := metricPanels(db, r.ID)
	if err != nil {
		return err
	}
	if len(panels) == 0 && len(notes) == 0 {
		return fmt.Errorf("run %d has no metrics to plot yet (status %s)", r.ID, r.Status)
	}
	cols := len(panels)
	if cols > 3 {
		cols = int(math.Ceil(math.Sqrt(float64(len(panels)))))
	}
	opt := plots.CurveOptions{
		Title:         fmt.Sprintf("run %d  %s  (%s, %s)", r.ID, r.Name, r.Family, r.Status),
		XLabel:        "step",
		Smooth:        smooth,
		SkipTransient: 0.05, // the first steps of a loss sit hundreds of nats above the rest
		Notes:         notes,
	}
	if err := writeFileAtomic(out, func(tmp string) error { return plots.SavePanels(tmp, panels, cols, opt) }); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s (%d panels, %d single values as text)\n", out, len(panels), len(notes))
	return nil
}

// metricPanels groups a run's metrics "<split>/<name>" into one panel per
// name, its series ordered train, val, test. It returns the smoothing window
// that suits the longest series.
//
// The train curve is logged every step and is noisy, so it is smoothed. The
// plots smoothing window counts points and applies to every series, which
// would flatten a handful of per-epoch validation points into one value; they
// are spread out with gaps wider than the window instead, so each is drawn
// as its own dot. A test value is logged once, at the end: it is drawn as a
// horizontal line across the panel so it reads against the whole train curve.
//
// A metric with no curve to draw against (every series of its panel holds
// one value: time/median_step_ms, time/train_seconds, a test value of a run
// without training points) would be a flat line alone in its panel: it is
// returned as a note "key = value" instead, which the figure shows as text.
func metricPanels(db *tracker.DB, id int64) (panels []plots.Panel, notes []string, smooth int, err error) {
	keys, err := db.MetricKeys(id)
	if err != nil {
		return nil, nil, 0, err
	}
	hist := map[string][]tracker.Point{}
	longest := 0
	groups := map[string][]string{} // metric name -> keys
	for _, k := range keys {
		h, err := db.MetricHistory(id, k)
		if err != nil {
			return nil, nil, 0, err
		}
		if len(h) == 0 {
			continue
		}
		hist[k] = h
		longest = max(longest, len(h))
		_, name := splitKey(k)
		if name == "iwae_nll" {
			name = "nelbo" // an estimate of the same quantity, -log p(x): compare them in one panel
		}
		groups[name] = append(groups[name], k)
	}
	smooth = longest / 50
	if smooth < 3 {
		smooth = 0
	}

	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := rank(panelOrder, names[i]), rank(panelOrder, names[j])
		if ri != rj {
			return ri < rj
		}
		return names[i] < names[j]
	})

	for _, name := range names {
		ks := groups[name]
		if singleValues(ks, hist) {
			for _, k := range ks {
				notes = append(notes, fmt.Sprintf("%s = %s", k, formatValue(hist[k][0].Value)))
			}
			continue
		}
		sort.Slice(ks, func(i, j int) bool {
			si, _ := splitKey(ks[i])
			sj, _ := splitKey(ks[j])
			if ri, rj := rank(splitOrder, si), rank(splitOrder, sj); ri != rj {
				return ri < rj
			}
			if ni, nj := ks[i] == si+"/"+name, ks[j] == sj+"/"+name; ni != nj {
				return ni // the panel's own metric before estimates of it
			}
			return ks[i] < ks[j]
		})
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, k := range ks {
			for _, p := range hist[k] {
				lo, hi = math.Min(lo, float64(p.Step)), math.Max(hi, float64(p.Step))
			}
		}
		if lo == hi {
			lo = 0
		}
		var series []plots.Series
		for _, k := range ks {
			series = append(series, seriesFor(k, hist[k], lo, hi, smooth))
		}
		panels = append(panels, plots.Panel{Title: name, Series: series})
	}
	return panels, notes, smooth, nil
}

// singleValues reports whether every key of a panel holds one value.
func singleValues(keys []string, hist map[string][]tracker.Point) bool {
	for _, k := range keys {
		if len(hist[k]) != 1 {
			return false
		}
	}
	return true
}

// seriesFor turns one metric's history into a series; see metricPanels.
func seriesFor(key string, h []tracker.Point, lo, hi float64, smooth int) plots.Series {
	split, name := splitKey(key)
	label := split
	if label == "" {
		label = key
	}
	if name == "iwae_nll" {
		label += " IWAE"
	}
	s := plots.Series{Name: label}
	switch {
	case len(h) == 1 && split != "train":
		label += " (final)"
		return plots.Series{Name: label, X: []float64{lo, hi}, Y: []float64{h[0].Value, h[0].Value}}
	case split != "train" && smooth >= 2 && len(h) < 2*smooth:
		for i, p := range h {
			if i > 0 {
				for range smooth {
					s.X, s.Y = append(s.X, math.NaN()), append(s.Y, math.NaN())
				}
			}
			s.X, s.Y = append(s.X, float64(p.Step)), append(s.Y, p.Value)
		}
		return s
	}
	for _, p := range h {
		s.X, s.Y = append(s.X, float64(p.Step)), append(s.Y, p.Value)
	}
	return s
}

// splitKey splits "train/recon" into "train" and "recon"; a key without a
// slash has no split.
func splitKey(k string) (split, name string) {
	if s, n, ok := strings.Cut(k, "/"); ok {
		return s, n
	}
	return "", k
}

// rank is s's position in order, or len(order) when absent.
func rank(order []string, s string) int {
	for i, o := range order {
		if o == s {
			return i
		}
	}
	return len(order)
}
