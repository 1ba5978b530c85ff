package sweep

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
)

// Plot draws what a sweep found into dir (created if needed) and returns
// the files it wrote:
//
//   - metric-vs-<param>.png: the metric against each swept parameter, mean
//     ± std over the finished trials with each value (over seeds, and over
//     the other parameters when several are swept);
//   - parallel.png: parallel coordinates of the finished trials, coloured
//     by the metric;
//   - rungs.png (halving): each trial's metric at each rung's budget,
//     pruned trials in grey;
//   - rate-distortion.png, for β sweeps whose runs record test/kl and
//     test/recon: one point per run, KL (rate) against reconstruction
//     (distortion), coloured by β (Alemi et al. 2018).
func Plot(db *tracker.DB, sweepID int64, dir string) ([]string, error) {
	sw, err := db.Sweep(sweepID)
	if err != nil {
		return nil, err
	}
	spec, err := FromTracker(sw)
	if err != nil {
		return nil, err
	}
	trials, err := db.Trials(sweepID)
	if err != nil {
		return nil, err
	}
	var done []tracker.Trial
	params := make([]map[string]any, len(trials))
	for i, t := range trials {
		if params[i], err = t.Params(); err != nil {
			return nil, err
		}
		if t.State == tracker.TrialFinished && finite(t.Value) {
			done = append(done, t)
		}
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("sweep %d (%s) has no finished trial to plot yet; see `vaexp sweep status %d`", sw.ID, sw.Name, sw.ID)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("plot folder: %w", err)
	}
	var wrote []string
	save := func(p *plot.Plot, name string, w, h float64) error {
		path := filepath.Join(dir, name)
		if err := plots.Save(p, path, w, h); err != nil {
			return err
		}
		wrote = append(wrote, path)
		return nil
	}
	title := fmt.Sprintf("sweep %s: %s", sw.Name, sw.Metric)
	better := "lower is better"
	if sw.Direction == "max" {
		better = "higher is better"
	}

	// The metric against each swept parameter.
	for _, d := range spec.Space {
		groups := byValue(done, trials, params, d.Name)
		if len(groups) < 2 {
			continue
		}
		xlabel := d.Name
		if len(spec.Space) > 1 {
			xlabel += " (mean ± std over seeds and the other parameters)"
		} else {
			xlabel += fmt.Sprintf(" (mean ± std over %d seeds)", len(spec.Seeds))
		}
		p, err := plots.ErrorBars(groups, plots.CurveOptions{Title: title + " against " + d.Name, XLabel: xlabel, YLabel: sw.Metric + " (" + better + ")"})
		if err != nil {
			return wrote, err
		}
		if err := save(p, "metric-vs-"+fileSafe(d.Name)+".png", 0, 0); err != nil {
			return wrote, err
		}
	}

	// Parallel coordinates of the finished trials; for halving, of every
	// trial at the first rung (the budget all of them got).
	lines, pcTitle := done, fmt.Sprintf("sweep %s: %d finished trials", sw.Name, len(done))
	if spec.Method == "halving" {
		rungs, err := db.Rungs(sweepID)
		if err != nil {
			return wrote, err
		}
		lines = nil
		for _, r := range rungs {
			if r.Rung == 0 && finite(r.Value) {
				t := trials[slices.IndexFunc(trials, func(x tracker.Trial) bool { return x.Index == r.Index })]
				t.Value = r.Value
				lines = append(lines, t)
			}
		}
		pcTitle = fmt.Sprintf("sweep %s: %d trials at the first rung (%d %s)", sw.Name, len(lines), spec.Halving.Budgets()[0], spec.Halving.Unit)
	}
	if len(lines) >= 2 && len(spec.Space) > 0 {
		var axes []plots.PCAxis
		for _, d := range spec.Space {
			axes = append(axes, pcAxis(d, lines, trials, params))
		}
		m := plots.PCAxis{Name: sw.Metric}
		for _, t := range lines {
			m.Values = append(m.Values, t.Value)
		}
		p, err := plots.ParallelCoordinates(axes, m, sw.Direction != "max", plots.CurveOptions{Title: pcTitle})
		if err != nil {
			return wrote, err
		}
		if err := save(p, "parallel.png", math.Max(6, 2+1.6*float64(len(axes)+1)), 4.5); err != nil {
			return wrote, err
		}
	}

	// Successive-halving rungs.
	if spec.Method == "halving" {
		rungs, err := db.Rungs(sweepID)
		if err != nil {
			return wrote, err
		}
		series := make([]plots.RungSeries, len(trials))
		for i, t := range trials {
			series[i] = plots.RungSeries{Name: fmt.Sprintf("trial %d", t.Index), Pruned: t.State != tracker.TrialFinished}
		}
		for _, r := range rungs {
			s := &series[r.Index]
			s.Budgets, s.Values = append(s.Budgets, float64(r.Budget)), append(s.Values, r.Value)
		}
		p, err := plots.Rungs(series, plots.CurveOptions{Title: fmt.Sprintf("sweep %s: successive halving (η = %d)", sw.Name, spec.Halving.Eta),
			XLabel: "budget (" + spec.Halving.Unit + ")", YLabel: sw.Metric + " at the rung"})
		if err != nil {
			return wrote, err
		}
		if err := save(p, "rungs.png", 7.5, 4.5); err != nil {
			return wrote, err
		}
	}

	// The rate–distortion plane, for β sweeps.
	var pts []plots.RDPoint
	group := "beta"
	if !slices.ContainsFunc(spec.Space, func(d Dim) bool { return d.Name == group }) {
		return wrote, nil
	}
	for i, t := range trials {
		if t.State != tracker.TrialFinished || t.RunID == 0 {
			continue
		}
		rate, _, err := db.MetricValue(t.RunID, "test/kl")
		if err != nil {
			return wrote, err
		}
		dist, _, err := db.MetricValue(t.RunID, "test/recon")
		if err != nil {
			return wrote, err
		}
		if !finite(rate) || !finite(dist) {
			continue
		}
		pts = append(pts, plots.RDPoint{Rate: rate, Distortion: dist, Group: fmt.Sprint(params[i][group])})
	}
	if len(pts) >= 2 {
		p, err := plots.RateDistortion(pts, plots.CurveOptions{Title: fmt.Sprintf("sweep %s: rate–distortion (colour: β)", sw.Name),
			XLabel: "rate R = test KL (nats)", YLabel: "distortion D = test reconstruction (nats)"})
		if err != nil {
			return wrote, err
		}
		if err := save(p, "rate-distortion.png", 7, 4.5); err != nil {
			return wrote, err
		}
	}
	return wrote, nil
}

