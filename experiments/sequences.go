package experiments

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/vae"
)

// What a run draws and measures of sequence data, chosen by the data's
// shape and the family's capabilities, never by family name: samples and
// reconstructions as frame strips and GIFs (or series panels), continuations
// of test prefixes (vae.Continuer) as strips, or for series as forecasts
// with bands and their errors against two baselines, and per-step scores
// (vae.StepScorer) as shock detectors where the data records shocks.

// Settings of the end-of-run sequence evaluation.
const (
	// forecastSeries and forecastSamples: the test series forecast at the end
	// of a run, and the continuations sampled for each.
	forecastSeries, forecastSamples = 200, 20
	// scoreSeries is how many test series the shock AUROC scores.
	scoreSeries = 500
	// shownSequences is how many sequences the continuation and
	// reconstruction pictures show.
	shownSequences = 8
	// drawnSequences is how many generated sequences the sample pictures show.
	drawnSequences = 16
)

// forecastPrefix is how many of frames steps a forecast sees: the first three quarters.
func forecastPrefix(frames int) int { return max(2, 3*frames/4) }

// saveSamples records generated examples as the "samples" artifacts: an
// image grid, or what RenderExamples draws of the first drawnSequences of
// sequences (see saveRendered).
func (r *runner) saveSamples(step int64, examples [][]float32) error {
	if !r.desc.Shape.IsSequence() {
		return r.saveGrid("samples.png", step, examples, nil)
	}
	return r.saveRendered("samples", step, examples[:min(len(examples), drawnSequences)])
}

// saveReconstructions records originals beside their reconstructions: an
// image grid, or for the first shownSequences sequences each original
// followed by its reconstruction (rows of a strip, neighbours in a GIF), and
// for the first four series one panel per example with both lines.
func (r *runner) saveReconstructions(step int64, originals, recons [][]float32) error {
	if !r.desc.Shape.IsSequence() {
		return r.saveGrid("reconstructions.png", step, originals, recons)
	}
	if exampleKind(r.desc) == kindSeries {
		png, err := plots.EncodePanels(".png", overlayPanels(r.desc.Shape, originals[:min(4, len(originals))], recons, "reconstruction"), 2, plots.CurveOptions{XLabel: "step", Width: 4.5, Height: 2.6})
		if err != nil {
			return err
		}
		return r.saveArtifact("reconstructions.png", step, png)
	}
	k := min(len(originals), shownSequences)
	return r.saveRendered("reconstructions", step, interleave(originals[:k], recons[:k]))
}

// saveRendered writes examples drawn by RenderExamples in every format
// their kind is drawn in, PNG and (image sequences) GIF, as base.png and
// base.gif; series are drawn as base.png only.
func (r *runner) saveRendered(base string, step int64, examples [][]float32) error {
	for _, ext := range strings.Fields(exampleKind(r.desc).formats()) {
		if ext != ".png" && ext != ".gif" {
			continue
		}
		raw, err := RenderExamples(r.desc, examples, ext)
		if err != nil {
			return fmt.Errorf("draw %s%s: %w", base, ext, err)
		}
		if err := r.saveArtifact(base+ext, step, raw); err != nil {
			return err
		}
	}
	return nil
}

// saveArtifact writes a PNG or GIF to the run folder and the tracker.
func (r *runner) saveArtifact(name string, step int64, raw []byte) error {
	if err := os.WriteFile(filepath.Join(r.dir, name), raw, 0o644); err != nil {
		return err
	}
	mime := "image/png"
	if strings.HasSuffix(name, ".gif") {
		mime = "image/gif"
	}
	return r.rec.LogArtifact(name, step, mime, raw)
}

// interleave returns a[0], b[0], a[1], b[1], ….
func interleave(a, b [][]float32) [][]float32 {
	out := make([][]float32, 0, 2*len(a))
	for i := range a {
		out = append(out, a[i], b[i])
	}
	return out
}

