package experiments

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/vae"
)

// exampleSet is one split of a run's data set, turned into float32 batches
// on demand, with the run's binarization.
type exampleSet struct {
	split    data.Split
	binarize string // "none" or "dynamic" (static splits are binarized when loaded)
	seed     int64
	shape    vae.Shape
}

// len is the number of examples.
func (s *exampleSet) len() int { return s.split.Len() }

// fill writes the examples idx into x (values) and y (labels). stream selects
// the dynamic binarization's random stream, so a given step always sees the
// same sample and a resumed run replays it.
func (s *exampleSet) fill(x []float32, y []int32, idx []int, stream string, index int) {
	if s.binarize == "dynamic" {
		data.FillBinarized(s.split, x, y, idx, data.NewRand(s.seed, stream, index))
	} else {
		s.split.Fill(x, y, idx)
	}
}

// batch builds the input tensors for the examples idx.
func (s *exampleSet) batch(idx []int, stream string, index int) train.Batch {
	x := make([]float32, len(idx)*s.shape.Size())
	y := make([]int32, len(idx))
	s.fill(x, y, idx, stream, index)
	return train.Batch{Inputs: []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(x, s.shape.BatchDims(len(idx))...),
		tensors.FromFlatDataAndDimensions(y, len(idx)),
	}}
}

// head is the set's first n examples (n <= 0 or beyond its size: all).
func (s *exampleSet) head(n int) *exampleSet {
	if n <= 0 || n >= s.len() {
		return s
	}
	h := *s
	h.split = data.Head(s.split, n)
	return &h
}

// schedule maps global steps to training examples: epoch e visits the
// training set in the order data.Permutation(N, seed, e), in batches of a
// fixed size; the last partial batch is dropped so no step recompiles.
type schedule struct {
	n, batchSize, stepsPerEpoch int
	seed                        int64
	epoch                       int
	perm                        []int
}

func newSchedule(n, batchSize int, seed int64) (*schedule, error) {
	if n < batchSize {
		return nil, fmt.Errorf("batch size %d is larger than the %d training examples: lower --batch-size or raise --limit", batchSize, n)
	}
	return &schedule{n: n, batchSize: batchSize, stepsPerEpoch: n / batchSize, seed: seed, epoch: -1}, nil
}

// indices returns the examples of global step `step` (0-based) and its epoch.
func (s *schedule) indices(step int) (idx []int, epoch int) {
	epoch = step / s.stepsPerEpoch
	if epoch != s.epoch {
		s.perm = data.Permutation(s.n, s.seed, epoch)
		s.epoch = epoch
	}
	i := (step % s.stepsPerEpoch) * s.batchSize
	return s.perm[i : i+s.batchSize], epoch
}

// prefetch produces the batches of steps [from, to) on a goroutine, two ahead
// of the trainer, so building a batch overlaps with the previous step.
func prefetch(set *exampleSet, sched *schedule, from, to int, done <-chan struct{}) <-chan train.Batch {
	out := make(chan train.Batch, 2)
	go func() {
		defer close(out)
		for step := from; step < to; step++ {
			idx, _ := sched.indices(step)
			select {
			case out <- set.batch(idx, "binarize-train", step):
			case <-done:
				return
			}
		}
	}()
	return out
}