// byValue groups the finished trials by their value of one parameter.
func byValue(done, trials []tracker.Trial, params []map[string]any, name string) []plots.Group {
	var labels []string
	vals := map[string][]float64{}
	for _, t := range done {
		v, ok := params[slices.IndexFunc(trials, func(x tracker.Trial) bool { return x.Index == t.Index })][name]
		if !ok {
			continue
		}
		l := fmt.Sprint(v)
		if _, seen := vals[l]; !seen {
			labels = append(labels, l)
		}
		vals[l] = append(vals[l], t.Value)
	}
	out := make([]plots.Group, 0, len(labels))
	for _, l := range labels {
		g := plots.Group{Label: l, N: len(vals[l])}
		g.Mean, g.Std, g.Min, g.Max = tracker.Summarize(vals[l])
		out = append(out, g)
	}
	return out
}

// pcAxis is one parameter's axis: numeric (log-spaced for log
// distributions and values spread over a factor of 10) or categorical.
func pcAxis(d Dim, done, trials []tracker.Trial, params []map[string]any) plots.PCAxis {
	a := plots.PCAxis{Name: d.Name, Log: strings.HasPrefix(d.Dist, "log_")}
	numeric := true
	var raw []any
	for _, t := range done {
		v := params[slices.IndexFunc(trials, func(x tracker.Trial) bool { return x.Index == t.Index })][d.Name]
		raw = append(raw, v)
		if _, ok := v.(float64); !ok {
			numeric = false
		}
	}
	if !numeric || (d.Values != nil && len(d.Values) <= 6) {
		// Few listed values read best as categories, evenly spaced.
		for _, v := range raw {
			a.Labels = append(a.Labels, fmt.Sprint(v))
		}
		return a
	}
	for _, v := range raw {
		a.Values = append(a.Values, v.(float64))
	}
	if lo, hi := slices.Min(a.Values), slices.Max(a.Values); lo > 0 && hi/lo >= 10 {
		a.Log = true
	}
	return a
}

// fileSafe makes a parameter name usable in a file name.
func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}