// overlayPanels draws each example with a second line (its reconstruction)
// in one panel per example; series of one value per step.
func overlayPanels(sh vae.Shape, examples, others [][]float32, other string) []plots.Panel {
	panels := seriesPanels(sh, examples, nil)
	steps := panels[0].Series[0].X
	for i := range panels {
		panels[i].Series[0].Name = "data"
		y := make([]float64, sh.Frames)
		for t := range y {
			y[t] = float64(others[i][t*sh.FrameSize()])
		}
		panels[i].Series = append(panels[i].Series, plots.Series{Name: other, X: steps, Y: y})
	}
	return panels
}

// sequenceEval is the end-of-run evaluation of sequence data: continuations
// or forecasts for a Continuer, the shock AUROC for a StepScorer on data
// with recorded shocks.
func (r *runner) sequenceEval(store *model.Store, m vae.Model, step int64, res *Result) error {
	if !r.desc.Shape.IsSequence() {
		return nil
	}
	t := &Trained{RunID: r.rec.RunID(), Dir: r.dir, Spec: r.spec, Data: r.desc, Model: m, Store: store, Backend: r.backend}
	metrics := map[string]float64{}
	if _, ok := m.(vae.Continuer); ok && r.spec.Eval.Samples > 0 {
		if exampleKind(r.desc) == kindSeries {
			fe, png, err := t.forecastReport(min(forecastSeries, r.test.len()), forecastSamples)
			if err != nil {
				return err
			}
			for k, v := range fe.metrics() {
				metrics["test/"+k] = v
			}
			if err := r.saveArtifact("forecasts.png", step, png); err != nil {
				return err
			}
			r.logf("forecast of %d test series, %d steps ahead: MAE %.4g (last value %.4g, seasonal %.4g), 10–90%% band covers %.0f%%",
				fe.Series, fe.Horizon, fe.MAE, fe.NaiveMAE, fe.SeasonalMAE, 100*fe.Coverage)
		} else if err := r.saveContinuations(t, step); err != nil {
			return err
		}
	}
	if _, ok := m.(vae.StepScorer); ok {
		auc, ok, err := t.ShockDetection(min(scoreSeries, r.test.len()))
		if err != nil {
			return err
		}
		if ok {
			metrics["test/shock_auroc"] = auc
			r.logf("shock detection by per-step NELBO: AUROC %.4f", auc)
		}
	}
	if len(metrics) > 0 {
		r.rec.LogMetrics(step, metrics)
		for k, v := range metrics {
			res.Metrics[k] = v
		}
	}
	return nil
}

// saveContinuations draws test sequences (odd rows) above the model's
// continuation of their first half (even rows: the same prefix, then
// sampled frames), as continuations.png and .gif.
func (r *runner) saveContinuations(t *Trained, step int64) error {
	ex, err := t.Examples("test", shownSequences)
	if err != nil {
		return err
	}
	frames := r.desc.Shape.Frames
	prefix := max(1, frames/2)
	conts, err := t.Continue(ex, prefix, frames-prefix, 1)
	if err != nil {
		return err
	}
	joined := make([][]float32, len(conts))
	cut := prefix * r.desc.Shape.FrameSize()
	for i, c := range conts {
		joined[i] = append(append([]float32(nil), ex.Images[i][:cut]...), c[0]...)
	}
	return r.saveRendered("continuations", step, interleave(ex.Images, joined))
}

// metrics are the forecast errors as recorded ("forecast_mae", …).
func (f ForecastErrors) metrics() map[string]float64 {
	return map[string]float64{
		"forecast_mae": f.MAE, "forecast_rmse": f.RMSE,
		"forecast_naive_mae": f.NaiveMAE, "forecast_naive_rmse": f.NaiveRMSE,
		"forecast_seasonal_mae": f.SeasonalMAE, "forecast_seasonal_rmse": f.SeasonalRMSE,
		"forecast_coverage": f.Coverage,
	}
}

// CanContinue reports whether the run's family continues prefixes (see [Trained.Continue]).
func (t *Trained) CanContinue() bool {
	_, ok := t.Model.(vae.Continuer)
	return ok
}

