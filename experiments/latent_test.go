package experiments

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

// dim0Decoder decodes a code to an image whose every pixel is z_0: only the
// first latent dimension matters.
type dim0Decoder struct{ encodingModel }

func (m dim0Decoder) Decode(_ *model.Scope, z, _ *graph.Node) *graph.Node {
	n := z.Shape().Dimensions[0]
	first := graph.Reshape(graph.Slice(z, graph.AxisRange(), graph.AxisRange(0, 1)), n, 1, 1, 1)
	return graph.BroadcastToDims(first, n, 28, 28, 1)
}

func TestTraversalKnownAnswer(t *testing.T) {
	tr, _ := trainedTiny(t, "vae")
	base := make([]float32, 20)
	for j := range base {
		base[j] = 0.25
	}
	values, err := tr.TraversalValues([][]float32{base, base}, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	tr.Model = dim0Decoder{tr.Model.(encodingModel)}
	// A Gaussian-posterior family traverses the prior: −2, −1, 0, 1, 2 in every dimension.
	if len(values) != 20 || !slices.Equal(values[7], []float64{-2, -1, 0, 1, 2}) {
		t.Fatalf("traversal values %v", values[:1])
	}
	imgs, err := tr.Traversal(base, values)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 20*5 {
		t.Fatalf("%d images, want latent_dim·steps = 100", len(imgs))
	}
	for d := range 20 {
		for s := range 5 {
			px := imgs[d*5+s][123]
			want := float32(0.25) // only row 0 moves z_0
			if d == 0 {
				want = float32(values[0][s])
			}
			if px != want {
				t.Fatalf("row %d column %d: pixel %g, want %g", d, s, px, want)
			}
		}
	}
}

func TestTraversalValuesOfCodes(t *testing.T) {
	tr, _ := trainedTiny(t, "ae")
	// No prior: mean ± span·sd of the codes per dimension. Codes 1 and 3: mean 2, sd √2.
	codes := [][]float32{{1, 10}, {3, 10}}
	values, err := tr.TraversalValues(codes, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{2 - math.Sqrt2, 2, 2 + math.Sqrt2}
	for i := range want {
		if math.Abs(values[0][i]-want[i]) > 1e-12 || values[1][i] != 10 {
			t.Fatalf("values %v, want %v and a constant 10", values, want)
		}
	}
}

func TestInterpolationEndsAreTheCodes(t *testing.T) {
	tr, _ := trainedTiny(t, "vae")
	ex, err := tr.Examples("test", 2)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := tr.Encode(ex)
	if err != nil {
		t.Fatal(err)
	}
	line, err := tr.Interpolation(codes[0], codes[1], 6, ex.Labels)
	if err != nil {
		t.Fatal(err)
	}
	recons, err := tr.Reconstruct(ex)
	if err != nil {
		t.Fatal(err)
	}
	if len(line) != 6 {
		t.Fatalf("%d points, want 6", len(line))
	}
	for _, c := range []struct{ point, example int }{{0, 0}, {5, 1}} {
		for j := range recons[c.example] {
			if math.Abs(float64(line[c.point][j]-recons[c.example][j])) > 1e-5 {
				t.Fatalf("point %d differs from the reconstruction of example %d at pixel %d", c.point, c.example, j)
			}
		}
	}
	if pairs := interpolationPairs([]int{5, 3, 3, 0, 9}, true, 3); !slices.Equal(pairs, [][2]int{{3, 1}, {0, 4}, {3, 1}}) {
		t.Errorf("pairs by class %v", pairs)
	}
	if pairs := interpolationPairs([]int{0, 0, 0, 0, 0}, false, 3); !slices.Equal(pairs, [][2]int{{0, 1}, {2, 3}}) {
		t.Errorf("pairs without classes %v", pairs)
	}
}

func TestConditionalGridAndRecordLatent(t *testing.T) {
	db := openDB(t)
	cvae := trainTinyRun(t, db, "cvae")
	tr, err := Load(db, cvae)
	if err != nil {
		t.Fatal(err)
	}
	grid, err := tr.ConditionalGrid(4, 20, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(grid) != 10*4 {
		t.Fatalf("%d images, want 10 classes × 4", len(grid))
	}
	figs, dir, err := RecordLatent(db, cvae, LatentOptions{Steps: 5, N: 50, PerClass: 4})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
		img, err := png.Decode(bytes.NewReader(f.PNG))
		if err != nil || img.Bounds().Dx() < 300 {
			t.Errorf("%s: not a figure (%v)", f.Name, err)
		}
		onDisk, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || !bytes.Equal(onDisk, f.PNG) {
			t.Errorf("%s in the run folder: %v", f.Name, err)
		}
		stored, info, err := db.Artifact(cvae, f.Name)
		if err != nil || !bytes.Equal(stored, f.PNG) || info.Step != 5 {
			t.Errorf("%s artifact: step %d, %v", f.Name, info.Step, err)
		}
	}
	if want := []string{"traversals.png", "interpolations.png", "conditional.png", "latent_pca.png"}; !slices.Equal(names, want) {
		t.Errorf("figures %v, want %v", names, want)
	}

	vaeRun := trainTinyRun(t, db, "vae")
	tv, err := Load(db, vaeRun)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tv.ConditionalGrid(4, 20, 7); !errors.Is(err, ErrNotConditional) {
		t.Errorf("an unconditional VAE's grid: %v, want ErrNotConditional", err)
	}
	figs, _, err = RecordLatent(db, vaeRun, LatentOptions{N: 30})
	if err != nil || len(figs) != 3 {
		t.Errorf("vae: %d figures (%v), want 3 (no conditional grid)", len(figs), err)
	}
	tv.Model = noEncoder{tv.Model}
	if _, err := tv.LatentFigures(LatentOptions{}); err == nil {
		t.Error("pictures drawn without an encoder")
	}
	if _, err := tv.LatentFigures(LatentOptions{Steps: 1}); err == nil {
		t.Error("one-step traversal accepted")
	}
}

// noEncoder hides every capability but the contract.
type noEncoder struct{ m vae.Model }

func (s noEncoder) Loss(scope *model.Scope, b vae.Batch) vae.Loss { return s.m.Loss(scope, b) }

func (s noEncoder) Generate(scope *model.Scope, g *graph.Graph, n int, labels *graph.Node) *graph.Node {
	return s.m.Generate(scope, g, n, labels)
}
