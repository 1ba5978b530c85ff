package data

import (
	"math"
	"slices"
	"testing"
)

// shapeImage renders one factor combination (indices) at side px.
func shapeImage(side int, f ...int) []float32 {
	dst := make([]float32, side*side)
	Shapes{Name: "test", Side: side}.Render(f, dst)
	return dst
}

// ink returns an image's total ink and its centroid (column, row), in pixels
// from the top-left corner, pixel centres at +0.5.
func ink(img []float32, side int) (area, cx, cy float64) {
	for p, v := range img {
		area += float64(v)
		cx += float64(v) * (float64(p%side) + 0.5)
		cy += float64(v) * (float64(p/side) + 0.5)
	}
	return area, cx / area, cy / area
}

// expectedCentre is where the documented geometry puts the centre of a shape
// at position index i of 32.
func expectedCentre(side, i int) float64 {
	r := shapeRadius * float64(side)
	return r + 1 + float64(i)/31*(float64(side)-2*r-2)
}

func TestShapesSplitsDeterministicDisjointAndCoverTheGrid(t *testing.T) {
	s := Shapes{Name: "shapes", Side: 64}
	a, err := s.Load(LoadOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.Load(LoadOptions{Seed: 7})
	c, _ := s.Load(LoadOptions{Seed: 8})
	d := s.Describe()
	if a.Train.Len() != d.Train || a.Test.Len() != d.Test || d.Train+d.Test != 3*6*40*32*32 {
		t.Fatalf("sizes train %d test %d, described %d and %d", a.Train.Len(), a.Test.Len(), d.Train, d.Test)
	}
	pts := func(sp Split) []int { return sp.(*ShapesSplit).points }
	if !slices.Equal(pts(a.Train), pts(b.Train)) || !slices.Equal(pts(a.Test), pts(b.Test)) {
		t.Error("same seed, different order")
	}
	if slices.Equal(pts(a.Test), pts(c.Test)) {
		t.Error("other seed, same test split")
	}
	seen := make([]bool, d.Train+d.Test)
	for _, g := range append(slices.Clone(pts(a.Train)), pts(a.Test)...) {
		if seen[g] {
			t.Fatalf("grid point %d in both splits or twice", g)
		}
		seen[g] = true
	}
	// The same example renders the same bits however often it is asked for.
	x1, x2 := make([]float32, 3*64*64), make([]float32, 3*64*64)
	y := make([]int32, 3)
	a.Test.Fill(x1, y, []int{5, 0, 9999})
	b.Test.Fill(x2, y, []int{5, 0, 9999})
	if !slices.Equal(x1, x2) {
		t.Error("same seed and index, different pixels")
	}
}

func TestShapesFactorsAndLabels(t *testing.T) {
	s := Shapes{Name: "shapes-32", Side: 32}
	sp, err := s.Load(LoadOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train := sp.Train.(*ShapesSplit)
	idx := []int{0, 1, 2, 100, 5000}
	x, y := make([]float32, len(idx)*32*32), make([]int32, len(idx))
	train.Fill(x, y, idx)
	grid := s.Describe().Factors
	for k, i := range idx {
		var f [5]int
		var v [5]float64
		train.FactorIndices(i, f[:])
		train.Factors(i, v[:])
		for j := range f {
			if grid[j].Values[f[j]] != v[j] || grid[j].Index(v[j]) != f[j] {
				t.Errorf("example %d factor %s: index %d, value %v", i, grid[j].Name, f[j], v[j])
			}
		}
		if y[k] != int32(f[0]) {
			t.Errorf("example %d: label %d, shape %d", i, y[k], f[0])
		}
		if want := shapeImage(32, f[:]...); !slices.Equal(x[k*1024:(k+1)*1024], want) {
			t.Errorf("example %d: Fill and Render of its factors differ", i)
		}
	}
}

func TestShapesCentroidFollowsXY(t *testing.T) {
	for _, side := range []int{64, 32} {
		for shape := range 3 {
			prevX, prevY := -1.0, -1.0
			for i := range 32 {
				_, cx, _ := ink(shapeImage(side, shape, 5, 0, i, 10), side)
				_, _, cy := ink(shapeImage(side, shape, 5, 0, 10, i), side)
				if cx <= prevX || cy <= prevY {
					t.Fatalf("side %d shape %d position %d: centroid (%.2f, %.2f) did not move right and down from (%.2f, %.2f)", side, shape, i, cx, cy, prevX, prevY)
				}
				prevX, prevY = cx, cy
				if shape == 0 { // a square's centroid is its centre
					if want := expectedCentre(side, i); math.Abs(cx-want) > 0.02 || math.Abs(cy-want) > 0.02 {
						t.Errorf("side %d square at position %d: centroid (%.3f, %.3f), want %.3f", side, i, cx, cy, want)
					}
				}
			}
		}
	}
}

func TestShapesAreaGrowsWithScale(t *testing.T) {
	for shape := range 3 {
		var areas []float64
		for sc := range 6 {
			a, _, _ := ink(shapeImage(64, shape, sc, 7, 16, 16), 64)
			if len(areas) > 0 && a <= areas[len(areas)-1] {
				t.Errorf("shape %d: area %.1f at scale index %d, not above %.1f", shape, a, sc, areas[len(areas)-1])
			}
			areas = append(areas, a)
		}
		// Area goes with the square of the scale: ×4 from 0.5 to 1.
		if r := areas[5] / areas[0]; r < 3.7 || r > 4.3 {
			t.Errorf("shape %d: area ratio scale 1 / scale 0.5 = %.2f, want ≈ 4", shape, r)
		}
	}
	// The square's area is its side squared: (√2·r)² = 2r² at scale 1.
	a, _, _ := ink(shapeImage(64, 0, 5, 0, 16, 16), 64)
	if r := shapeRadius * 64; math.Abs(a-2*r*r) > 0.01*2*r*r {
		t.Errorf("square area %.1f, want 2r² = %.1f", a, 2*r*r)
	}
}

// TestShapesRotatedSquare checks the square's pixels by geometry alone: a
// pixel fully inked has its centre, rotated back by −θ, inside the
// axis-aligned square, and an empty pixel outside it.
func TestShapesRotatedSquare(t *testing.T) {
	const side = 64
	theta := shapeFactorGrid[2].Values
	r := shapeRadius * side
	half := r / math.Sqrt2 // at scale 1
	c := expectedCentre(side, 16)
	for o := range 40 {
		img := shapeImage(side, 0, 5, o, 16, 16)
		sin, cos := math.Sincos(theta[o])
		inked, empty := 0, 0
		for p, v := range img {
			dx := float64(p%side) + 0.5 - c
			dy := c - (float64(p/side) + 0.5)
			u, w := cos*dx+sin*dy, -sin*dx+cos*dy
			inside := max(math.Abs(u), math.Abs(w))
			switch {
			case v == 1:
				inked++
				if inside > half+0.5 {
					t.Fatalf("orientation %d: pixel %d fully inked but %.2f from the centre along an axis (half-side %.2f)", o, p, inside, half)
				}
			case v == 0:
				empty++
				if inside < half-0.5 {
					t.Fatalf("orientation %d: pixel %d empty but inside the square (%.2f < %.2f)", o, p, inside, half)
				}
			}
		}
		if inked < 250 || empty < 3500 {
			t.Fatalf("orientation %d: %d inked, %d empty pixels", o, inked, empty)
		}
	}
	// The inked width grows from the side (θ = 0) to the diagonal (θ ≈ π/4).
	width := func(img []float32) int {
		lo, hi := side, -1
		for p, v := range img {
			if v >= 0.5 {
				lo, hi = min(lo, p%side), max(hi, p%side)
			}
		}
		return hi - lo + 1
	}
	w0, w45 := width(shapeImage(side, 0, 5, 0, 16, 16)), width(shapeImage(side, 0, 5, 5, 16, 16)) // 5·2π/39 = 46°
	if math.Abs(float64(w0)-2*half) > 1.5 || math.Abs(float64(w45)-2*half*(math.Cos(theta[5])+math.Abs(math.Sin(theta[5])))) > 1.5 {
		t.Errorf("square width %d px at 0°, %d px at 46°; want %.1f and %.1f", w0, w45, 2*half, 2*half*(math.Cos(theta[5])+math.Sin(theta[5])))
	}
}

// TestShapesEllipseAxisFollowsOrientation reads the ellipse's orientation
// back from its second moments: the principal axis turns with θ (modulo π,
// its symmetry).
func TestShapesEllipseAxisFollowsOrientation(t *testing.T) {
	const side = 64
	for o, theta := range shapeFactorGrid[2].Values {
		img := shapeImage(side, 1, 5, o, 16, 16)
		_, cx, cy := ink(img, side)
		var sxx, syy, sxy float64
		for p, v := range img {
			dx := float64(p%side) + 0.5 - cx
			dy := cy - (float64(p/side) + 0.5)
			sxx += float64(v) * dx * dx
			syy += float64(v) * dy * dy
			sxy += float64(v) * dx * dy
		}
		got := 0.5 * math.Atan2(2*sxy, sxx-syy)
		diff := math.Mod(got-theta+10*math.Pi, math.Pi)
		diff = math.Min(diff, math.Pi-diff)
		if diff > 0.03 {
			t.Errorf("orientation %d (%.3f rad): principal axis at %.3f rad", o, theta, got)
		}
	}
}

func TestShapesDifferAndSymmetries(t *testing.T) {
	const side = 64
	l1 := func(a, b []float32) (d float64) {
		for i := range a {
			d += math.Abs(float64(a[i] - b[i]))
		}
		return d
	}
	imgs := [3][]float32{}
	for s := range 3 {
		imgs[s] = shapeImage(side, s, 5, 3, 16, 16)
	}
	for a := range 3 {
		for b := a + 1; b < 3; b++ {
			if d := l1(imgs[a], imgs[b]); d < 40 {
				t.Errorf("%s and %s differ by only %.1f px of ink", shapeNames[a], shapeNames[b], d)
			}
		}
	}
	for s := range 3 {
		// dSprites' caveat, kept: orientations 0 and 2π are the same image.
		if d := l1(shapeImage(side, s, 5, 0, 16, 16), shapeImage(side, s, 5, 39, 16, 16)); d > 1e-3 {
			t.Errorf("%s: orientation 0 and 2π differ by %g", shapeNames[s], d)
		}
		// Within the frame at the extreme positions: nothing on the border.
		for _, pos := range [][2]int{{0, 0}, {31, 31}, {0, 31}, {31, 0}} {
			img := shapeImage(side, s, 5, 5, pos[0], pos[1])
			for i := range side {
				if img[i] != 0 || img[(side-1)*side+i] != 0 || img[i*side] != 0 || img[i*side+side-1] != 0 {
					t.Fatalf("%s at position %v touches the border", shapeNames[s], pos)
				}
			}
		}
	}
	// The heart has no half-turn symmetry; upright, its lobes are at the top.
	_, _, cyUp := ink(shapeImage(side, 2, 5, 0, 16, 16), side)
	if c := expectedCentre(side, 16); cyUp >= c {
		t.Errorf("upright heart's centroid row %.2f is not above its centre %.2f (lobes on top)", cyUp, c)
	}
}

func TestShapesRenderPanicsOnBadArguments(t *testing.T) {
	s := Shapes{Name: "shapes", Side: 64}
	for name, call := range map[string]func(){
		"index":  func() { s.Render([]int{3, 0, 0, 0, 0}, make([]float32, 64*64)) },
		"count":  func() { s.Render([]int{0, 0, 0, 0}, make([]float32, 64*64)) },
		"length": func() { s.Render([]int{0, 0, 0, 0, 0}, make([]float32, 10)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			call()
		}()
	}
	if _, err := (Shapes{Name: "tiny", Side: 4}).Load(LoadOptions{}); err == nil {
		t.Error("a 4 px side loaded")
	}
}
