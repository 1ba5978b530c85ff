package experiments

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/plots"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
)

// Pictures of a trained model's latent space: traversals, interpolations,
// conditional generation and a 2-D projection of the codes.

// LatentOptions configures the latent-space pictures. Zero values take the defaults.
type LatentOptions struct {
	// Steps is the number of columns of traversals and interpolations (default 9).
	Steps int
	// Span is how far a traversal goes each way from the base code, in
	// standard deviations: of the prior N(0, 1) for families with a Gaussian
	// posterior, of the test codes along that dimension for the others
	// (default 2).
	Span float64
	// Pairs is the number of interpolations (default 5).
	Pairs int
	// PerClass is the number of columns of the conditional grid (default 8).
	PerClass int
	// N is the number of test examples encoded for the projection and the
	// code statistics (default 2000).
	N int
	// Seed draws the conditional grid's codes (default: the run's seed).
	Seed int64
}

func (o LatentOptions) withDefaults(runSeed int64) LatentOptions {
	if o.Steps == 0 {
		o.Steps = 9
	}
	if o.Span == 0 {
		o.Span = 2
	}
	if o.Pairs == 0 {
		o.Pairs = 5
	}
	if o.PerClass == 0 {
		o.PerClass = 8
	}
	if o.N == 0 {
		o.N = 2000
	}
	if o.Seed == 0 {
		o.Seed = runSeed
	}
	return o
}

// Check reports options outside their ranges (after the defaults are
// applied), naming them as `vaexp latent`'s flags.
func (o LatentOptions) Check() error {
	if o.Steps < 2 || !(o.Span > 0) || math.IsInf(o.Span, 0) || o.Pairs < 1 || o.PerClass < 1 || o.N < 3 {
		return fmt.Errorf("--steps %d --span %g --pairs %d --per-class %d -n %d: need --steps >= 2, a finite --span > 0, --pairs and --per-class >= 1, -n >= 3",
			o.Steps, o.Span, o.Pairs, o.PerClass, o.N)
	}
	return nil
}

// Figure is one picture of a run: its artifact name, PNG bytes and what it shows.
type Figure struct {
	Name    string
	PNG     []byte
	Caption string
}

// ErrNotConditional is returned by [Trained.ConditionalGrid] for a family
// whose decoder ignores the label.
var ErrNotConditional = errors.New("the decoder ignores the label")

// Traversal decodes base with each dimension d set in turn to each of
// values[d] (the others kept): row d of the result, in order, is dimension
// d's traversal, len(values[d]) images.
func (t *Trained) Traversal(base []float32, values [][]float64) ([][]float32, error) {
	if len(values) != len(base) {
		return nil, fmt.Errorf("traversal: %d value lists for a %d-dimensional code", len(values), len(base))
	}
	var codes [][]float32
	for d, vs := range values {
		for _, v := range vs {
			c := slices.Clone(base)
			c[d] = float32(v)
			codes = append(codes, c)
		}
	}
	return t.Decode(codes, nil)
}

// TraversalValues returns, for each latent dimension, steps values evenly
// spaced over ±span standard deviations around a centre: the prior's
// (N(0, 1)) for families with a Gaussian posterior, otherwise each
// dimension's mean and standard deviation over codes (an autoencoder's codes
// have no prior to go by).
func (t *Trained) TraversalValues(codes [][]float32, steps int, span float64) ([][]float64, error) {
	if len(codes) < 2 || steps < 2 {
		return nil, fmt.Errorf("traversal values: %d codes, %d steps; need at least 2 of each", len(codes), steps)
	}
	d := len(codes[0])
	_, prior := t.Model.(vae.PosteriorEncoder)
	out := make([][]float64, d)
	col := make([]float64, len(codes))
	for j := range d {
		centre, sd := 0.0, 1.0
		if !prior {
			for i, c := range codes {
				col[i] = float64(c[j])
			}
			centre, sd = stat.MeanStdDev(col, nil)
		}
		out[j] = evenly(centre-sd*span, centre+sd*span, steps)
	}
	return out, nil
}

// evenly returns steps values evenly spaced from lo to hi, both included.
func evenly(lo, hi float64, steps int) []float64 {
	out := make([]float64, steps)
	for s := range out {
		out[s] = lo + (hi-lo)*float64(s)/float64(steps-1)
	}
	return out
}

