package experiments

import (
	"math"
	"testing"

	"github.com/vaexp/vaexp/experiments/data"
)

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > 1e-9 {
		t.Errorf("%s = %.10g, want %.10g", what, got, want)
	}
}

// TestEvaluateForecastsKnownValues checks the model's and the baselines'
// errors on series worked out by hand.
func TestEvaluateForecastsKnownValues(t *testing.T) {
	ramp := []float32{0, 1, 2, 3, 4, 5, 6, 7}
	wave := []float32{1, 2, 1, 2, 1, 2, 1, 2}
	// The model's samples: for the ramp 4 draws around the truth (median
	// exact), for the wave the truth shifted by +1 in every draw.
	rampSamples := [][]float32{{4, 5, 6, 7}, {3, 4, 5, 6}, {5, 6, 7, 8}, {4, 5, 6, 7}}
	waveSamples := [][]float32{{2, 3, 2, 3}, {2, 3, 2, 3}}
	fe, err := EvaluateForecasts([][]float32{ramp, wave}, 4, [][][]float32{rampSamples, waveSamples}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if fe.Series != 2 || fe.Horizon != 4 || fe.Season != 2 {
		t.Errorf("series %d, horizon %d, season %d; want 2, 4, 2", fe.Series, fe.Horizon, fe.Season)
	}
	// Model: ramp errors 0 ×4, wave errors 1 ×4.
	near(t, "MAE", fe.MAE, 0.5)
	near(t, "RMSE", fe.RMSE, math.Sqrt(0.5))
	// Last value: ramp 3 → errors 1, 2, 3, 4; wave 2 → errors 1, 0, 1, 0.
	near(t, "naive MAE", fe.NaiveMAE, (10.0+2)/8)
	near(t, "naive RMSE", fe.NaiveRMSE, math.Sqrt((1+4+9+16+1+1)/8.0))
	// Season 2: ramp forecasts 2, 3, 2, 3 → errors 2, 2, 4, 4; the wave is exact.
	near(t, "seasonal MAE", fe.SeasonalMAE, 12.0/8)
	near(t, "seasonal RMSE", fe.SeasonalRMSE, math.Sqrt((4+4+16+16)/8.0))
	// The ramp's band holds its truth (its median is exact); the wave's band,
	// a single value off by one, never does.
	near(t, "coverage", fe.Coverage, 0.5)
}

func TestEvaluateForecastsChoosesSeason(t *testing.T) {
	// A period-5 pattern: the seasonal baseline chosen on the prefix is exact.
	pattern := []float32{0, 3, 1, 4, 2}
	x := make([]float32, 40)
	for i := range x {
		x[i] = pattern[i%5]
	}
	if got := bestSeason(x[:30]); got != 5 {
		t.Errorf("bestSeason = %d, want 5", got)
	}
	fe, err := EvaluateForecasts([][]float32{x}, 30, [][][]float32{{x[30:]}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "seasonal MAE with the period chosen on the prefix", fe.SeasonalMAE, 0)
	if fe.Season != 0 {
		t.Errorf("Season = %d, want 0 (chosen per series)", fe.Season)
	}
}

func TestEvaluateForecastsRejectsBadInput(t *testing.T) {
	x := []float32{1, 2, 3, 4}
	for name, c := range map[string]struct {
		series  [][]float32
		prefix  int
		samples [][][]float32
	}{
		"no series":          {nil, 2, nil},
		"samples missing":    {[][]float32{x}, 2, nil},
		"prefix too short":   {[][]float32{x}, 1, [][][]float32{{{1, 2, 3}}}},
		"nothing to predict": {[][]float32{x}, 4, [][][]float32{{{}}}},
		"no samples":         {[][]float32{x}, 2, [][][]float32{{}}},
		"sample too short":   {[][]float32{x}, 2, [][][]float32{{{1}}}},
		"ragged series":      {[][]float32{x, {1, 2}}, 2, [][][]float32{{{1, 2}}, {{1, 2}}}},
	} {
		if _, err := EvaluateForecasts(c.series, c.prefix, c.samples, 0); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestKnownSeason: the regimes series share their season of 16 steps by
// construction; the sines have random periods, so none.
func TestKnownSeason(t *testing.T) {
	for _, c := range []struct {
		name string
		want int
	}{{"regimes", 16}, {"sines", 0}} {
		ds, err := data.Get(c.name)
		if err != nil {
			t.Fatal(err)
		}
		splits, err := ds.Load(data.LoadOptions{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var truths []data.SeriesTruth
		for i := range 50 {
			truths = append(truths, splits.Test.(*data.SeriesSplit).Truth(i))
		}
		if got := KnownSeason(truths); got != c.want {
			t.Errorf("%s: KnownSeason = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestShockAUROC(t *testing.T) {
	truths := []data.SeriesTruth{
		{Length: 4, Shocks: []data.Shock{{Step: 2, Size: 3}}},
		{Length: 4, Shocks: []data.Shock{{Step: 0, Size: -2}}},
	}
	perfect := [][]float64{{0, 1, 9, 2}, {8, 1, 0, 3}}
	reversed := [][]float64{{9, 8, 0, 7}, {0, 9, 8, 7}}
	for _, c := range []struct {
		name   string
		scores [][]float64
		want   float64
	}{{"perfect", perfect, 1}, {"reversed", reversed, 0}} {
		got, err := ShockAUROC(c.scores, truths)
		if err != nil {
			t.Fatal(err)
		}
		near(t, c.name+" AUROC", got, c.want)
	}
	if _, err := ShockAUROC([][]float64{{1, 2}}, truths[:1]); err == nil {
		t.Error("2 scores for 4 steps accepted")
	}
}

// TestMoveDigitReproducesSequence: drawing a one-digit sequence's digit
// along its own recorded path gives back the sequence exactly, so the swap
// target (a digit along another sequence's path) is drawn as the data set
// draws its sequences.
func TestMoveDigitReproducesSequence(t *testing.T) {
	ds, err := data.Get("moving-mnist-1")
	if err != nil {
		t.Fatal(err)
	}
	mm := ds.(data.MovingMNIST)
	splits, err := ds.Load(data.LoadOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	test := splits.Test.(*data.MovingSplit)
	size := ds.Describe().Shape.Size()
	for i := range 5 {
		x := make([]float32, size)
		test.Fill(x, make([]int32, 1), []int{i})
		got := moveDigit(mm, x, test.Truth(i), test.Truth(i))
		for p := range x {
			if got[p] != x[p] {
				t.Fatalf("sequence %d, value %d: drawn %g, data %g", i, p, got[p], x[p])
			}
		}
	}
}
