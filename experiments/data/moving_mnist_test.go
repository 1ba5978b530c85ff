package data

import (
	"slices"
	"sync"
	"testing"
)

var (
	movingOnce   sync.Once
	movingSplits map[string]*Splits
	movingErr    error
)

// loadMoving returns the splits of the registered Moving MNIST data sets
// (seed 1), loaded once per test binary.
func loadMoving(tb testing.TB, name string) (MovingMNIST, *Splits) {
	tb.Helper()
	movingOnce.Do(func() {
		movingSplits = map[string]*Splits{}
		for _, n := range []string{"moving-mnist", "moving-mnist-1"} {
			ds, _ := Get(n)
			if movingSplits[n], movingErr = ds.Load(LoadOptions{Seed: 1}); movingErr != nil {
				return
			}
		}
	})
	if movingErr != nil {
		tb.Fatal(movingErr)
	}
	ds, err := Get(name)
	if err != nil {
		tb.Fatal(err)
	}
	return ds.(MovingMNIST), movingSplits[name]
}

// fillOne returns sequence i of sp and its label.
func fillOne(sp Split, size, i int) ([]float32, int32) {
	x, y := make([]float32, size), make([]int32, 1)
	sp.Fill(x, y, []int{i})
	return x, y[0]
}

// poolDigit is MNIST image j of im averaged over block×block squares, as
// grey levels: written again here from the documented definition.
func poolDigit(im *Images, j, block int) []float32 {
	side := 28 / block
	out := make([]float32, side*side)
	for p := range 28 * 28 {
		out[(p/28/block)*side+(p%28)/block] += float32(im.Pixels[j*784+p])
	}
	for i := range out {
		out[i] /= float32(255 * block * block)
	}
	return out
}

// TestMovingMNISTFramesAreTheDigitsOfTheRightSplit redraws every frame from
// the recorded truth and the MNIST split the documentation names: the
// superposition (max) of the digits at their positions.
func TestMovingMNISTFramesAreTheDigitsOfTheRightSplit(t *testing.T) {
	for _, name := range []string{"moving-mnist", "moving-mnist-1"} {
		m, sp := loadMoving(t, name)
		side, ds, size := m.Side, m.DigitSide, m.Frames*m.Side*m.Side
		for _, split := range []string{"train", "test"} {
			mnist, err := LoadMNIST("", split)
			if err != nil {
				t.Fatal(err)
			}
			s := sp.Train.(*MovingSplit)
			if split == "test" {
				s = sp.Test.(*MovingSplit)
			}
			for _, i := range []int{0, 1, 2, 3, s.Len() - 1} {
				x, label := fillOne(s, size, i)
				tr := s.Truth(i)
				want := make([]float32, size)
				wantLabel := 0
				for d, j := range tr.Digits {
					if tr.Classes[d] != int(mnist.Labels[j]) {
						t.Fatalf("%s %s %d: class %d, MNIST %s label %d", name, split, i, tr.Classes[d], split, mnist.Labels[j])
					}
					wantLabel = 10*wantLabel + tr.Classes[d]
					digit := poolDigit(mnist, j, 28/ds)
					for f := range m.Frames {
						top, left := tr.Top[d][f], tr.Left[d][f]
						if top < 0 || left < 0 || top > side-ds || left > side-ds {
							t.Fatalf("%s %s %d digit %d frame %d at (%d, %d): outside the %d px frame", name, split, i, d, f, top, left, side)
						}
						for p, v := range digit {
							q := f*side*side + (top+p/ds)*side + left + p%ds
							want[q] = max(want[q], v)
						}
					}
				}
				if label != int32(wantLabel) {
					t.Errorf("%s %s %d: label %d, want %d", name, split, i, label, wantLabel)
				}
				for q := range want {
					if d := x[q] - want[q]; d > 1e-6 || d < -1e-6 {
						t.Fatalf("%s %s %d: frame %d pixel %d is %v, the digits of MNIST %s give %v", name, split, i, q/(side*side), q%(side*side), x[q], split, want[q])
					}
				}
			}
		}
	}
}

// TestMovingMNISTOneDigitStaysWhole: with one digit, every frame holds all
// of its ink, so no part of it ever leaves the frame.
func TestMovingMNISTOneDigitStaysWhole(t *testing.T) {
	m, sp := loadMoving(t, "moving-mnist-1")
	mnist, err := LoadMNIST("", "train")
	if err != nil {
		t.Fatal(err)
	}
	frame := m.Side * m.Side
	for i := range 50 {
		x, _ := fillOne(sp.Train, m.Frames*frame, i)
		var digitInk float64
		for _, v := range poolDigit(mnist, sp.Train.(*MovingSplit).Truth(i).Digits[0], 2) {
			digitInk += float64(v)
		}
		for f := range m.Frames {
			var sum float64
			for _, v := range x[f*frame : (f+1)*frame] {
				sum += float64(v)
			}
			if d := sum - digitInk; d > 1e-3 || d < -1e-3 {
				t.Fatalf("sequence %d frame %d holds %.3f of the digit's %.3f ink", i, f, sum, digitInk)
			}
		}
	}
}

// TestMovingMNISTBounces checks the motion: steps of the fixed speed, whose
// direction reverses only at an edge — and that edges are hit.
func TestMovingMNISTBounces(t *testing.T) {
	m, sp := loadMoving(t, "moving-mnist")
	s := sp.Test.(*MovingSplit)
	free := m.Side - m.DigitSide
	step := movingStep * float64(free) // 3.6 px
	bounces := 0
	for i := range 300 {
		tr := s.Truth(i)
		for d := range m.Digits {
			for _, pos := range [][]int{tr.Top[d], tr.Left[d]} {
				for f := 1; f < len(pos); f++ {
					if delta := pos[f] - pos[f-1]; float64(max(delta, -delta)) > step+1 {
						t.Fatalf("sequence %d digit %d: moved %d px in one frame, speed is %.1f", i, d, delta, step)
					}
					if f+1 < len(pos) {
						a, b := pos[f]-pos[f-1], pos[f+1]-pos[f]
						if a*b < 0 {
							// A reversal happens only at an edge: the digit is
							// clamped to it at the frame it bounces.
							if pos[f] != 0 && pos[f] != free {
								t.Fatalf("sequence %d digit %d reversed at frame %d away from the edges: %v", i, d, f, pos)
							}
							bounces++
						}
					}
				}
			}
		}
	}
	if bounces < 100 {
		t.Errorf("only %d bounces in 300 sequences of %d frames", bounces, m.Frames)
	}
}

func TestMovingMNISTDeterministic(t *testing.T) {
	m, sp := loadMoving(t, "moving-mnist-1")
	size := m.Frames * m.Side * m.Side
	other, err := m.Load(LoadOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := fillOne(sp.Train, size, 123)
	b, _ := fillOne(sp.Train, size, 123)
	c, _ := fillOne(other.Train, size, 123)
	if !slices.Equal(a, b) {
		t.Error("same seed and index, different frames")
	}
	if slices.Equal(a, c) {
		t.Error("other seed, same frames")
	}
	if tr := sp.Train.(*MovingSplit).Truth(123); !slices.Equal(tr.Top[0], sp.Train.(*MovingSplit).Truth(123).Top[0]) {
		t.Error("truth not reproducible")
	}
}
