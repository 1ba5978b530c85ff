package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/vaexp/vaexp/experiments"
)

// TrialDef is one trial of a sweep: a configuration and a seed.
type TrialDef struct {
	// Index numbers trials 0 … N−1, configuration-major: trial
	// Config·len(Seeds)+s is configuration Config with seed Seeds[s].
	Index int
	// ConfigIndex numbers the configurations.
	ConfigIndex int
	// Params are the swept values (parameter → value).
	Params map[string]any
	// Config is Params as a JSON object (keys sorted): what the tracker stores.
	Config string
	Seed   int64
	// Budget is the first rung's budget (halving), else 0.
	Budget int
}

// maxPoints bounds the values an integer range contributes to a grid, and
// the grid random sampling without replacement draws from.
const maxPoints = 1 << 20

// points lists a dimension's values when it has finitely many: its list,
// its steps grid points, or every integer of an integer range.
func (d Dim) points() ([]any, bool) {
	if d.Values != nil {
		return d.Values, true
	}
	isInt := strings.Contains(d.Dist, "int_")
	logScale := strings.HasPrefix(d.Dist, "log_")
	if d.Steps > 0 {
		var out []any
		for i := range d.Steps {
			f := 0.0
			if d.Steps > 1 {
				f = float64(i) / float64(d.Steps-1)
			}
			var v float64
			if logScale {
				v = math.Exp(math.Log(d.Min) + f*(math.Log(d.Max)-math.Log(d.Min)))
			} else {
				v = d.Min + f*(d.Max-d.Min)
			}
			if isInt {
				n := int64(math.Round(v))
				if len(out) > 0 && out[len(out)-1] == any(n) {
					continue // integer steps closer than 1 collapse
				}
				out = append(out, n)
			} else {
				out = append(out, round6(v))
			}
		}
		return out, true
	}
	if isInt && d.Max-d.Min < maxPoints {
		var out []any
		for v := int64(d.Min); v <= int64(d.Max); v++ {
			out = append(out, v)
		}
		return out, true
	}
	return nil, false
}

// round6 keeps 6 significant digits: sampled learning rates read
// 0.000123457, not 0.00012345678901234.
func round6(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return r
}

// sample draws one value of the dimension.
func (d Dim) sample(rng *rand.Rand) any {
	if d.Values != nil {
		return d.Values[rng.IntN(len(d.Values))]
	}
	u := rng.Float64()
	switch d.Dist {
	case "log_uniform":
		return round6(math.Exp(math.Log(d.Min) + u*(math.Log(d.Max)-math.Log(d.Min))))
	case "int_uniform":
		return int64(d.Min) + rng.Int64N(int64(d.Max)-int64(d.Min)+1)
	case "log_int_uniform":
		v := int64(math.Floor(math.Exp(math.Log(d.Min) + u*(math.Log(d.Max+1)-math.Log(d.Min)))))
		return min(max(v, int64(d.Min)), int64(d.Max))
	}
	return round6(d.Min + u*(d.Max-d.Min))
}

// gridSize is the number of configurations of the full grid (0 if some
// dimension is continuous, saturating at MaxInt64).
func (s *Spec) gridSize() int64 {
	n := int64(1)
	for _, d := range s.Space {
		pts, ok := d.points()
		if !ok {
			return 0
		}
		if n > math.MaxInt64/int64(len(pts)) {
			return math.MaxInt64
		}
		n *= int64(len(pts))
	}
	return n
}

// gridConfig returns the i-th configuration of the grid: dimensions in name
// order, the last varying fastest, each in its listed order.
func (s *Spec) gridConfig(i int64) map[string]any {
	cfg := map[string]any{}
	for k := len(s.Space) - 1; k >= 0; k-- {
		pts, _ := s.Space[k].points()
		cfg[s.Space[k].Name] = pts[i%int64(len(pts))]
		i /= int64(len(pts))
	}
	return cfg
}

// maxTrials bounds the trials of one sweep.
const maxTrials = 1_000_000

