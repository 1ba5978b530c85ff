package data

import "github.com/vaexp/vaexp/vae"

// SeqMNIST is sequential MNIST: each MNIST image read as a sequence of its
// 28 rows, top to bottom (28 steps of 1×28 pixels), with its label. The
// values and their order in memory are MNIST's, so its splits are MNIST's.
type SeqMNIST struct{}

// Describe implements Dataset.
func (SeqMNIST) Describe() Description {
	d := MNIST{}.Describe()
	d.Name = "seq-mnist"
	d.Summary = "MNIST digits read row by row: 28 steps of 28 grey levels in [0, 1]"
	d.Source = "MNIST read row by row, a common recurrent-network benchmark; " + d.Source
	d.Shape = vae.Shape{Frames: mnistSide, Height: 1, Width: mnistSide, Channels: 1}
	d.Details = []string{"step t is row t of the 28×28 image; labels are the digits' classes"}
	return d
}

// Load implements Dataset: MNIST's splits, unchanged.
func (SeqMNIST) Load(opts LoadOptions) (*Splits, error) { return MNIST{}.Load(opts) }
