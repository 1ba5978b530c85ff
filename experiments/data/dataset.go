package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"github.com/vaexp/vaexp/vae"
)

// Dataset is one registered data set: it describes itself without loading
// anything, and loads (or generates) its splits on demand. Adding a data set
// is one file here plus one line in [registry].
type Dataset interface {
	// Describe says what the data set holds.
	Describe() Description
	// Load returns the train and test splits. Generated data sets draw them
	// exactly from opts.Seed; file-backed ones read opts.Dir ("" = found
	// automatically).
	Load(opts LoadOptions) (*Splits, error)
}

// Description says what a data set holds, so that no family or metric
// assumes MNIST.
type Description struct {
	// Name is what users type: `--data NAME`, `data: {name: NAME}`.
	Name string
	// Summary is one line for `vaexp datasets`.
	Summary string
	// Source names the data or the protocol it follows.
	Source string
	// Shape of one example.
	Shape vae.Shape
	// Classes is the number of labels; 0 when unlabeled.
	Classes int
	// Real is true for unbounded real values (time series); false for
	// intensities in [0, 1], which may be binarized.
	Real bool
	// Train and Test are the number of examples per split.
	Train, Test int
	// Factors are the ground-truth generative factors, in the order
	// [Factored.Factors] writes them; empty when the data has none.
	Factors []Factor
	// Details are lines saying how the examples are made (generating
	// parameters and their ranges, labels, how the splits are drawn), for
	// `vaexp datasets NAME`.
	Details []string
}

// Model is what a family learns of the data set when it trains on n examples.
func (d Description) Model(n int) vae.Data {
	return vae.Data{Name: d.Name, Shape: d.Shape, Classes: d.Classes, Real: d.Real, N: n}
}

// Factor is one ground-truth factor of variation.
type Factor struct {
	// Name of the factor ("shape", "scale", "x", ...).
	Name string
	// Values is the grid of values the factor takes; categorical factors
	// take 0, 1, ..., k−1.
	Values []float64
}

// Index returns the index in f.Values of the grid value nearest to v: the
// factor index of a value read from [Factored.Factors].
func (f Factor) Index(v float64) int {
	best := 0
	for i, w := range f.Values {
		if math.Abs(w-v) < math.Abs(f.Values[best]-v) {
			best = i
		}
	}
	return best
}

// LoadOptions are how a data set is loaded.
type LoadOptions struct {
	// Dir holds the data files of file-backed data sets ("" = found automatically).
	Dir string
	// Seed fixes everything a generated data set draws.
	Seed int64
}

// Splits are a data set's train and test examples.
type Splits struct {
	Train, Test Split
}

// Split is one split's examples, turned into float32 batches on demand (a
// generated split may render its examples only then). Implementations are
// safe for concurrent readers.
type Split interface {
	// Len is the number of examples.
	Len() int
	// Fill writes the examples idx, one after another, into x
	// (len(idx)·Shape.Size() values) and their labels into y (len(idx); 0
	// for unlabeled data). It panics on a wrong length or index, like a slice.
	Fill(x []float32, y []int32, idx []int)
}

// Factored is implemented by splits with ground-truth generative factors.
type Factored interface {
	// Factors writes example i's factor values into dst (one per
	// [Description.Factors] entry).
	Factors(i int, dst []float64)
}

// Renderer is implemented by data sets rendered from their ground-truth
// factors (shapes), so that disentanglement metrics can draw the observation
// of any factor combination, not only those in a split.
type Renderer interface {
	// Render writes the example with factor indices factors (one per
	// [Description.Factors] entry, factors[k] in 0..len(Values)−1) into dst
	// (Shape.Size() values). It panics on a wrong length or index, like Fill.
	Render(factors []int, dst []float32)
}

// Binarizer is implemented by splits with their own dynamic binarization
// (MNIST's works on its uint8 pixels); others are binarized by [FillBinarized].
type Binarizer interface {
	// FillBinarized fills like Fill, each value v becoming 1 with probability v, else 0.
	FillBinarized(x []float32, y []int32, idx []int, rng *rand.Rand)
}

// registry lists every data set: one line each.
var registry = []Dataset{
	MNIST{},
	SeqMNIST{},
	Shapes{Name: "shapes", Side: 64},
	Shapes{Name: "shapes-32", Side: 32},
	MovingMNIST{Name: "moving-mnist", Digits: 2, Side: 64, DigitSide: 28, Frames: 20},
	MovingMNIST{Name: "moving-mnist-1", Digits: 1, Side: 32, DigitSide: 14, Frames: 10},
	Sines{},
	Regimes{},
}

// All returns the registered data sets sorted by name.
func All() []Dataset {
	out := slices.Clone(registry)
	sort.Slice(out, func(i, j int) bool { return out[i].Describe().Name < out[j].Describe().Name })
	return out
}

