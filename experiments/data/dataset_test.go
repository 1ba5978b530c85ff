package data

import (
	"math"
	"slices"
	"sync"
	"testing"
)

// seedless are the data sets read from files: their seed changes nothing.
var seedless = []string{"mnist", "seq-mnist"}

// TestEveryDataset loads every registered data set and checks what its
// description promises: split sizes, values, labels, factors, determinism
// for a seed, and that concurrent readers see what a lone reader sees.
func TestEveryDataset(t *testing.T) {
	for _, ds := range All() {
		d := ds.Describe()
		t.Run(d.Name, func(t *testing.T) {
			if d.Summary == "" || d.Source == "" || d.Shape.Size() == 0 || d.Train == 0 || d.Test == 0 {
				t.Fatalf("incomplete description %+v", d)
			}
			sp, err := ds.Load(LoadOptions{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if sp.Train.Len() != d.Train || sp.Test.Len() != d.Test {
				t.Fatalf("splits of %d and %d examples, described as %d and %d", sp.Train.Len(), sp.Test.Len(), d.Train, d.Test)
			}
			size := d.Shape.Size()
			idx := []int{0, 3, 1, d.Test - 1}
			for _, split := range []Split{sp.Train, sp.Test} {
				x, y := make([]float32, len(idx)*size), make([]int32, len(idx))
				split.Fill(x, y, idx)
				var total float64
				for _, v := range x {
					f := float64(v)
					if math.IsNaN(f) || math.IsInf(f, 0) || (!d.Real && (f < 0 || f > 1)) {
						t.Fatalf("value %v (real: %v)", v, d.Real)
					}
					total += math.Abs(f)
				}
				if total == 0 {
					t.Fatal("all examples are zero")
				}
				for _, l := range y {
					if l < 0 || (d.Classes > 0 && int(l) >= d.Classes) || (d.Classes == 0 && l != 0) {
						t.Fatalf("label %d with %d classes", l, d.Classes)
					}
				}
				if f, ok := split.(Factored); ok != (len(d.Factors) > 0) {
					t.Fatalf("Factored %v with %d factors described", ok, len(d.Factors))
				} else if ok {
					v := make([]float64, len(d.Factors))
					f.Factors(idx[1], v)
					for k, fac := range d.Factors {
						if !slices.Contains(fac.Values, v[k]) {
							t.Fatalf("factor %s = %v is not on its grid", fac.Name, v[k])
						}
					}
				}
			}
			if r, ok := ds.(Renderer); ok != (len(d.Factors) > 0) {
				t.Fatalf("Renderer %v with %d factors described", ok, len(d.Factors))
			} else if ok {
				// Rendering an example's factors draws that example.
				v, f := make([]float64, len(d.Factors)), make([]int, len(d.Factors))
				for _, i := range idx {
					sp.Test.(Factored).Factors(i, v)
					for k, fac := range d.Factors {
						f[k] = fac.Index(v[k])
					}
					got := make([]float32, size)
					r.Render(f, got)
					if !slices.Equal(got, fillIdx(sp.Test, size, []int{i})) {
						t.Fatalf("Render of test example %d's factors %v differs from the example", i, f)
					}
				}
			}
			again, _ := ds.Load(LoadOptions{Seed: 1})
			other, _ := ds.Load(LoadOptions{Seed: 2})
			a, b, c := fillIdx(sp.Train, size, idx), fillIdx(again.Train, size, idx), fillIdx(other.Train, size, idx)
			if !slices.Equal(a, b) {
				t.Error("same seed, different examples")
			}
			if slices.Equal(a, c) != slices.Contains(seedless, d.Name) {
				t.Errorf("seed 2 gives the same examples as seed 1: %v (only %v ignore the seed)", slices.Equal(a, c), seedless)
			}
			// Four readers at once, each filling the same batch.
			many := make([]int, 32)
			for i := range many {
				many[i] = (i * 7919) % d.Test
			}
			want := fillIdx(sp.Test, size, many)
			var wg sync.WaitGroup
			got := make([][]float32, 4)
			for r := range got {
				wg.Go(func() { got[r] = fillIdx(sp.Test, size, many) })
			}
			wg.Wait()
			for r := range got {
				if !slices.Equal(got[r], want) {
					t.Fatalf("concurrent reader %d saw other values", r)
				}
			}
		})
	}
}

// fillIdx returns the values of the examples idx of s.
func fillIdx(s Split, size int, idx []int) []float32 {
	x := make([]float32, len(idx)*size)
	s.Fill(x, make([]int32, len(idx)), idx)
	return x
}

func TestSeqMNISTIsMNISTRowByRow(t *testing.T) {
	seq, err := SeqMNIST{}.Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	im := realTest(t)
	x, y := make([]float32, 784), make([]int32, 1)
	seq.Test.Fill(x, y, []int{42})
	for row := range 28 {
		for col := range 28 {
			if x[row*28+col] != float32(im.Pixels[42*784+row*28+col])/255 {
				t.Fatalf("step %d value %d is not row %d column %d of MNIST test image 42", row, col, row, col)
			}
		}
	}
	if y[0] != int32(im.Labels[42]) {
		t.Errorf("label %d, MNIST's %d", y[0], im.Labels[42])
	}
	if sh := (SeqMNIST{}).Describe().Shape; sh.Frames != 28 || sh.FrameSize() != 28 || sh.Size() != 784 {
		t.Errorf("shape %v, want 28 steps of 28", sh)
	}
}

func TestFactorIndex(t *testing.T) {
	f := Factor{Name: "orientation", Values: linspace(0, 2*math.Pi, 40)}
	for i, v := range f.Values {
		if f.Index(v) != i || f.Index(v+1e-9) != i {
			t.Errorf("Index(%v) = %d, want %d", v, f.Index(v), i)
		}
	}
	if f.Index(-5) != 0 || f.Index(100) != 39 {
		t.Error("values off the grid go to the nearest end")
	}
}
