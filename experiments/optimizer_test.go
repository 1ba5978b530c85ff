package experiments

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// auxToy is a two-variable family whose objectives both depend on both
// variables (no StopGradient), so only the optimizer keeps them apart:
//
//	main = Σ enc·disc             (trains /model/enc)
//	aux  = −Σ enc·disc + frozen·Σ disc (trains /model/disc; frozen is a
//	                               non-trainable variable under the aux scope)
type auxToy struct{}

func (auxToy) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	g := b.X.Graph()
	enc := scope.At("enc").VariableWithValue("w", []float32{1, -2}).NodeValue(g)
	disc := scope.At("disc").VariableWithValue("w", []float32{3, -4}).NodeValue(g)
	frozen := scope.At("disc").VariableWithValue("frozen", float32(5)).SetTrainable(false).NodeValue(g)
	dot := graph.ReduceAllSum(graph.Mul(enc, disc))
	aux := graph.Add(graph.Neg(dot), graph.Mul(frozen, graph.ReduceAllSum(disc)))
	return vae.Loss{
		Terms: []vae.Term{{Name: "dot", Value: dot, Weight: 1}, {Name: "aux", Value: aux, Weight: 0}},
		Aux:   []vae.AuxObjective{{Scope: "disc", Loss: aux, LearningRate: 0.01}},
	}
}

func (auxToy) Generate(_ *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	return graph.Zeros(g, shapes.Make(dtypes.Float32, n, 28, 28, 1))
}

// TestAuxObjectiveSeparation runs the driver's trainer on auxToy. Adam's
// first step moves each variable by its learning rate against the sign of
// its gradient, so after one step enc = enc₀ − 0.1·sign(disc₀) (main only)
// and disc = disc₀ − 0.01·sign(−enc₀ + 5) (aux only); any cross-talk, a
// trained frozen variable or a double-counted global step shows.
func TestAuxObjectiveSeparation(t *testing.T) {
	store := model.NewStore()
	steps := newStepper(gobackend.GetBackend(), store, auxToy{}, "toy", variants.Training{LR: 0.1, Beta1: 0.9, Beta2: 0.999, AuxSteps: 1})
	batch := func() train.Batch {
		return train.Batch{Inputs: []*tensors.Tensor{
			tensors.FromFlatDataAndDimensions(make([]float32, 2*28*28), 2, 28, 28, 1),
			tensors.FromFlatDataAndDimensions([]int32{0, 1}, 2),
		}}
	}
	value := func(path string) []float32 {
		v := store.GetVariable(path)
		if v == nil {
			t.Fatalf("no variable %s", path)
		}
		return tensors.MustCopyFlatData[float32](v.MustValue())
	}
	near := func(name string, got, want []float32) {
		for i := range want {
			if math.Abs(float64(got[i]-want[i])) > 1e-5 {
				t.Errorf("%s = %v, want %v", name, got, want)
				return
			}
		}
	}
	if _, err := steps.trainStep(0, batch()); err != nil {
		t.Fatal(err)
	}
	near("/model/enc/w", value("/model/enc/w"), []float32{1 - 0.1, -2 + 0.1})
	near("/model/disc/w", value("/model/disc/w"), []float32{3 - 0.01, -4 - 0.01})
	near("/model/disc/frozen", value("/model/disc/frozen"), []float32{5})
	if s := optimizer.GetGlobalStep(store); s != 1 {
		t.Errorf("global step %d after one step, want 1", s)
	}
	for path, want := range map[string]bool{
		"/model/enc/w": true, "/model/disc/w": true, "/model/disc/frozen": false,
		"/model/disc/aux_adam/step": false, "/model/disc/optimizers/learning_rate": false,
	} {
		if v := store.GetVariable(path); v == nil || v.Trainable != want {
			t.Errorf("%s: trainable flag not restored (variable %v, want trainable=%v)", path, v, want)
		}
	}
	if _, err := steps.trainStep(1, batch()); err != nil {
		t.Fatal(err)
	}
	if s := optimizer.GetGlobalStep(store); s != 2 {
		t.Errorf("global step %d after two steps, want 2", s)
	}
}