// Line returns steps points evenly spaced on the straight line from a to b,
// both ends included: an interpolation between two codes or noise vectors.
func Line(a, b []float32, steps int) ([][]float32, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("line: ends have %d and %d values", len(a), len(b))
	}
	if steps < 2 {
		return nil, fmt.Errorf("line: %d steps; need at least 2 (the two ends)", steps)
	}
	out := make([][]float32, steps)
	for s := range out {
		t := float32(s) / float32(steps-1)
		out[s] = make([]float32, len(a))
		for j := range a {
			out[s][j] = (1-t)*a[j] + t*b[j]
		}
	}
	return out, nil
}

// Traverse returns steps copies of code with coordinate dim moved evenly
// from lo to hi: a latent traversal.
func Traverse(code []float32, dim int, lo, hi float64, steps int) ([][]float32, error) {
	if dim < 0 || dim >= len(code) {
		return nil, fmt.Errorf("traverse: coordinate %d of a %d-dimensional code", dim, len(code))
	}
	if steps < 2 {
		return nil, fmt.Errorf("traverse: %d steps; need at least 2", steps)
	}
	values := evenly(lo, hi, steps)
	out := make([][]float32, steps)
	for s := range out {
		out[s] = slices.Clone(code)
		out[s][dim] = float32(values[s])
	}
	return out, nil
}

// Interpolation decodes steps points evenly spaced on the segment from code
// a to code b, both ends included. labels, when not nil, holds the classes
// of a and b; each point is decoded with the nearer end's class
// (conditional families), others ignore it.
func (t *Trained) Interpolation(a, b []float32, steps int, labels []int) ([][]float32, error) {
	codes, err := Line(a, b, steps)
	if err != nil {
		return nil, fmt.Errorf("interpolation: %w", err)
	}
	var ls []int
	if labels != nil {
		for s := range codes {
			u := float32(s) / float32(steps-1)
			ls = append(ls, labels[min(1, int(math.Round(float64(u))))])
		}
	}
	return t.Decode(codes, ls)
}

// ConditionalGrid decodes perClass codes drawn from N(0, I) (seeded) with
// every class: row c of the result is class c, and column j uses the same
// code in every row, so a column shows one "style" across classes. It
// returns ErrNotConditional when the labels change nothing.
func (t *Trained) ConditionalGrid(perClass int, dim int, seed int64) ([][]float32, error) {
	classes := t.Data.Classes
	if classes < 2 {
		return nil, fmt.Errorf("conditional grid: data %s has %d classes: %w", t.Data.Name, classes, ErrNotConditional)
	}
	rng := data.NewRand(seed, "conditional-grid", 0)
	z := make([][]float32, perClass)
	for j := range z {
		z[j] = make([]float32, dim)
		for k := range z[j] {
			z[j][k] = float32(rng.NormFloat64())
		}
	}
	var codes [][]float32
	var labels []int
	for c := range classes {
		codes = append(codes, z...)
		for range z {
			labels = append(labels, c)
		}
	}
	imgs, err := t.Decode(codes, labels)
	if err != nil {
		return nil, err
	}
	// The same computation on the same code: bitwise equal unless the label is used.
	same := true
	for j := 0; j < perClass && same; j++ {
		same = slices.Equal(imgs[j], imgs[perClass+j])
	}
	if same {
		return nil, fmt.Errorf("conditional grid of family %q: %w", t.Spec.Family, ErrNotConditional)
	}
	return imgs, nil
}