// Names returns the registered data set names, sorted.
func Names() []string {
	var names []string
	for _, d := range All() {
		names = append(names, d.Describe().Name)
	}
	return names
}

// Get returns the data set called name.
func Get(name string) (Dataset, error) {
	for _, d := range registry {
		if d.Describe().Name == name {
			return d, nil
		}
	}
	return nil, fmt.Errorf("unknown data set %q: choose one of %s (see `vaexp datasets`)", name, strings.Join(Names(), ", "))
}

// FillBinarized fills x with a dynamic binarization of the examples idx:
// each value v in [0, 1] becomes 1 with probability v, drawn from rng.
func FillBinarized(s Split, x []float32, y []int32, idx []int, rng *rand.Rand) {
	if b, ok := s.(Binarizer); ok {
		b.FillBinarized(x, y, idx, rng)
		return
	}
	s.Fill(x, y, idx)
	for i, v := range x {
		if rng.Float32() < v {
			x[i] = 1
		} else {
			x[i] = 0
		}
	}
}

// Subset is a view of the examples idx of s, in that order; it keeps s's
// factors. It panics if an index is out of range.
func Subset(s Split, idx []int) Split {
	for _, i := range idx {
		if i < 0 || i >= s.Len() {
			panic(fmt.Sprintf("data: Subset index %d out of range [0,%d)", i, s.Len()))
		}
	}
	sub := subset{s: s, idx: slices.Clone(idx)}
	if _, ok := s.(Factored); ok {
		return factoredSubset{sub}
	}
	return sub
}

// Head is the first n examples of s (n clamped to 0..Len), to cap a quick run.
func Head(s Split, n int) Split {
	n = max(0, min(n, s.Len()))
	if n == s.Len() {
		return s
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return Subset(s, idx)
}

// Holdout carves nVal examples, chosen by a shuffle seeded with seed, out of
// s as a validation split; rest holds the others. Both keep the original
// order. nVal = 0 returns (s, nil). The split depends only on (s.Len(), nVal, seed).
func Holdout(s Split, nVal int, seed int64) (rest, val Split, err error) {
	if nVal == 0 {
		return s, nil, nil
	}
	if nVal < 0 || nVal >= s.Len() {
		return nil, nil, fmt.Errorf("validation size %d: must be in 0..%d (the training split has %d examples)", nVal, s.Len()-1, s.Len())
	}
	perm := permute(s.Len(), newPCG(seed, "validation", 0))
	valIdx, restIdx := perm[:nVal], perm[nVal:]
	slices.Sort(valIdx)
	slices.Sort(restIdx)
	return Subset(s, restIdx), Subset(s, valIdx), nil
}

// StaticBinarized is s with every value fixed once to 1 with probability v,
// else 0: the fixed binarized data of static-binarization experiments.
// Example i's draw depends only on (seed, i), so it does not change with the
// batch it appears in. (The classic "binarized MNIST" of Larochelle & Murray is
// one such draw; this is a reproducible equivalent, not that file.)
func StaticBinarized(s Split, seed int64) Split {
	b := staticBinarized{s: s, seed: seed}
	if _, ok := s.(Factored); ok {
		return factoredStatic{b}
	}
	return b
}

type subset struct {
	s   Split
	idx []int
}

func (v subset) Len() int { return len(v.idx) }

func (v subset) Fill(x []float32, y []int32, idx []int) { v.s.Fill(x, y, v.remap(idx)) }

func (v subset) FillBinarized(x []float32, y []int32, idx []int, rng *rand.Rand) {
	FillBinarized(v.s, x, y, v.remap(idx), rng)
}

func (v subset) remap(idx []int) []int {
	out := make([]int, len(idx))
	for k, i := range idx {
		out[k] = v.idx[i]
	}
	return out
}

type factoredSubset struct{ subset }

func (v factoredSubset) Factors(i int, dst []float64) { v.s.(Factored).Factors(v.idx[i], dst) }

type staticBinarized struct {
	s    Split
	seed int64
}

func (b staticBinarized) Len() int { return b.s.Len() }

func (b staticBinarized) Fill(x []float32, y []int32, idx []int) {
	b.s.Fill(x, y, idx)
	if len(idx) == 0 {
		return
	}
	d := len(x) / len(idx)
	for k, i := range idx {
		rng := NewRand(b.seed, "static-binarize", i)
		for j, v := range x[k*d : (k+1)*d] {
			if rng.Float32() < v {
				x[k*d+j] = 1
			} else {
				x[k*d+j] = 0
			}
		}
	}
}

type factoredStatic struct{ staticBinarized }

func (b factoredStatic) Factors(i int, dst []float64) { b.s.(Factored).Factors(i, dst) }