// Continue samples, for each example, samples continuations of its first
// prefix frames, steps frames long: out[i][j] is continuation j of example
// i (steps frames of values; see vae.Continuer). The samples of one example
// are drawn in one batch.
func (t *Trained) Continue(ex Examples, prefix, steps, samples int) ([][][]float32, error) {
	cont, ok := t.Model.(vae.Continuer)
	if !ok {
		return nil, fmt.Errorf("run %d: family %q cannot continue a sequence (it has no Continue method)", t.RunID, t.Spec.Family)
	}
	sh := t.Data.Shape
	if !sh.IsSequence() || prefix < 1 || prefix >= sh.Frames+1 || steps < 1 || samples < 1 {
		return nil, fmt.Errorf("continue %d frames by %d, %d samples each: need sequences (data %s is %s), 1 <= prefix <= %d, steps >= 1, samples >= 1",
			prefix, steps, samples, t.Data.Name, sh, sh.Frames)
	}
	for i, img := range ex.Images {
		if len(img) != sh.Size() {
			return nil, fmt.Errorf("continue: example %d has %d values, want %s", i, len(img), sh)
		}
	}
	cut := prefix * sh.FrameSize()
	pre := vae.Shape{Frames: prefix, Height: sh.Height, Width: sh.Width, Channels: sh.Channels}
	// Whole examples per batch, so one example's samples share a call.
	tb := *t
	tb.Spec.Eval.BatchSize = max(samples, t.Spec.Eval.BatchSize/samples*samples)
	rows, err := tb.batched("continue", ex.Len()*samples, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		return cont.Continue(scope, vae.Batch{X: x, Labels: y}, steps)
	}, func(idx []int) []any {
		x := make([]float32, 0, len(idx)*cut)
		y := make([]int32, len(idx))
		for k, i := range idx {
			x = append(x, ex.Images[i/samples][:cut]...)
			y[k] = int32(ex.Labels[i/samples])
		}
		return []any{tensors.FromFlatDataAndDimensions(x, pre.BatchDims(len(idx))...), tensors.FromFlatDataAndDimensions(y, len(idx))}
	})
	if err != nil {
		return nil, err
	}
	out := make([][][]float32, ex.Len())
	for i := range out {
		out[i] = rows[i*samples : (i+1)*samples]
	}
	return out, nil
}

// CanScoreSteps reports whether the run's family scores each step (see [Trained.StepScores]).
func (t *Trained) CanScoreSteps() bool {
	_, ok := t.Model.(vae.StepScorer)
	return ok
}

// StepScores returns each example's per-step negative ELBO, [n][Frames]
// nats (see vae.StepScorer): the anomaly score of each step.
func (t *Trained) StepScores(ex Examples) ([][]float64, error) {
	sc, ok := t.Model.(vae.StepScorer)
	if !ok {
		return nil, fmt.Errorf("run %d: family %q does not score steps (it has no StepNELBO method)", t.RunID, t.Spec.Family)
	}
	rows, err := t.perExample("score steps", ex, func(scope *model.Scope, b vae.Batch) *graph.Node {
		return sc.StepNELBO(scope, b)
	})
	if err != nil {
		return nil, err
	}
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, len(r))
		for j, v := range r {
			out[i][j] = float64(v)
		}
	}
	return out, nil
}

// SeriesTruths returns how the first n examples of a split of a generated
// series data set were made (parameters, switch points, shocks), or
// ok=false when the run's data set records none.
func (t *Trained) SeriesTruths(split string, n int) (truths []data.SeriesTruth, ok bool, err error) {
	ds, err := data.Get(t.Spec.Data.Name)
	if err != nil {
		return nil, false, err
	}
	splits, err := ds.Load(data.LoadOptions{Dir: t.Spec.Data.Dir, Seed: t.Spec.Data.Seed})
	if err != nil {
		return nil, false, err
	}
	set, err := t.dataSet(split, n)
	if err != nil {
		return nil, false, err
	}
	// The run's test split is the head of the data set's; its training split
	// has had validation examples carved out, which this does not follow.
	src, ok := splits.Test.(*data.SeriesSplit)
	if split != "test" || !ok {
		return nil, false, nil
	}
	truths = make([]data.SeriesTruth, set.len())
	for i := range truths {
		truths[i] = src.Truth(i)
	}
	return truths, true, nil
}

