package data

import (
	"math"
	"slices"
	"testing"
)

// seriesSplit loads a series data set with seed and returns one split.
func seriesSplit(t *testing.T, ds Dataset, seed int64, test bool) *SeriesSplit {
	t.Helper()
	sp, err := ds.Load(LoadOptions{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	if test {
		return sp.Test.(*SeriesSplit)
	}
	return sp.Train.(*SeriesSplit)
}

// fillSeries returns the series idx of s, one slice each.
func fillSeries(s *SeriesSplit, n int, idx ...int) [][]float32 {
	x, y := make([]float32, len(idx)*n), make([]int32, len(idx))
	s.Fill(x, y, idx)
	out := make([][]float32, len(idx))
	for k := range idx {
		out[k] = x[k*n : (k+1)*n]
	}
	return out
}

// TestSeriesTruthReproducesTheSeries rebuilds each series from its recorded
// parameters with the documented formula, written out again here, and the
// noise stream of its NoiseSeed.
func TestSeriesTruthReproducesTheSeries(t *testing.T) {
	for _, ds := range []Dataset{Sines{}, Regimes{}} {
		d := ds.Describe()
		n := d.Shape.Frames
		s := seriesSplit(t, ds, 3, false)
		idx := []int{0, 1, 2, 17, 19999}
		got := fillSeries(s, n, idx...)
		for k, i := range idx {
			tr := s.Truth(i)
			noise := newStream(tr.NoiseSeed, "series-noise", 0)
			r := 0
			for step := range n {
				if r+1 < len(tr.Regimes) && tr.Regimes[r+1].Start == step {
					r++
				}
				reg := tr.Regimes[r]
				want := reg.Mean + reg.Trend*float64(step-reg.Start) + reg.Volatility*noise.normal()
				for _, c := range tr.Sinusoids {
					want += c.Amplitude * math.Sin(2*math.Pi*float64(step)/c.Period+c.Phase)
				}
				for _, sh := range tr.Shocks {
					if sh.Step == step {
						want += sh.Size
					}
				}
				if math.Abs(float64(got[k][step])-want) > 1e-5*max(1, math.Abs(want)) {
					t.Fatalf("%s series %d step %d: %v, the recorded parameters give %v", d.Name, i, step, got[k][step], want)
				}
			}
			// And Series, the same computation as Fill, bit for bit.
			for step, v := range tr.Series() {
				if float32(v) != got[k][step] {
					t.Fatalf("%s series %d step %d: Truth.Series %v, Fill %v", d.Name, i, step, float32(v), got[k][step])
				}
			}
		}
	}
}

func TestSeriesDeterministic(t *testing.T) {
	for _, ds := range []Dataset{Sines{}, Regimes{}} {
		n := ds.Describe().Shape.Frames
		a := fillSeries(seriesSplit(t, ds, 5, true), n, 7, 8)
		b := fillSeries(seriesSplit(t, ds, 5, true), n, 7, 8)
		c := fillSeries(seriesSplit(t, ds, 6, true), n, 7, 8)
		train := fillSeries(seriesSplit(t, ds, 5, false), n, 7, 8)
		if !slices.Equal(a[0], b[0]) || !slices.Equal(a[1], b[1]) {
			t.Errorf("%T: same seed and index, different series", ds)
		}
		if slices.Equal(a[0], c[0]) || slices.Equal(a[0], a[1]) || slices.Equal(a[0], train[0]) {
			t.Errorf("%T: other seed, index or split, same series", ds)
		}
	}
}

// TestRegimesShocksWhereRecorded: away from the shocks the series departs
// from its clean part by its regime's noise only; at each recorded shock
// step by the shock, plus that noise.
func TestRegimesShocksWhereRecorded(t *testing.T) {
	s := seriesSplit(t, Regimes{}, 1, true)
	shocks := 0
	for i := range 300 {
		tr := s.Truth(i)
		x := fillSeries(s, regimesLength, i)[0]
		clean := tr.Clean()
		anomalous := tr.Anomalies()
		for step := range x {
			vol := tr.Regimes[tr.Regime(step)].Volatility
			z := (float64(x[step]) - clean[step]) / vol
			if anomalous[step] {
				continue
			}
			if math.Abs(z) > 6 {
				t.Fatalf("series %d step %d: %.1fσ from the clean series without a recorded shock", i, step, z)
			}
		}
		for _, sh := range tr.Shocks {
			shocks++
			vol := tr.Regimes[tr.Regime(sh.Step)].Volatility
			z := (float64(x[sh.Step]) - clean[sh.Step] - sh.Size) / vol
			if math.Abs(z) > 6 || math.Abs(sh.Size) < 2 {
				t.Fatalf("series %d: shock %+v leaves %.1fσ unexplained", i, sh, z)
			}
			if math.Abs(float64(x[sh.Step])-clean[sh.Step]) < 2-6*vol {
				t.Fatalf("series %d: no spike at the shock step %d", i, sh.Step)
			}
		}
	}
	if shocks < 300 {
		t.Errorf("%d shocks in 300 series, want 1 to 3 each", shocks)
	}
}

// TestSeriesParametersInDocumentedRanges checks the drawn parameters
// against the ranges `vaexp datasets NAME` prints.
func TestSeriesParametersInDocumentedRanges(t *testing.T) {
	in := func(v, lo, hi float64) bool { return v >= lo && v <= hi }
	sines := seriesSplit(t, Sines{}, 1, false)
	counts := map[int]int{}
	for i := range 1000 {
		tr := sines.Truth(i)
		counts[len(tr.Sinusoids)]++
		if len(tr.Regimes) != 1 || tr.Regimes[0].Volatility != sinesNoise || len(tr.Shocks) != 0 || tr.Length != sinesLength {
			t.Fatalf("sines %d: %+v", i, tr)
		}
		for _, c := range tr.Sinusoids {
			if !in(c.Amplitude, 0.5, 1.5) || !in(c.Period, 4, 32) || !in(c.Phase, 0, 2*math.Pi) {
				t.Fatalf("sines %d: component %+v out of range", i, c)
			}
		}
	}
	if counts[1] < 250 || counts[2] < 250 || counts[3] < 250 || len(counts) != 3 {
		t.Errorf("sines component counts %v, want 1, 2 or 3 equally often", counts)
	}

	regimes := seriesSplit(t, Regimes{}, 1, false)
	nRegimes, nShocks := map[int]int{}, map[int]int{}
	for i := range 1000 {
		tr := regimes.Truth(i)
		nRegimes[len(tr.Regimes)]++
		nShocks[len(tr.Shocks)]++
		if s := tr.Sinusoids; len(s) != 1 || s[0].Period != regimesSeason || !in(s[0].Amplitude, 0.2, 1) {
			t.Fatalf("regimes %d: season %+v", i, s)
		}
		if tr.Regimes[0].Start != 0 {
			t.Fatalf("regimes %d: first regime starts at %d", i, tr.Regimes[0].Start)
		}
		sw := tr.Switches()
		for k, s := range sw {
			if s < 16 || s > regimesLength-16 || (k > 0 && s-sw[k-1] < 12) {
				t.Fatalf("regimes %d: switch points %v", i, sw)
			}
		}
		for _, r := range tr.Regimes {
			if !in(r.Mean, -2, 2) || !in(r.Trend, -0.03, 0.03) || !in(r.Volatility, 0.05, 0.5) {
				t.Fatalf("regimes %d: regime %+v out of range", i, r)
			}
		}
		for k, sh := range tr.Shocks {
			if sh.Step < 8 || sh.Step >= regimesLength || slices.Contains(sw, sh.Step) || (k > 0 && sh.Step-tr.Shocks[k-1].Step < 4) || !in(math.Abs(sh.Size), 2, 4) {
				t.Fatalf("regimes %d: shocks %+v (switches %v)", i, tr.Shocks, sw)
			}
		}
	}
	for k := 2; k <= 4; k++ {
		if nRegimes[k] < 250 || nShocks[k-1] < 250 {
			t.Errorf("regime counts %v, shock counts %v: want 2-4 and 1-3, equally often", nRegimes, nShocks)
			break
		}
	}
}
