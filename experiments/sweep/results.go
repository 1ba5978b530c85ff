package sweep

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/vaexp/vaexp/tracker"
)

// ConfigStat summarizes one configuration of a sweep over its seeds: the
// metric of its finished trials.
type ConfigStat struct {
	// Config is the configuration's JSON; Params the same decoded.
	Config string
	Params map[string]any
	// N is the number of finished trials with a value; Mean, Std (n−1;
	// NaN for one), Min and Max are over them.
	N                   int
	Mean, Std, Min, Max float64
	// Trials and RunIDs are the finished trials and their runs.
	Trials []int
	RunIDs []int64
}

// Best is a sweep's best trial, or with ByMean its best configuration
// (Value is then the mean over seeds, and Index/RunID its best seed's).
type Best struct {
	Index  int
	RunID  int64
	Config string
	Value  float64
	// Std and N describe the configuration over seeds (N 1, Std NaN for a
	// single trial).
	Std  float64
	N    int
	Seed int64
}

// Configs groups a sweep's finished trials by configuration, in the
// order the configurations were enumerated.
func Configs(db *tracker.DB, sweepID int64) ([]ConfigStat, error) {
	trials, err := db.Trials(sweepID)
	if err != nil {
		return nil, err
	}
	var out []ConfigStat
	index := map[string]int{}
	vals := map[string][]float64{}
	for _, t := range trials {
		i, ok := index[t.Config]
		if !ok {
			p, err := t.Params()
			if err != nil {
				return nil, err
			}
			i = len(out)
			index[t.Config] = i
			out = append(out, ConfigStat{Config: t.Config, Params: p})
		}
		if t.State != tracker.TrialFinished || !finite(t.Value) {
			continue
		}
		c := &out[i]
		c.Trials = append(c.Trials, t.Index)
		c.RunIDs = append(c.RunIDs, t.RunID)
		vals[t.Config] = append(vals[t.Config], t.Value)
	}
	for i := range out {
		c := &out[i]
		c.N = len(vals[c.Config])
		c.Mean, c.Std, c.Min, c.Max = tracker.Summarize(vals[c.Config])
	}
	return out, nil
}

// BestTrial returns the sweep's best finished trial by its metric and
// direction, or with byMean the configuration with the best mean over its
// seeds. It is an error when no trial has finished.
func BestTrial(db *tracker.DB, sweepID int64, byMean bool) (Best, error) {
	sw, err := db.Sweep(sweepID)
	if err != nil {
		return Best{}, err
	}
	better := func(a, b float64) bool {
		if sw.Direction == "max" {
			return a > b
		}
		return a < b
	}
	trials, err := db.Trials(sweepID)
	if err != nil {
		return Best{}, err
	}
	var best *tracker.Trial
	for i, t := range trials {
		if t.State == tracker.TrialFinished && finite(t.Value) && (best == nil || better(t.Value, best.Value)) {
			best = &trials[i]
		}
	}
	if best == nil {
		return Best{}, fmt.Errorf("sweep %d (%s) has no finished trial with a %s yet; see `vaexp sweep status %d`", sw.ID, sw.Name, sw.Metric, sw.ID)
	}
	if !byMean {
		return Best{Index: best.Index, RunID: best.RunID, Config: best.Config, Value: best.Value, Std: math.NaN(), N: 1, Seed: best.Seed}, nil
	}
	cfgs, err := Configs(db, sweepID)
	if err != nil {
		return Best{}, err
	}
	var bc *ConfigStat
	for i, c := range cfgs {
		if c.N > 0 && (bc == nil || better(c.Mean, bc.Mean)) {
			bc = &cfgs[i]
		}
	}
	out := Best{Config: bc.Config, Value: bc.Mean, Std: bc.Std, N: bc.N}
	var seedBest *tracker.Trial
	for i, t := range trials {
		if t.Config == bc.Config && t.State == tracker.TrialFinished && finite(t.Value) && (seedBest == nil || better(t.Value, seedBest.Value)) {
			seedBest = &trials[i]
		}
	}
	out.Index, out.RunID, out.Seed = seedBest.Index, seedBest.RunID, seedBest.Seed
	return out, nil
}

// FormatConfig prints a configuration's JSON as "k=v k=v" in key order.
func FormatConfig(config string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(config), &m); err != nil {
		return config
	}
	var parts []string
	for _, k := range sortedNames(m) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}
