package data

import (
	"fmt"
	"math"
	"slices"

	"github.com/vaexp/vaexp/vae"
)

// SeriesTruth is how one synthetic time series was generated. Series
// regenerates it exactly from these fields: step t (0-based) is
//
//	x_t = Σ_k A_k·sin(2π·t/P_k + φ_k) + m_r + b_r·(t − s_r) + σ_r·ε_t + Σ_{shocks at t} size
//
// where r is the regime in force at t (the last with Start ≤ t) and ε_t is
// the t-th standard normal of the noise stream NoiseSeed.
type SeriesTruth struct {
	// Length is the number of steps.
	Length int
	// Sinusoids are the periodic components (for regimes: the season).
	Sinusoids []Sinusoid
	// Regimes are the pieces of the series, in order; Regimes[0].Start is 0.
	Regimes []Regime
	// Shocks are one-step additive spikes, in order of Step: the anomalies.
	Shocks []Shock
	// NoiseSeed seeds the noise stream ε.
	NoiseSeed int64
}

// Sinusoid is A·sin(2π·t/Period + Phase).
type Sinusoid struct {
	Amplitude, Period, Phase float64
}

// Regime is a piece of a series from step Start to the next regime's Start:
// level Mean + Trend·(t − Start) plus Gaussian noise of standard deviation
// Volatility.
type Regime struct {
	Start                   int
	Mean, Trend, Volatility float64
}

// Shock adds Size to the series at step Step only.
type Shock struct {
	Step int
	Size float64
}

// Series returns the series the truth describes.
func (t SeriesTruth) Series() []float64 {
	x := t.Clean()
	noise := newStream(t.NoiseSeed, "series-noise", 0)
	for i := range x {
		x[i] += t.Regimes[t.Regime(i)].Volatility * noise.normal()
	}
	for _, s := range t.Shocks {
		x[s.Step] += s.Size
	}
	return x
}

// Clean returns the series without its noise and shocks: what a perfect
// forecaster would predict.
func (t SeriesTruth) Clean() []float64 {
	x := make([]float64, t.Length)
	for i := range x {
		v := 0.0
		for _, s := range t.Sinusoids {
			v += s.Amplitude * math.Sin(2*math.Pi*float64(i)/s.Period+s.Phase)
		}
		r := t.Regimes[t.Regime(i)]
		x[i] = v + r.Mean + r.Trend*float64(i-r.Start)
	}
	return x
}

// Regime returns the index of the regime in force at step i.
func (t SeriesTruth) Regime(i int) int {
	r := 0
	for r+1 < len(t.Regimes) && t.Regimes[r+1].Start <= i {
		r++
	}
	return r
}

// Switches returns the steps at which a new regime starts.
func (t SeriesTruth) Switches() []int {
	var s []int
	for _, r := range t.Regimes[1:] {
		s = append(s, r.Start)
	}
	return s
}

// Anomalies returns, per step, whether a shock hit it: the ground truth of
// anomaly detection.
func (t SeriesTruth) Anomalies() []bool {
	a := make([]bool, t.Length)
	for _, s := range t.Shocks {
		a[s.Step] = true
	}
	return a
}

// SeriesSplit is one split of a synthetic time-series data set: each series
// drawn from (seed, split, index) when read. It is immutable, so concurrent
// readers may share it.
type SeriesSplit struct {
	n       int
	seed    int64
	purpose string
	draw    func(rng *stream) SeriesTruth
}

// Len implements Split.
func (s *SeriesSplit) Len() int { return s.n }

// Truth returns how series i was generated.
func (s *SeriesSplit) Truth(i int) SeriesTruth {
	if i < 0 || i >= s.n {
		panic(fmt.Sprintf("data: %s series %d out of range [0,%d)", s.purpose, i, s.n))
	}
	return s.draw(newStream(s.seed, s.purpose, i))
}

// Fill implements Split: the series, one after another, as float32; labels 0.
func (s *SeriesSplit) Fill(x []float32, y []int32, idx []int) {
	if len(idx) == 0 {
		return
	}
	if len(y) != len(idx) || len(x)%len(idx) != 0 {
		panic(fmt.Sprintf("data: %s Fill: len(x) = %d, len(y) = %d for %d series", s.purpose, len(x), len(y), len(idx)))
	}
	d := len(x) / len(idx)
	for k, i := range idx {
		t := s.Truth(i)
		if t.Length != d {
			panic(fmt.Sprintf("data: %s Fill: len(x) = %d, want %d series of %d steps", s.purpose, len(x), len(idx), t.Length))
		}
		for j, v := range t.Series() {
			x[k*d+j] = float32(v)
		}
		y[k] = 0
	}
}

// seriesSplits returns the train and test splits of a generated series data set.
func seriesSplits(d Description, seed int64, draw func(*stream) SeriesTruth) *Splits {
	return &Splits{
		Train: &SeriesSplit{n: d.Train, seed: seed, purpose: d.Name + "/train", draw: draw},
		Test:  &SeriesSplit{n: d.Test, seed: seed, purpose: d.Name + "/test", draw: draw},
	}
}

