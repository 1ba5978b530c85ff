package experiments

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/train"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/vae"
)

// imageSet is an image data set resident in host memory as uint8 pixels,
// turned into float32 batches on demand.
type imageSet struct {
	im       *data.Images
	binarize string // "none" or "dynamic" (static sets are binarized when loaded)
	seed     int64
	shape    vae.Shape
}

// fill writes the examples idx into x (pixels) and y (labels). stream selects
// the dynamic binarization's random stream, so a given step always sees the
// same sample and a resumed run replays it.
func (s *imageSet) fill(x []float32, y []int32, idx []int, stream string, index int) {
	if s.binarize == "dynamic" {
		s.im.Binarized(x, idx, data.NewRand(s.seed, stream, index))
	} else {
		s.im.Float32(x, idx)
	}
	for k, i := range idx {
		y[k] = int32(s.im.Labels[i])
	}
}

// batch builds the input tensors for the examples idx.
func (s *imageSet) batch(idx []int, stream string, index int) train.Batch {
	d := s.shape.Size()
	x := make([]float32, len(idx)*d)
	y := make([]int32, len(idx))
	s.fill(x, y, idx, stream, index)
	return train.Batch{Inputs: []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(x, len(idx), s.shape.Height, s.shape.Width, s.shape.Channels),
		tensors.FromFlatDataAndDimensions(y, len(idx)),
	}}
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
func prefetch(set *imageSet, sched *schedule, from, to int, done <-chan struct{}) <-chan train.Batch {
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
