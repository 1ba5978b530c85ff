package experiments

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/experiments/eval"
)

// Forecasting and anomaly scores for univariate series, from any family that
// continues a prefix (vae.Continuer) or scores steps (vae.StepScorer).

// ForecastErrors are the errors of a probabilistic forecast and of two
// baselines over a set of series, each forecast made from the same prefix.
// The model's point forecast is the per-step median of its sampled
// continuations, and its band their 10 % and 90 % quantiles, all as
// plots.ForecastPlot draws them (gonum's stat.LinInterp: with 20 samples
// the median is the 10th smallest).
type ForecastErrors struct {
	// Series and Horizon are how many series were forecast, how many steps ahead.
	Series, Horizon int
	// MAE and RMSE of the model's median forecast.
	MAE, RMSE float64
	// NaiveMAE and NaiveRMSE of the last-value baseline: every step ahead
	// forecast as the last observed value.
	NaiveMAE, NaiveRMSE float64
	// SeasonalMAE and SeasonalRMSE of the seasonal-naive baseline: step
	// t₀+k forecast as the value one season earlier, x_{t₀−P+(k mod P)}.
	SeasonalMAE, SeasonalRMSE float64
	// Season is the baseline's period P: the data's known season, or 0
	// when it was chosen per series on the prefix (the lag of 2…t₀/2 whose
	// seasonal-naive errors within the prefix are smallest).
	Season int
	// Coverage is the fraction of true values inside the samples' 10–90 %
	// band (0.8 for a calibrated forecast).
	Coverage float64
}

// EvaluateForecasts scores forecasts of series (each of T values) made
// from their first prefix values: samples[i] holds the sampled
// continuations of series i, each len(series[i]) − prefix values. season > 0
// is the seasonal baseline's known period; 0 (or a season longer than the
// prefix) chooses one per series on the prefix.
func EvaluateForecasts(series [][]float32, prefix int, samples [][][]float32, season int) (ForecastErrors, error) {
	if len(series) == 0 || len(samples) != len(series) {
		return ForecastErrors{}, fmt.Errorf("forecast: %d series with %d sets of samples: need one set per series, at least one", len(series), len(samples))
	}
	horizon := len(series[0]) - prefix
	if prefix < 2 || horizon < 1 {
		return ForecastErrors{}, fmt.Errorf("forecast: prefix %d of %d steps: need at least 2 observed steps and 1 to forecast", prefix, len(series[0]))
	}
	out := ForecastErrors{Series: len(series), Horizon: horizon, Season: season}
	var model, naive, seasonal errAcc
	inside, total := 0, 0
	vals := make([]float64, 0, 64)
	for i, x := range series {
		if len(x) != prefix+horizon {
			return ForecastErrors{}, fmt.Errorf("forecast: series %d has %d steps, series 0 has %d", i, len(x), prefix+horizon)
		}
		if len(samples[i]) == 0 {
			return ForecastErrors{}, fmt.Errorf("forecast: series %d has no sampled continuations", i)
		}
		p := season
		if p <= 0 || p > prefix {
			p = bestSeason(x[:prefix])
		}
		for k := range horizon {
			truth := float64(x[prefix+k])
			vals = vals[:0]
			for j, s := range samples[i] {
				if len(s) != horizon {
					return ForecastErrors{}, fmt.Errorf("forecast: sample %d of series %d has %d steps, want %d", j, i, len(s), horizon)
				}
				vals = append(vals, float64(s[k]))
			}
			slices.Sort(vals)
			model.add(stat.Quantile(0.5, stat.LinInterp, vals, nil) - truth)
			lo, hi := stat.Quantile(0.1, stat.LinInterp, vals, nil), stat.Quantile(0.9, stat.LinInterp, vals, nil)
			if truth >= lo && truth <= hi {
				inside++
			}
			total++
			naive.add(float64(x[prefix-1]) - truth)
			seasonal.add(float64(x[prefix-p+k%p]) - truth)
		}
	}
	out.MAE, out.RMSE = model.result()
	out.NaiveMAE, out.NaiveRMSE = naive.result()
	out.SeasonalMAE, out.SeasonalRMSE = seasonal.result()
	out.Coverage = float64(inside) / float64(total)
	return out, nil
}

// errAcc accumulates absolute and squared errors.
type errAcc struct {
	abs, sq float64
	n       int
}

func (a *errAcc) add(e float64) { a.abs += math.Abs(e); a.sq += e * e; a.n++ }

func (a *errAcc) result() (mae, rmse float64) {
	return a.abs / float64(a.n), math.Sqrt(a.sq / float64(a.n))
}

// bestSeason is the lag m in 2…len(x)/2 whose seasonal-naive forecast
// x_t ≈ x_{t−m} has the smallest mean absolute error within x.
func bestSeason(x []float32) int {
	best, bestErr := 2, math.Inf(1)
	for m := 2; m <= len(x)/2; m++ {
		var e float64
		for t := m; t < len(x); t++ {
			e += math.Abs(float64(x[t] - x[t-m]))
		}
		if e /= float64(len(x) - m); e < bestErr {
			best, bestErr = m, e
		}
	}
	return best
}

// KnownSeason is the seasonal period all the series share by construction
// (every one's truth has a single sinusoid of the same whole period, as the
// regimes data set's season), or 0 when they have none.
func KnownSeason(truths []data.SeriesTruth) int {
	season := 0
	for _, t := range truths {
		if len(t.Sinusoids) != 1 {
			return 0
		}
		p := t.Sinusoids[0].Period
		if p != math.Trunc(p) || (season != 0 && int(p) != season) {
			return 0
		}
		season = int(p)
	}
	return season
}

// ShockAUROC is the area under the ROC curve of per-step scores (scores[i]
// has one value per step of series i) as a detector of the steps hit by a
// shock: every step of every series is one case, the shocked ones positive.
func ShockAUROC(scores [][]float64, truths []data.SeriesTruth) (float64, error) {
	if len(scores) != len(truths) {
		return 0, fmt.Errorf("shock AUROC: scores for %d series, truth for %d", len(scores), len(truths))
	}
	var all []float64
	var positive []bool
	for i, t := range truths {
		if len(scores[i]) != t.Length {
			return 0, fmt.Errorf("shock AUROC: series %d has %d scores for %d steps", i, len(scores[i]), t.Length)
		}
		all = append(all, scores[i]...)
		positive = append(positive, t.Anomalies()...)
	}
	return eval.AUROC(all, positive)
}