// seriesDescription describes a generated univariate series data set of
// length steps, 20,000 training and 2,000 test series, unlabeled.
func seriesDescription(name, summary string, length int, details ...string) Description {
	return Description{
		Name:    name,
		Summary: fmt.Sprintf("%s, %d steps, real-valued", summary, length),
		Source:  "synthetic, generated from the seed; parameters per series via SeriesSplit.Truth",
		Shape:   vae.Shape{Frames: length, Height: 1, Width: 1, Channels: 1},
		Real:    true,
		Train:   20000,
		Test:    2000,
		Details: details,
	}
}

// Sines are sums of one to three sinusoids with random amplitudes, periods
// and phases, plus Gaussian noise: the simplest series with structure to
// learn and a known noise floor.
type Sines struct{}

const (
	sinesLength = 64
	sinesNoise  = 0.1
)

// Describe implements Dataset.
func (Sines) Describe() Description {
	return seriesDescription("sines", "sums of 1-3 noisy sinusoids", sinesLength,
		fmt.Sprintf("x_t = Σ_k A_k sin(2π t/P_k + φ_k) + σ ε_t, t = 0..%d, ε standard normal", sinesLength-1),
		"K uniform in {1, 2, 3}; A_k uniform in [0.5, 1.5]; P_k log-uniform in [4, 32] steps; φ_k uniform in [0, 2π)",
		fmt.Sprintf("σ = %g; unlabeled", sinesNoise),
	)
}

// Load implements Dataset.
func (s Sines) Load(opts LoadOptions) (*Splits, error) {
	return seriesSplits(s.Describe(), opts.Seed, drawSines), nil
}

func drawSines(rng *stream) SeriesTruth {
	t := SeriesTruth{Length: sinesLength, Regimes: []Regime{{Volatility: sinesNoise}}}
	for range 1 + rng.intn(3) {
		t.Sinusoids = append(t.Sinusoids, Sinusoid{
			Amplitude: rng.between(0.5, 1.5),
			Period:    rng.logUniform(4, 32),
			Phase:     rng.between(0, 2*math.Pi),
		})
	}
	t.NoiseSeed = int64(rng.src.Uint64())
	return t
}

// Regimes are regime-switching series, finance- or sensor-like: two to four
// regimes, each with its own level, trend and volatility, a seasonal cycle
// of known period throughout, and one to three injected one-step shocks.
// The switch points and shock steps are recorded (SeriesSplit.Truth) as
// ground truth for change-point and anomaly detection.
type Regimes struct{}

const (
	regimesLength = 128
	// regimesSeason is the period of the seasonal cycle (a "day" of 16
	// steps), fixed so that a seasonal baseline knows it.
	regimesSeason = 16
)

// Describe implements Dataset.
func (Regimes) Describe() Description {
	return seriesDescription("regimes", "regime-switching series with a season and shocks", regimesLength,
		fmt.Sprintf("x_t = A sin(2π t/%d + φ) + m_r + b_r (t − s_r) + σ_r ε_t + shock_t, t = 0..%d, r the regime in force at t", regimesSeason, regimesLength-1),
		fmt.Sprintf("season: period %d steps, A uniform in [0.2, 1], φ uniform in [0, 2π)", regimesSeason),
		"2-4 regimes; switch points s_r in [16, 112], at least 12 steps apart",
		"per regime: level m uniform in [−2, 2], trend b uniform in [−0.03, 0.03] per step, volatility σ log-uniform in [0.05, 0.5]",
		"1-3 shocks: one-step spikes of ±[2, 4] at steps in [8, 128), at least 4 apart and off the switch points",
		"unlabeled; switch points and shock steps are the ground truth for change-point and anomaly detection",
	)
}

// Load implements Dataset.
func (r Regimes) Load(opts LoadOptions) (*Splits, error) {
	return seriesSplits(r.Describe(), opts.Seed, drawRegimes), nil
}

func drawRegimes(rng *stream) SeriesTruth {
	const n = regimesLength
	t := SeriesTruth{Length: n, Sinusoids: []Sinusoid{{
		Amplitude: rng.between(0.2, 1),
		Period:    regimesSeason,
		Phase:     rng.between(0, 2*math.Pi),
	}}}
	starts := append([]int{0}, spacedSteps(rng, 1+rng.intn(3), 16, n-16, 12, nil)...)
	for _, s := range starts {
		t.Regimes = append(t.Regimes, Regime{
			Start:      s,
			Mean:       rng.between(-2, 2),
			Trend:      rng.between(-0.03, 0.03),
			Volatility: rng.logUniform(0.05, 0.5),
		})
	}
	for _, s := range spacedSteps(rng, 1+rng.intn(3), 8, n-1, 4, starts) {
		t.Shocks = append(t.Shocks, Shock{Step: s, Size: rng.sign() * rng.between(2, 4)})
	}
	t.NoiseSeed = int64(rng.src.Uint64())
	return t
}

// spacedSteps draws k sorted steps in [lo, hi], each at least gap from the
// others and none in avoid, by redrawing all of them until they fit (the
// callers' ranges leave plenty of room, so this takes a few tries).
func spacedSteps(rng *stream, k, lo, hi, gap int, avoid []int) []int {
	steps := make([]int, k)
	for {
		for i := range steps {
			steps[i] = lo + rng.intn(hi-lo+1)
		}
		slices.Sort(steps)
		ok := true
		for i, s := range steps {
			if (i > 0 && s-steps[i-1] < gap) || slices.Contains(avoid, s) {
				ok = false
				break
			}
		}
		if ok {
			return steps
		}
	}
}
