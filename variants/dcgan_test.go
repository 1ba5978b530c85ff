package variants_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// The DCGAN's own tests; what it shares with the MLP GAN is checked for
// both in gan_test.go, its batch norm in dcgan_internal_test.go.

// TestDCGANSizedFromData builds the DCGAN for 64×64 images (the shapes data
// set's size): the generator projects to 16×16 with the default two stages
// (8×8 with three), and generates and scores 64×64 images; a depth the
// image size does not allow is rejected naming it.
func TestDCGANSizedFromData(t *testing.T) {
	shapes64 := vae.Data{Name: "shapes", Shape: vae.Shape{Height: 64, Width: 64, Channels: 1}, N: 1000}
	for _, tc := range []struct {
		hidden string
		proj   int
	}{{"128,64", 16 * 16 * 128}, {"64,32,16", 8 * 8 * 64}} {
		m, _, err := variants.New("dcgan", map[string]any{"hidden": tc.hidden}, shapes64)
		if err != nil {
			t.Fatal(err)
		}
		store := model.NewStore()
		_ = store.SetRNGStateFromSeed(1)
		x := make([]float32, 4*64*64)
		for i := range x {
			x[i] = float32(i%7) / 6
		}
		outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
			scope.SetTraining(x.Graph(), true)
			ms := scope.At("model")
			l := m.Loss(ms, vae.Batch{X: x})
			return []*graph.Node{m.Generate(ms, x.Graph(), 3, nil), l.Total(), graph.ReduceAllMean(l.Aux[0].Loss)}
		}, tensors.FromFlatDataAndDimensions(x, 4, 64, 64, 1))
		if err != nil {
			t.Fatal(err)
		}
		if d := outs[0].Shape().Dimensions; !slices.Equal(d, []int{3, 64, 64, 1}) {
			t.Errorf("hidden=%s: Generate shape %v, want [3 64 64 1]", tc.hidden, d)
		}
		for i, o := range outs[1:] {
			if v := tensors.ToScalar[float32](o); math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Errorf("hidden=%s: loss %d = %v", tc.hidden, i, v)
			}
		}
		proj := store.GetVariable("/model/generator/project/weights")
		if proj == nil || !slices.Equal(proj.Shape().Dimensions, []int{tc.proj, 100}) {
			t.Errorf("hidden=%s: projection weights %v, want [%d 100]", tc.hidden, proj, tc.proj)
		}
	}
	if _, _, err := variants.New("dcgan", map[string]any{"hidden": "64,32,16"}, mnistData); err == nil || !strings.Contains(err.Error(), "divisible by 8") {
		t.Errorf("three upsampling stages on 28×28: error %v, want one saying height and width must be divisible by 8", err)
	}
	if _, _, err := variants.New("dcgan", map[string]any{"bn_momentum": 0}, mnistData); err == nil || !strings.Contains(err.Error(), "bn_momentum=0") {
		t.Errorf("bn_momentum=0: error %v, want one naming it", err)
	}
}

// TestDCGANPaperInit checks that every convolution and dense weight starts
// from N(0, 0.02²) and every bias at 0, as in the paper, and that batch
// norm's scale starts at 1 and its moving variance at 1.
func TestDCGANPaperInit(t *testing.T) {
	m, _, err := variants.New("dcgan", nil, mnistData)
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	_ = store.SetRNGStateFromSeed(5)
	x, y := mnistBatch(t, 8)
	if _, err := model.CallOnce(gobackend.GetBackend(), store, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		return m.Loss(scope.At("model"), vae.Batch{X: x, Labels: y}).Total()
	}, x, y); err != nil {
		t.Fatal(err)
	}
	var weights int
	for v := range store.IterVariables() {
		if v.Shape().DType != dtypes.Float32 {
			continue // the RNG state
		}
		vals := tensors.MustCopyFlatData[float32](v.MustValue())
		var sum, sq float64
		for _, x := range vals {
			sum += float64(x)
			sq += float64(x) * float64(x)
		}
		mean, std := sum/float64(len(vals)), math.Sqrt(sq/float64(len(vals)))
		switch name := v.Path()[strings.LastIndex(v.Path(), "/")+1:]; {
		case name == "weights" && len(vals) >= 1000:
			weights++
			if math.Abs(mean) > 0.002 || math.Abs(std-0.02) > 0.002 {
				t.Errorf("%s: mean %.4f, std %.4f; want N(0, 0.02²)", v.Path(), mean, std)
			}
		case name == "biases" || name == "offset" || name == "mean":
			if sq != 0 {
				t.Errorf("%s: not zero at start", v.Path())
			}
		case name == "scale" || name == "variance":
			if mean != 1 || std != 1 {
				t.Errorf("%s: not one at start", v.Path())
			}
		}
	}
	if weights != 6 { // projection, 2 generator and 2 discriminator convolutions, logit
		t.Errorf("checked %d weight tensors, want 6", weights)
	}
}
