package experiments

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/variants"
)

func TestAlarmWatch(t *testing.T) {
	w := newAlarmWatch([]variants.Alarm{
		{Name: "d_wins", Term: "d_fake", Below: true, Threshold: 0.1, Steps: 3, Meaning: "D wins"},
		{Name: "blowup", Term: "loss", Threshold: 100, Steps: 1, Meaning: "diverged"},
	})
	steps := []map[string]float64{
		{"d_fake": 0.05, "loss": 1}, {"d_fake": 0.05, "loss": 1}, {"d_fake": 0.5, "loss": 1}, // streak broken
		{"d_fake": 0.05, "loss": 1}, {"d_fake": 0.05, "loss": 1}, {"d_fake": 0.05, "loss": 200},
		{"d_fake": 0.05, "loss": 200},
	}
	var fired []string
	for i, terms := range steps {
		for _, f := range w.observe(i+1, terms) {
			fired = append(fired, f)
		}
	}
	if len(fired) != 2 || !strings.HasPrefix(fired[0], "d_wins at step 6") || !strings.HasPrefix(fired[1], "blowup at step 6") {
		t.Errorf("fired %q; want d_wins and blowup once each, at step 6", fired)
	}
}

func TestMeanPairwiseDistance(t *testing.T) {
	xs := [][]float32{{0, 0}, {3, 4}, {0, 0}}
	// pairs: 5, 0, 5 → mean 10/3
	if got := meanPairwiseDistance(xs); got < 3.3333 || got > 3.3334 {
		t.Errorf("got %v, want 10/3", got)
	}
	if got := meanPairwiseDistance(xs[:1]); got != 0 {
		t.Errorf("one example: %v, want 0", got)
	}
}

// switchToy generates uniform noise images (as diverse as it gets) until
// collapsed is set, then the same all-zero image for every noise.
type switchToy struct {
	auxToy
	collapsed *bool
}

func (m switchToy) Generate(scope *model.Scope, g *graph.Graph, n int, labels *graph.Node) *graph.Node {
	if *m.collapsed {
		return m.auxToy.Generate(scope, g, n, labels)
	}
	return scope.RandomUniform(g, shapes.Make(dtypes.Float32, n, 28, 28, 1))
}

// TestSamplesFlagCollapse draws epoch grids of a model whose samples are
// diverse, then collapse to one image: diversity is recorded at each grid,
// the run is tagged collapsed once, at the fall, and the store's RNG is left
// as it was, so sampling never changes training. A model whose samples were
// never diverse (under-trained, not collapsed) is not tagged.
func TestSamplesFlagCollapse(t *testing.T) {
	db := openDB(t)
	im, err := data.LoadMNIST("", "test")
	if err != nil {
		t.Fatal(err)
	}
	desc := data.MNIST{}.Describe()
	newRunner := func() *runner {
		rec, err := db.StartRun(tracker.RunInfo{Family: "toy"})
		if err != nil {
			t.Fatal(err)
		}
		r := &runner{spec: DefaultSpec(), backend: gobackend.GetBackend(), rec: rec, desc: desc, dir: t.TempDir(),
			train_: &exampleSet{split: data.Head(im, 100), binarize: "none", seed: 1, shape: desc.Shape}}
		r.spec.Eval.Samples = 16
		return r
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	rngState := func() []uint64 {
		return tensors.MustCopyFlatData[uint64](store.GetVariable("/" + model.RNGStateVariableName).MustValue())
	}
	rngBefore := rngState()
	collapsed := false
	r := newRunner()
	for _, step := range []int64{10, 20, 30} {
		collapsed = step >= 20
		if err := r.samples(store, switchToy{collapsed: &collapsed}, step); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.rec.Flush(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rngBefore, rngState()) {
		t.Fatal("sampling changed the RNG state")
	}
	tags, err := db.Tags(r.rec.RunID())
	if err != nil {
		t.Fatal(err)
	}
	if tag := tags[TagCollapse]; !strings.Contains(tag, "step 20") {
		t.Errorf("collapse tag %q, want one naming step 20", tag)
	}
	hist, err := db.MetricHistory(r.rec.RunID(), "samples/diversity")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 3 || hist[0].Value < 2*CollapseDiversity || hist[1].Value != 0 || hist[2].Value != 0 {
		t.Errorf("samples/diversity history %+v, want a high value then two zeros", hist)
	}

	never := newRunner()
	for _, step := range []int64{10, 20} {
		if err := never.samples(store, auxToy{}, step); err != nil {
			t.Fatal(err)
		}
	}
	if tags, _ := db.Tags(never.rec.RunID()); tags[TagCollapse] != "" {
		t.Errorf("a model never diverse was tagged %q", tags[TagCollapse])
	}
}

// TestGenerateFixedKeepsRNG: drawing from a VAE advances the store's RNG
// (so a plain generate would change what training draws next), while
// generateFixed draws the same samples every time and restores the RNG.
func TestGenerateFixedKeepsRNG(t *testing.T) {
	m, _, err := variants.New("vae", map[string]any{"hidden": "32", "latent_dim": 4}, data.MNIST{}.Describe().Model(100))
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	backend := gobackend.GetBackend()
	rngState := func() []uint64 {
		return tensors.MustCopyFlatData[uint64](store.GetVariable("/" + model.RNGStateVariableName).MustValue())
	}
	before := rngState()
	if _, err := generate(backend, store, m, 4, 0); err != nil {
		t.Fatal(err)
	}
	advanced := rngState()
	if slices.Equal(before, advanced) {
		t.Fatal("generate did not advance the RNG: this test would prove nothing")
	}
	a, err := generateFixed(backend, store, m, 4, 0, 99)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rngState(), advanced) {
		t.Error("generateFixed changed the RNG state")
	}
	b, err := generateFixed(backend, store, m, 4, 0, 99)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatalf("sample %d differs between two draws from the same fixed noise", i)
		}
	}
}
