package experiments

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// What the driver watches besides the loss, for every family alike: a
// sample grid from fixed noise at each epoch's end (so progress and a
// collapse are visible as pictures), the samples' diversity, and the alarms
// a family declares on its terms (e.g. a GAN's discriminator winning
// outright). A fired alarm or a diversity collapse tags the run
// ("collapse" = what and at which step); training goes on, so the record
// shows what happened next.

// CollapseDiversity is the diversity ratio (mean pairwise distance between
// generated examples over that between real ones) below which the driver
// tags a run's samples as collapsed, once they had at least twice as much:
// a collapse is a fall. (A VAE's first grids, all near the mean digit, start
// low and rise; that is under-training, not a collapse.) Healthy MNIST models
// sit at 0.6–1; a mode-collapsed GAN produces near-copies, far below this.
const CollapseDiversity = 0.25

// TagCollapse is the tag a run gets when its samples collapse or an alarm fires.
const TagCollapse = "collapse"

// fixedNoiseSeed is the seed of the noise every sample grid of a run is drawn from.
func (r *runner) fixedNoiseSeed() int64 { return r.spec.Seed + 1_000_003 }

// generateFixed draws n samples with the store's RNG temporarily seeded with
// seed, then restores the RNG, so that sampling never changes what training
// draws next (a resumed run stays bit-for-bit an uninterrupted one).
func generateFixed(backend compute.Backend, store *model.Store, m vae.Model, n, classes int, seed int64) ([][]float32, error) {
	rng := store.GetVariable("/" + model.RNGStateVariableName)
	var saved *tensors.Tensor
	if rng != nil && rng.HasValue() {
		var err error
		if saved, err = rng.MustValue().Clone(); err != nil {
			return nil, err
		}
	}
	if err := store.SetRNGStateFromSeed(seed); err != nil {
		return nil, err
	}
	imgs, err := generate(backend, store, m, n, classes)
	if saved != nil {
		if serr := store.GetVariable("/" + model.RNGStateVariableName).SetValue(saved); serr != nil && err == nil {
			err = serr
		}
	}
	return imgs, err
}

// samples records the fixed-noise sample grid at step and its diversity
// ("samples/diversity"), and tags a collapse the first time diversity falls
// below CollapseDiversity.
func (r *runner) samples(store *model.Store, m vae.Model, step int64) error {
	n := r.spec.Eval.Samples
	if n <= 0 {
		return nil
	}
	imgs, err := generateFixed(r.backend, store, m, n, r.desc.Classes, r.fixedNoiseSeed())
	if err != nil {
		return fmt.Errorf("generate samples: %w", err)
	}
	if err := r.saveSamples(step, imgs); err != nil {
		return err
	}
	if n < 2 {
		return nil
	}
	if r.realSpread == 0 {
		idx := make([]int, min(n, r.train_.len()))
		for i := range idx {
			idx[i] = i
		}
		r.realSpread = meanPairwiseDistance(images(r.train_.batch(idx, "diversity", 0).Inputs[0]))
	}
	div := meanPairwiseDistance(imgs) / r.realSpread
	r.rec.LogMetrics(step, map[string]float64{"samples/diversity": div})
	r.peakDiversity = max(r.peakDiversity, div)
	if div < CollapseDiversity && r.peakDiversity >= 2*CollapseDiversity {
		r.flag(step, fmt.Sprintf("samples collapsed at step %d: diversity %.3g < %g, down from %.3g (fixed-noise samples nearly identical)", step, div, CollapseDiversity, r.peakDiversity))
	}
	return nil
}

// flag tags the run with a collapse once; later ones go to the log only.
func (r *runner) flag(step int64, what string) {
	r.logf("WARNING: %s", what)
	if r.flagged {
		return
	}
	r.flagged = true
	if err := r.rec.SetTag(TagCollapse, what); err != nil {
		r.logf("tag %s: %v", TagCollapse, err)
	}
}

// meanPairwiseDistance is the mean Euclidean distance over all pairs of xs.
func meanPairwiseDistance(xs [][]float32) float64 {
	var sum float64
	pairs := 0
	for i := range xs {
		for j := i + 1; j < len(xs); j++ {
			var d float64
			for k, v := range xs[i] {
				e := float64(v - xs[j][k])
				d += e * e
			}
			sum += math.Sqrt(d)
			pairs++
		}
	}
	if pairs == 0 {
		return 0
	}
	return sum / float64(pairs)
}

// alarmWatch tracks a family's declared alarms over the steps.
type alarmWatch struct {
	alarms []variants.Alarm
	streak []int
	fired  []bool
}

func newAlarmWatch(alarms []variants.Alarm) *alarmWatch {
	return &alarmWatch{alarms: alarms, streak: make([]int, len(alarms)), fired: make([]bool, len(alarms))}
}

// observe feeds one step's terms and returns the description of each alarm
// that fires at this step (each fires once per process).
func (w *alarmWatch) observe(step int, terms map[string]float64) []string {
	var out []string
	for i, a := range w.alarms {
		v, ok := terms[a.Term]
		if !ok || w.fired[i] {
			continue
		}
		if (a.Below && v < a.Threshold) || (!a.Below && v > a.Threshold) {
			w.streak[i]++
		} else {
			w.streak[i] = 0
		}
		if w.streak[i] >= a.Steps {
			w.fired[i] = true
			side := ">"
			if a.Below {
				side = "<"
			}
			out = append(out, fmt.Sprintf("%s at step %d: %s %s %g for %d steps (%s)", a.Name, step, a.Term, side, a.Threshold, a.Steps, a.Meaning))
		}
	}
	return out
}