// configs lists the sweep's configurations: the whole grid (grid, or
// halving without trials:), or Trials samples drawn with SamplerSeed
// (random, halving). A fully discrete space is sampled without replacement.
func (s *Spec) configs() ([]map[string]any, error) {
	g := s.gridSize()
	if s.Method == "grid" || (s.Method == "halving" && s.Trials == 0) {
		if g*int64(len(s.Seeds)) > maxTrials {
			return nil, fmt.Errorf("the grid has %d configurations × %d seeds, more than %d trials: narrow the space or use method: random",
				g, len(s.Seeds), maxTrials)
		}
		out := make([]map[string]any, g)
		for i := range out {
			out[i] = s.gridConfig(int64(i))
		}
		return out, nil
	}
	if int64(s.Trials)*int64(len(s.Seeds)) > maxTrials {
		return nil, fmt.Errorf("%d trials × %d seeds is more than %d trials: lower trials:", s.Trials, len(s.Seeds), maxTrials)
	}
	rng := rand.New(rand.NewPCG(uint64(s.SamplerSeed), 0x5eed5eed))
	out := make([]map[string]any, s.Trials)
	if g > 0 && g <= maxPoints {
		// Without replacement (W&B users asked for it, #4682): a discrete
		// space never repeats a configuration.
		if int64(s.Trials) > g {
			return nil, fmt.Errorf("trials: %d but the space has only %d distinct configurations: lower trials: or use method: grid", s.Trials, g)
		}
		for i, k := range rng.Perm(int(g))[:s.Trials] {
			out[i] = s.gridConfig(int64(k))
		}
		return out, nil
	}
	for i := range out {
		cfg := map[string]any{}
		for _, d := range s.Space {
			cfg[d.Name] = d.sample(rng)
		}
		out[i] = cfg
	}
	return out, nil
}

// Expand lists every trial of the sweep, deterministically: the same spec
// gives the same trials in the same order on every machine.
func (s *Spec) Expand() ([]TrialDef, error) {
	cfgs, err := s.configs()
	if err != nil {
		return nil, err
	}
	budget := 0
	if s.Method == "halving" {
		budget = s.Halving.Budgets()[0]
	}
	out := make([]TrialDef, 0, len(cfgs)*len(s.Seeds))
	for ci, cfg := range cfgs {
		raw, err := json.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("configuration %d: %w", ci, err)
		}
		for _, seed := range s.Seeds {
			out = append(out, TrialDef{Index: len(out), ConfigIndex: ci, Params: cfg, Config: string(raw), Seed: seed, Budget: budget})
		}
	}
	return out, nil
}

// TrialSpec is the run spec of one trial: the base spec with the trial's
// parameters and seed, named <sweep>-<index>, in the spec's experiment (the
// sweep's name if it gives none), tagged with its trial index,
// and, for halving, the top rung's budget as its training budget.
func (s *Spec) TrialSpec(t TrialDef) (experiments.Spec, error) {
	rs := cloneSpec(s.Run)
	params := t.Params
	if params == nil {
		if err := json.Unmarshal([]byte(t.Config), &params); err != nil {
			return rs, fmt.Errorf("trial %d config %q: %w", t.Index, t.Config, err)
		}
	}
	for _, k := range sortedNames(params) {
		if err := applyParam(&rs, k, params[k]); err != nil {
			return rs, fmt.Errorf("trial %d: %s: %w", t.Index, k, err)
		}
	}
	rs.Seed = t.Seed
	rs.Name = fmt.Sprintf("%s-%d", s.Name, t.Index)
	if rs.Experiment == "" {
		rs.Experiment = s.Name
	}
	rs.Tags["trial"] = strconv.Itoa(t.Index)
	if s.Method == "halving" {
		if s.Halving.Unit == "steps" {
			rs.Train.Steps = s.Halving.Max
		} else {
			rs.Train.Epochs, rs.Train.Steps = s.Halving.Max, 0
		}
	}
	return rs, nil
}