// TestAuxSteps runs auxToy with a schedule of 3 auxiliary updates per main
// one: the first two steps move only the discriminator, the third moves
// both. With a constant gradient each Adam step moves a variable by exactly
// its learning rate, so after 3 steps enc moved once (0.1) and disc three
// times (0.03); the global step counts every batch.
func TestAuxSteps(t *testing.T) {
	store := model.NewStore()
	steps := newStepper(gobackend.GetBackend(), store, auxToy{}, "toy", variants.Training{LR: 0.1, Beta1: 0.9, Beta2: 0.999, AuxSteps: 3})
	batch := train.Batch{Inputs: []*tensors.Tensor{
		tensors.FromFlatDataAndDimensions(make([]float32, 2*28*28), 2, 28, 28, 1),
		tensors.FromFlatDataAndDimensions([]int32{0, 1}, 2),
	}}
	value := func(path string) []float32 {
		return tensors.MustCopyFlatData[float32](store.GetVariable(path).MustValue())
	}
	for step, wantEnc := range [][]float32{{1, -2}, {1, -2}, {1 - 0.1, -2 + 0.1}} {
		if _, err := steps.trainStep(step, batch); err != nil {
			t.Fatal(err)
		}
		if got := value("/model/enc/w"); math.Abs(float64(got[0]-wantEnc[0])) > 1e-5 || math.Abs(float64(got[1]-wantEnc[1])) > 1e-5 {
			t.Errorf("after step %d: enc = %v, want %v", step+1, got, wantEnc)
		}
		d := 0.01 * float32(step+1)
		if got := value("/model/disc/w"); math.Abs(float64(got[0]-(3-d))) > 1e-5 || math.Abs(float64(got[1]-(-4-d))) > 1e-5 {
			t.Errorf("after step %d: disc = %v, want [%v %v]", step+1, got, 3-d, -4-d)
		}
		if s := optimizer.GetGlobalStep(store); s != int64(step+1) {
			t.Errorf("global step %d after %d steps", s, step+1)
		}
	}
}

// slopeToy's only term is 1e-4·w, so Adam sees the constant gradient
// g = 1e-4 and moves w by lr·g/(|g| + ε) each step: lr/2 with ε = 1e-4,
// ≈ lr with GoMLX's default ε = 1e-7.
type slopeToy struct{}

func (slopeToy) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	w := scope.VariableWithValue("w", float32(0)).NodeValue(b.X.Graph())
	return vae.Loss{Terms: []vae.Term{{Name: "slope", Value: graph.MulScalar(w, 1e-4), Weight: 1}}}
}

func (slopeToy) Generate(_ *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	return graph.Zeros(g, shapes.Make(dtypes.Float32, n, 28, 28, 1))
}

// TestAdamEpsilonAndSchedule checks the Training's ε and learning-rate
// schedule against Adam's closed form on slopeToy, over 10 steps of 2 per
// epoch: stages 0 (epoch 0), 1 (epochs 1–3) and 2 (epoch 4) of burda2016.
func TestAdamEpsilonAndSchedule(t *testing.T) {
	for _, c := range []struct {
		schedule string
		eps      float64
	}{{"", 0}, {"constant", 1e-4}, {"burda2016", 1e-4}, {"burda2016", 0}} {
		store := model.NewStore()
		tr := variants.Training{LR: 0.1, Beta1: 0.9, Beta2: 0.999, Epsilon: c.eps, LRSchedule: c.schedule, AuxSteps: 1}
		steps := newStepper(gobackend.GetBackend(), store, slopeToy{}, "toy", tr)
		steps.setEpochLength(2)
		want, lr := 0.0, 0.0
		for i := range 10 {
			out, err := steps.trainStep(i, train.Batch{Inputs: []*tensors.Tensor{
				tensors.FromFlatDataAndDimensions(make([]float32, 28*28), 1, 28, 28, 1),
				tensors.FromFlatDataAndDimensions([]int32{0}, 1),
			}})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out {
				_ = o.FinalizeAll()
			}
			lr = tr.LR * variants.LRFactor(c.schedule, i/2)
			eps := c.eps
			if eps == 0 {
				eps = 1e-7
			}
			want -= lr * 1e-4 / (1e-4 + eps)
		}
		got := float64(tensors.ToScalar[float32](store.GetVariable("/model/w").MustValue()))
		if math.Abs(got-want) > 1e-4*math.Abs(want) {
			t.Errorf("schedule %q, ε %g: w = %.6f after 10 steps, want %.6f", c.schedule, c.eps, got, want)
		}
		gotLR := float64(tensors.ToScalar[float32](optimizer.LearningRateVar(store.RootScope(), dtypes.Float32, 0).MustValue()))
		if math.Abs(gotLR-lr) > 1e-6*lr {
			t.Errorf("schedule %q: learning rate %g at step 10, want %g", c.schedule, gotLR, lr)
		}
	}
	if got, want := variants.LRFactor("burda2016", 3279), math.Pow(10, -1); math.Abs(got-want) > 1e-12 {
		t.Errorf("burda2016 factor at the paper's last epoch: %g, want %g (stage 7)", got, want)
	}
	for epoch, stage := range map[int]int{0: 0, 1: 1, 3: 1, 4: 2, 12: 2, 13: 3, 39: 3, 40: 4, 120: 4, 121: 5, 363: 5, 364: 6, 1092: 6, 1093: 7, 3279: 7} {
		if got := variants.Burda2016Stage(epoch); got != stage {
			t.Errorf("Burda2016Stage(%d) = %d, want %d", epoch, got, stage)
		}
	}
}
