package vae

import "fmt"

// Shape is one example's dimensions: an image [Height, Width, Channels], or,
// when Frames > 0, a sequence of Frames such images [Frames, Height, Width,
// Channels]. A time series of D values per step is Frames × 1 × 1 × D.
type Shape struct {
	// Frames is the number of time steps of a sequence; 0 for a single image.
	Frames int
	// Height, Width and Channels of one image (or one step).
	Height, Width, Channels int
}

// FrameSize is the number of values in one image (one step of a sequence).
func (s Shape) FrameSize() int { return s.Height * s.Width * s.Channels }

// Size is the number of values in one example.
func (s Shape) Size() int { return max(s.Frames, 1) * s.FrameSize() }

// IsSequence reports whether examples have a time axis.
func (s Shape) IsSequence() bool { return s.Frames > 0 }

// Dims are one example's tensor dimensions (without the batch axis).
func (s Shape) Dims() []int {
	if s.IsSequence() {
		return []int{s.Frames, s.Height, s.Width, s.Channels}
	}
	return []int{s.Height, s.Width, s.Channels}
}

// BatchDims are the dimensions of a batch of n examples.
func (s Shape) BatchDims(n int) []int { return append([]int{n}, s.Dims()...) }

// String prints 28×28×1 or 20×64×64×1.
func (s Shape) String() string {
	if s.IsSequence() {
		return fmt.Sprintf("%d×%d×%d×%d", s.Frames, s.Height, s.Width, s.Channels)
	}
	return fmt.Sprintf("%d×%d×%d", s.Height, s.Width, s.Channels)
}

// Data is what a family learns of its data set, in Validate and Build, so
// that no family assumes MNIST: the example shape, the labels, whether the
// values are intensities or unbounded reals, and the training-set size.
type Data struct {
	// Name of the data set ("mnist", "shapes", ...).
	Name string
	// Shape of one example.
	Shape Shape
	// Classes is the number of labels (0..Classes-1); 0 when unlabeled.
	Classes int
	// Real is true for unbounded real values (time series); false for
	// intensities in [0, 1] (images), which suit a Bernoulli likelihood.
	Real bool
	// N is the number of training examples (β-TCVAE's minibatch estimators need it).
	N int
}
