package data

import (
	"fmt"
	"math"

	"github.com/vaexp/vaexp/vae"
)

// Shapes is a dSprites-style data set (Matthey et al. 2017): one white shape
// on black, rendered from five ground-truth factors on the dSprites grid —
// shape ∈ {square, ellipse, heart}, scale (6 values in [0.5, 1]), orientation
// (40 values in [0, 2π]), x and y (32 values each in [0, 1]) — 737,280
// combinations. Every example is rendered when it is asked for (the full grid
// is 3 GB of 64×64 bytes), so a split holds only the order of its grid points.
//
// The pictures are dSprites-like, not dSprites' pixels: each shape is drawn
// from its signed distance function with a one-pixel anti-aliased edge (a
// pixel's value is its distance-based coverage, deterministic), at any Side.
// The registry holds "shapes" (64×64, as dSprites) and "shapes-32" (32×32,
// the same factor grid, four times cheaper; at that size the smallest shapes
// are about 5 pixels wide and neighbouring positions 0.55 pixels apart).
type Shapes struct {
	// Name is the registry name.
	Name string
	// Side is the image width and height in pixels.
	Side int
}

// The dSprites factor grid. Orientation is sampled as in dSprites, 40 values
// from 0 to 2π inclusive, so its first and last values draw the same image;
// moreover a square looks the same every π/2 and an ellipse every π, so
// orientation is identifiable only modulo those symmetries (as in dSprites).
var (
	shapeNames      = []string{"square", "ellipse", "heart"}
	shapeFactorGrid = []Factor{
		{Name: "shape", Values: linspace(0, 2, 3)},
		{Name: "scale", Values: linspace(0.5, 1, 6)},
		{Name: "orientation", Values: linspace(0, 2*math.Pi, 40)},
		{Name: "x", Values: linspace(0, 1, 32)},
		{Name: "y", Values: linspace(0, 1, 32)},
	}
)

const (
	// shapesTest is the size of the test split: grid points drawn without
	// replacement; the training split is all the others.
	shapesTest = 10000
	// shapeRadius is the radius, as a fraction of the side, of the circle
	// around each shape at scale 1 (the circle its rotations sweep).
	shapeRadius = 0.2
)

// linspace returns n evenly spaced values from lo to hi inclusive.
func linspace(lo, hi float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = lo + (hi-lo)*float64(i)/float64(n-1)
	}
	return v
}

// shapesGridSize is the number of factor combinations.
func shapesGridSize() int {
	n := 1
	for _, f := range shapeFactorGrid {
		n *= len(f.Values)
	}
	return n
}

// Describe implements Dataset.
func (s Shapes) Describe() Description {
	n := shapesGridSize()
	r := shapeRadius * float64(s.Side)
	return Description{
		Name:    s.Name,
		Summary: fmt.Sprintf("dSprites-style shapes with 5 ground-truth factors, %d×%d, white on black", s.Side, s.Side),
		Source:  "Matthey et al. 2017 (dSprites) factor grid, rendered here from a seed",
		Shape:   vae.Shape{Height: s.Side, Width: s.Side, Channels: 1},
		Classes: len(shapeNames),
		Train:   n - shapesTest,
		Test:    shapesTest,
		Factors: shapeFactorGrid,
		Details: []string{
			"shape 0 square, 1 ellipse (axes 2:1), 2 heart; the label is the shape",
			fmt.Sprintf("scale s: the shape fits in a circle of radius s·%.1f px (square side %.1f px at s = 1)", r, r*math.Sqrt2),
			"orientation θ: counter-clockwise; 0 and 2π draw the same image, a square repeats every π/2, an ellipse every π",
			fmt.Sprintf("x, y in [0, 1]: the centre moves from %.1f to %.1f px, left to right and top to bottom", r+1, float64(s.Side)-r-1),
			"edges anti-aliased over one pixel (coverage from the signed distance); no noise",
			fmt.Sprintf("test: %d grid points drawn by the seed; train: the other %d, in a seeded order", shapesTest, n-shapesTest),
		},
	}
}

// Load implements Dataset: the grid in an order drawn from opts.Seed, its
// first shapesTest points the test split, the rest the training split.
// Neither split renders anything until Fill.
func (s Shapes) Load(opts LoadOptions) (*Splits, error) {
	if s.Side < 8 {
		return nil, fmt.Errorf("shapes side %d px: too small to draw a shape; use 8 or more (the registry's are 64 and 32)", s.Side)
	}
	order := permute(shapesGridSize(), newPCG(opts.Seed, "shapes-order", 0))
	return &Splits{
		Train: &ShapesSplit{shapes: s, points: order[shapesTest:]},
		Test:  &ShapesSplit{shapes: s, points: order[:shapesTest:shapesTest]},
	}, nil
}

// Render implements Renderer.
func (s Shapes) Render(factors []int, dst []float32) {
	if len(factors) != len(shapeFactorGrid) {
		panic(fmt.Sprintf("data: shapes Render: %d factor indices, want %d (shape, scale, orientation, x, y)", len(factors), len(shapeFactorGrid)))
	}
	for k, f := range shapeFactorGrid {
		if factors[k] < 0 || factors[k] >= len(f.Values) {
			panic(fmt.Sprintf("data: shapes Render: %s index %d out of range [0,%d)", f.Name, factors[k], len(f.Values)))
		}
	}
	if len(dst) != s.Side*s.Side {
		panic(fmt.Sprintf("data: shapes Render: len(dst) = %d, want %d×%d", len(dst), s.Side, s.Side))
	}
	g := shapeFactorGrid
	drawShape(dst, s.Side, factors[0], g[1].Values[factors[1]], g[2].Values[factors[2]], g[3].Values[factors[3]], g[4].Values[factors[4]])
}