// LatentFigures draws the pictures the run's family allows: "traversals.png"
// (one row per latent dimension, around the first test example's code),
// "interpolations.png" (between test examples of different classes),
// "conditional.png" (one row per class; families whose decoder takes the
// label) and "latent_pca.png" (opts.N test codes on their first two
// principal components). It needs an encoder; traversals and interpolations
// also a decoder of given codes.
func (t *Trained) LatentFigures(opts LatentOptions) ([]Figure, error) {
	opts = opts.withDefaults(t.Spec.Seed)
	if err := opts.Check(); err != nil {
		return nil, fmt.Errorf("latent pictures: %w", err)
	}
	if !t.CanEncode() {
		return nil, fmt.Errorf("latent pictures of run %d: family %q has no encoder (it cannot map examples to codes)", t.RunID, t.Spec.Family)
	}
	if sh := t.Data.Shape; sh.IsSequence() || sh.Channels != 1 || t.Data.Real {
		return nil, fmt.Errorf("latent pictures of run %d: drawn for grey-level images, but the data %s is %s", t.RunID, t.Data.Name, sh)
	}
	ex, err := t.Examples("test", opts.N)
	if err != nil {
		return nil, err
	}
	codes, err := t.Encode(ex)
	if err != nil {
		return nil, err
	}
	var figs []Figure
	add := func(name, caption string, p *plot.Plot, w, h float64) error {
		png, err := plots.EncodeFigure(p, ".png", w, h)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		figs = append(figs, Figure{Name: name, PNG: png, Caption: caption})
		return nil
	}
	sh := t.Data.Shape
	grid := func(name, caption string, imgs [][]float32, cols int, o plots.LabeledGridOptions) error {
		p, err := plots.LabeledGrid(imgs, sh.Height, sh.Width, cols, o)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		w, h := plots.LabeledGridSize((len(imgs)+cols-1)/cols, cols)
		return add(name, caption, p, w, h)
	}
	dim := len(codes[0])
	if t.CanDecode() {
		if err := t.traversalFigure(ex, codes, opts, grid); err != nil {
			return nil, err
		}
		if err := t.interpolationFigure(ex, codes, opts, grid); err != nil {
			return nil, err
		}
		cond, err := t.ConditionalGrid(opts.PerClass, dim, opts.Seed)
		switch {
		case errors.Is(err, ErrNotConditional):
		case err != nil:
			return nil, err
		default:
			rows := make([]string, t.Data.Classes)
			for c := range rows {
				rows[c] = fmt.Sprintf("class %d", c)
			}
			if err := grid("conditional.png", "conditional generation: one row per class, one code from N(0, I) per column",
				cond, opts.PerClass, plots.LabeledGridOptions{Title: fmt.Sprintf("run %d (%s): each class decoded from the same %d codes", t.RunID, t.Spec.Family, opts.PerClass),
					XLabel: "code drawn from N(0, I)", RowLabels: rows}); err != nil {
				return nil, err
			}
		}
	}
	if dim >= 2 {
		proj, explained, err := eval.Project2D(rowsMatrix(codes))
		if err != nil {
			return nil, err
		}
		n, _ := proj.Dims()
		xs, ys := make([]float64, n), make([]float64, n)
		for i := range n {
			xs[i], ys[i] = proj.At(i, 0), proj.At(i, 1)
		}
		var labels []int
		if t.Data.Classes > 0 {
			labels = ex.Labels
		}
		p, err := plots.LatentScatter(xs, ys, labels, plots.CurveOptions{
			Title:  fmt.Sprintf("run %d (%s): %d test codes, first two principal components (%.0f%% of the variance)", t.RunID, t.Spec.Family, n, 100*(explained[0]+explained[1])),
			XLabel: fmt.Sprintf("PC 1 (%.0f%%)", 100*explained[0]), YLabel: fmt.Sprintf("PC 2 (%.0f%%)", 100*explained[1])})
		if err != nil {
			return nil, err
		}
		if err := add("latent_pca.png", "test codes projected on their first two principal components (PCA)", p, 7, 6); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// traversalFigure adds traversals.png: one row per dimension, labelled with
// its activity Cov_x(E_q[z_d]) (Burda et al.'s active-unit measure).
func (t *Trained) traversalFigure(ex Examples, codes [][]float32, opts LatentOptions,
	grid func(string, string, [][]float32, int, plots.LabeledGridOptions) error) error {
	values, err := t.TraversalValues(codes, opts.Steps, opts.Span)
	if err != nil {
		return err
	}
	imgs, err := t.Traversal(codes[0], values)
	if err != nil {
		return err
	}
	_, activity, err := eval.ActiveUnits(rowsMatrix(codes), eval.ActiveUnitThreshold)
	if err != nil {
		return err
	}
	rows := make([]string, len(values))
	for d := range rows {
		rows[d] = fmt.Sprintf("z%d (var %.2g)", d, activity[d])
	}
	cols := make([]string, opts.Steps)
	for s := range cols {
		cols[s] = fmt.Sprintf("%+.1f", opts.Span*(2*float64(s)/float64(opts.Steps-1)-1))
	}
	around := "the prior's standard deviations"
	if _, prior := t.Model.(vae.PosteriorEncoder); !prior {
		around = "each dimension's standard deviation over the test codes, around its mean"
	}
	label := ""
	if t.Data.Classes > 0 {
		label = fmt.Sprintf(", class %d", ex.Labels[0])
	}
	return grid("traversals.png", fmt.Sprintf("latent traversals: row d varies z_d over ±%g of %s; the others stay at test example 0's code", opts.Span, around),
		imgs, opts.Steps, plots.LabeledGridOptions{
			Title:  fmt.Sprintf("run %d (%s): traversals from test example 0's code%s", t.RunID, t.Spec.Family, label),
			XLabel: "value of the dimension (standard deviations)", RowLabels: rows, ColLabels: cols})
}

// interpolationFigure adds interpolations.png: each row starts and ends with
// two real test examples (of different classes when labelled) and decodes
// opts.Steps points on the line between their codes.
func (t *Trained) interpolationFigure(ex Examples, codes [][]float32, opts LatentOptions,
	grid func(string, string, [][]float32, int, plots.LabeledGridOptions) error) error {
	pairs := interpolationPairs(ex.Labels, t.Data.Classes > 1, opts.Pairs)
	var imgs [][]float32
	var rows []string
	for _, p := range pairs {
		a, b := p[0], p[1]
		line, err := t.Interpolation(codes[a], codes[b], opts.Steps, []int{ex.Labels[a], ex.Labels[b]})
		if err != nil {
			return err
		}
		imgs = append(append(append(imgs, ex.Images[a]), line...), ex.Images[b])
		if t.Data.Classes > 0 {
			rows = append(rows, fmt.Sprintf("%d → %d", ex.Labels[a], ex.Labels[b]))
		} else {
			rows = append(rows, fmt.Sprintf("#%d → #%d", a, b))
		}
	}
	cols := []string{"x_a"}
	for s := range opts.Steps {
		cols = append(cols, fmt.Sprintf("%.2g", float64(s)/float64(opts.Steps-1)))
	}
	cols = append(cols, "x_b")
	return grid("interpolations.png", "interpolations: real test examples at both ends, decoded points of the segment between their codes in between",
		imgs, opts.Steps+2, plots.LabeledGridOptions{
			Title:  fmt.Sprintf("run %d (%s): decoding (1−t)·z_a + t·z_b", t.RunID, t.Spec.Family),
			XLabel: "t (ends: the real test examples)", RowLabels: rows, ColLabels: cols})
}

// interpolationPairs picks n pairs of example indices: with classes, the
// first examples of the classes present, taken two by two in ascending order
// and wrapping around ((0, 1), (2, 3), …); without, examples (0, 1), (2, 3), …
func interpolationPairs(labels []int, classes bool, n int) [][2]int {
	var out [][2]int
	first := map[int]int{}
	var order []int
	for i, l := range labels {
		if _, ok := first[l]; !ok {
			first[l] = i
			order = append(order, l)
		}
	}
	if classes && len(order) >= 2 {
		slices.Sort(order)
		m := len(order)
		for k := range n { // 2k and 2k+1 differ mod m ≥ 2, so each pair has two classes
			out = append(out, [2]int{first[order[2*k%m]], first[order[(2*k+1)%m]]})
		}
		return out
	}
	for k := 0; len(out) < n && 2*k+1 < len(labels); k++ {
		out = append(out, [2]int{2 * k, 2*k + 1})
	}
	return out
}

// RecordLatent draws run id's latent-space pictures ([Trained.LatentFigures])
// and stores each in the run's folder and as an artifact of the run at its
// last step (replacing pictures drawn before). It returns the figures and the
// folder they were written to ("" when the run has no folder).
func RecordLatent(db *tracker.DB, id int64, opts LatentOptions) ([]Figure, string, error) {
	t, err := Load(db, id)
	if err != nil {
		return nil, "", err
	}
	figs, err := t.LatentFigures(opts)
	if err != nil {
		return nil, "", err
	}
	for _, f := range figs {
		if t.Dir != "" {
			if err := os.WriteFile(filepath.Join(t.Dir, f.Name), f.PNG, 0o644); err != nil {
				return nil, "", fmt.Errorf("write %s to the run folder: %w", f.Name, err)
			}
		}
		if _, err := db.AddArtifact(id, f.Name, -1, "image/png", f.PNG); err != nil {
			return nil, "", err
		}
	}
	return figs, t.Dir, nil
}