// ShockDetection scores the first n test series step by step and returns
// the AUROC of the scores as a detector of the shocked steps, or ok=false
// when the data set records no shocks.
func (t *Trained) ShockDetection(n int) (auc float64, ok bool, err error) {
	truths, ok, err := t.SeriesTruths("test", n)
	if err != nil || !ok {
		return 0, false, err
	}
	shocks := 0
	for _, tr := range truths {
		shocks += len(tr.Shocks)
	}
	if shocks == 0 {
		return 0, false, nil
	}
	ex, err := t.Examples("test", n)
	if err != nil {
		return 0, false, err
	}
	scores, err := t.StepScores(ex)
	if err != nil {
		return 0, false, err
	}
	auc, err = ShockAUROC(scores, truths)
	return auc, err == nil, err
}

// Forecast samples continuations of the first n test series from their
// first three quarters and scores them (see EvaluateForecasts; the seasonal
// baseline uses the data's known season when every series has one). It also
// returns each series' forecast, for plots.ForecastPlot or
// plots.EncodeForecasts.
func (t *Trained) Forecast(n, samples int) (ForecastErrors, []plots.Forecast, error) {
	return t.forecast(n, samples)
}

// forecastReport is Forecast and a picture of the first four forecasts (PNG).
func (t *Trained) forecastReport(n, samples int) (ForecastErrors, []byte, error) {
	fe, f, err := t.forecast(n, samples)
	if err != nil {
		return fe, nil, err
	}
	png, err := ForecastFigure(t.Data.Name, f[:min(4, len(f))], samples)
	return fe, png, err
}

// ForecastFigure draws forecasts of a data set's series, two per row, as PNG.
func ForecastFigure(dataName string, fs []plots.Forecast, samples int) ([]byte, error) {
	titles := make([]string, len(fs))
	for i := range titles {
		titles[i] = fmt.Sprintf("test series %d", i)
	}
	return plots.EncodeForecasts(".png", fs, titles, 2, plots.CurveOptions{XLabel: "step", Width: 4.5, Height: 2.8,
		Title: fmt.Sprintf("%s: median and 10–90 %% band of %d sampled continuations", dataName, samples)})
}

// forecast is Forecast.
func (t *Trained) forecast(n, samples int) (ForecastErrors, []plots.Forecast, error) {
	sh := t.Data.Shape
	if !sh.IsSequence() || sh.FrameSize() != 1 {
		return ForecastErrors{}, nil, fmt.Errorf("run %d: forecasts are for series of one value per step; data %s is %s", t.RunID, t.Data.Name, sh)
	}
	ex, err := t.Examples("test", n)
	if err != nil {
		return ForecastErrors{}, nil, err
	}
	prefix := forecastPrefix(sh.Frames)
	conts, err := t.Continue(ex, prefix, sh.Frames-prefix, samples)
	if err != nil {
		return ForecastErrors{}, nil, err
	}
	season := 0
	if truths, ok, err := t.SeriesTruths("test", ex.Len()); err != nil {
		return ForecastErrors{}, nil, err
	} else if ok {
		season = KnownSeason(truths)
	}
	fe, err := EvaluateForecasts(ex.Images, prefix, conts, season)
	if err != nil {
		return ForecastErrors{}, nil, err
	}
	fs := make([]plots.Forecast, ex.Len())
	for i := range fs {
		fs[i] = plots.Forecast{Truth: ex.Images[i], Prefix: prefix, Samples: conts[i]}
	}
	return fe, fs, nil
}
