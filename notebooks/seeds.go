package notebooks

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"

	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
)

// SeedBand reads metric key of several runs (one setting under different
// seeds) and returns, as a band named name, the mean over the runs at each
// step with ±1 standard deviation around it (sample standard deviation; a
// single run gives a band of zero width).
//
// With bins > 0 each run's points are first averaged within bins equal
// windows of steps, as noisy per-step losses need; X is then the mean step
// of each window. With bins <= 0 the band has a point at every step at which
// every run has a value (e.g. eval/fid at each epoch's end). A run with no
// value of key is an error naming the run and the key.
func SeedBand(db *tracker.DB, name string, ids []int64, key string, bins int) (plots.Band, error) {
	if len(ids) == 0 {
		return plots.Band{}, fmt.Errorf("seed band %q of %s: no runs", name, key)
	}
	histories := make([][]tracker.Point, len(ids))
	var last int64
	for i, id := range ids {
		ps, err := db.MetricHistory(id, key)
		if err != nil {
			return plots.Band{}, err
		}
		var kept []tracker.Point
		for _, p := range ps {
			if !math.IsNaN(p.Value) && !math.IsInf(p.Value, 0) {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return plots.Band{}, fmt.Errorf("seed band %q: run %d has no finite value of %s (check the key with `vaexp runs show %d`)", name, id, key, id)
		}
		histories[i] = kept
		last = max(last, kept[len(kept)-1].Step)
	}
	// Each run's value and step per x position, keyed by position.
	type acc struct {
		sum, steps float64
		n          int
	}
	perRun := make([]map[int64]*acc, len(ids))
	var width int64 // steps per bin
	if bins > 0 {
		width = max(1, (last+int64(bins)-1)/int64(bins))
	}
	for i, ps := range histories {
		perRun[i] = map[int64]*acc{}
		for _, p := range ps {
			pos := p.Step
			if bins > 0 {
				pos = min(max(p.Step-1, 0)/width, int64(bins)-1) // steps (0, w], (w, 2w], …
			}
			a := perRun[i][pos]
			if a == nil {
				a = &acc{}
				perRun[i][pos] = a
			}
			a.sum += p.Value
			a.steps += float64(p.Step)
			a.n++
		}
	}
	var positions []int64
	for pos := range perRun[0] {
		positions = append(positions, pos)
	}
	sort.Slice(positions, func(a, b int) bool { return positions[a] < positions[b] })
	b := plots.Band{Name: name}
	vals := make([]float64, len(ids))
	for _, pos := range positions {
		var step float64
		complete := true
		for i := range ids {
			a := perRun[i][pos]
			if a == nil {
				complete = false
				break
			}
			vals[i] = a.sum / float64(a.n)
			step += a.steps / float64(a.n)
		}
		if !complete {
			continue
		}
		mean, std := stat.MeanStdDev(vals, nil)
		if len(vals) < 2 {
			std = 0
		}
		b.X = append(b.X, step/float64(len(ids)))
		b.Mean, b.Lo, b.Hi = append(b.Mean, mean), append(b.Lo, mean-std), append(b.Hi, mean+std)
	}
	if len(b.X) == 0 {
		return plots.Band{}, fmt.Errorf("seed band %q: runs %v record %s at no common step", name, ids, key)
	}
	return b, nil
}

// StepArtifacts returns every recorded step of run id's artifact name (e.g.
// the fixed-noise "samples.png" grid the driver records at each epoch's
// end) with its bytes, in step order: training progress as a strip.
func StepArtifacts(db *tracker.DB, id int64, name string) (steps []int64, data [][]byte, err error) {
	infos, err := db.Artifacts(id)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range infos {
		if a.Name != name {
			continue
		}
		raw, _, err := db.ArtifactAt(id, name, a.Step)
		if err != nil {
			return nil, nil, err
		}
		steps, data = append(steps, a.Step), append(data, raw)
	}
	if len(steps) == 0 {
		return nil, nil, fmt.Errorf("run %d has no artifact %q: %w", id, name, tracker.ErrNotFound)
	}
	return steps, data, nil
}