// ShapesSplit is one split of a Shapes data set: grid points in a fixed
// order, rendered on demand. It is immutable, so concurrent readers may share it.
type ShapesSplit struct {
	shapes Shapes
	points []int // grid indices, factor-major: shape slowest, y fastest (as dSprites)
}

// Len implements Split.
func (s *ShapesSplit) Len() int { return len(s.points) }

// FactorIndices writes example i's factor indices (one per factor, into
// [Description.Factors] Values) into dst.
func (s *ShapesSplit) FactorIndices(i int, dst []int) {
	g := s.points[i]
	for k := len(shapeFactorGrid) - 1; k >= 0; k-- {
		n := len(shapeFactorGrid[k].Values)
		dst[k] = g % n
		g /= n
	}
}

// Factors implements Factored: shape (0, 1, 2), scale, orientation in
// radians, x and y in [0, 1].
func (s *ShapesSplit) Factors(i int, dst []float64) {
	var idx [5]int
	s.FactorIndices(i, idx[:])
	for k, f := range shapeFactorGrid {
		dst[k] = f.Values[idx[k]]
	}
}

// Fill implements Split: the rendered images and their shape labels.
func (s *ShapesSplit) Fill(x []float32, y []int32, idx []int) {
	d := s.shapes.Side * s.shapes.Side
	if len(x) != len(idx)*d || len(y) != len(idx) {
		panic(fmt.Sprintf("data: shapes Fill: len(x) = %d, len(y) = %d for %d examples of %d values", len(x), len(y), len(idx), d))
	}
	var f [5]int
	for k, i := range idx {
		s.FactorIndices(i, f[:])
		s.shapes.Render(f[:], x[k*d:(k+1)*d])
		y[k] = int32(f[0])
	}
}

// drawShape renders one shape into the side×side image dst. Each pixel's
// value is its coverage by the shape, estimated from the signed distance d
// (in pixels) of its centre to the outline as clamp(0.5 − d, 0, 1): exact
// for a straight edge through the pixel, and one evaluation per pixel,
// where supersampling would take 16.
func drawShape(dst []float32, side, shape int, scale, theta, x, y float64) {
	clear(dst)
	r := shapeRadius * float64(side) // pixels per shape unit at scale 1
	margin := r + 1
	cx := margin + x*(float64(side)-2*margin)
	cy := margin + y*(float64(side)-2*margin)
	unit := scale * r
	sin, cos := math.Sincos(theta)
	sdf := shapeSDFs[shape]
	// Only the pixels within the circle the shape sweeps (plus the edge) can be inked.
	reach := unit + 1
	y0, y1 := max(0, int(math.Floor(cy-reach))), min(side-1, int(math.Ceil(cy+reach)))
	x0, x1 := max(0, int(math.Floor(cx-reach))), min(side-1, int(math.Ceil(cx+reach)))
	for py := y0; py <= y1; py++ {
		dy := cy - (float64(py) + 0.5) // upwards: image rows grow downwards
		row := dst[py*side : (py+1)*side]
		for px := x0; px <= x1; px++ {
			dx := float64(px) + 0.5 - cx
			// Rotate back by θ into the shape's own frame, in shape units.
			u := (cos*dx + sin*dy) / unit
			v := (-sin*dx + cos*dy) / unit
			cover := 0.5 - sdf(u, v)*unit
			if cover > 0 {
				row[px] = float32(min(cover, 1))
			}
		}
	}
}

// shapeSDFs are the signed distances (negative inside) of the three shapes,
// each centred on the origin and fitting exactly in the unit circle, with
// y pointing up.
var shapeSDFs = [3]func(u, v float64) float64{squareSDF, ellipseSDF, heartSDF}

// squareSDF is the exact distance to the square of half-side 1/√2 (its
// corners on the unit circle).
func squareSDF(u, v float64) float64 {
	const b = 1 / math.Sqrt2
	qx, qy := math.Abs(u)-b, math.Abs(v)-b
	return math.Hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0)
}

// ellipseSDF approximates the distance to the ellipse of semi-axes 1 and
// 1/2 (Quílez's first-order estimate k0(k0−1)/k1: exact on the outline and
// accurate within a pixel of it, which is all the anti-aliasing needs).
func ellipseSDF(u, v float64) float64 {
	const a, b = 1, 0.5
	k0 := math.Hypot(u/a, v/b)
	k1 := math.Hypot(u/(a*a), v/(b*b))
	if k1 == 0 {
		return -b // the centre
	}
	return k0 * (k0 - 1) / k1
}

// The heart is Quílez's exact heart distance (two round lobes of radius √2/4
// centred at (±1/4, 3/4) above a point at the origin), moved so that the
// centre of its bounding box is the origin and scaled into the unit circle.
var (
	heartLobe   = math.Sqrt2 / 4
	heartCentre = (0.75 + heartLobe) / 2 // the bounding box spans y ∈ [0, 3/4 + √2/4]
	// heartScale is the heart's radius around heartCentre, in its own units
	// (the farthest points are on the lobes; the tip, heartCentre away, is nearer).
	heartScale = math.Hypot(0.25, 0.75-heartCentre) + heartLobe
)

// heartSDF is the signed distance to the upright heart fitting the unit circle.
func heartSDF(u, v float64) float64 {
	px, py := math.Abs(u)*heartScale, v*heartScale+heartCentre
	var d float64
	if px+py > 1 {
		d = math.Hypot(px-0.25, py-0.75) - heartLobe
	} else {
		m := max(px+py, 0) / 2
		d = math.Sqrt(min(px*px+(py-1)*(py-1), (px-m)*(px-m)+(py-m)*(py-m)))
		if px < py {
			d = -d
		}
	}
	return d / heartScale
}
