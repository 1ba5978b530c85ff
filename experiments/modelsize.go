package experiments

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
	"github.com/vaexp/vaexp/variants"
)

// bytesPerParam is what training keeps per trainable float32 parameter: its
// value, its gradient and Adam's two moments.
const bytesPerParam = 4 * 4

// countParams builds the family's loss graph for a batch of batchSize (as
// training will: some estimators need several examples), without
// running it or initializing a variable, and returns the number of trainable
// parameters it creates. GoMLX variables are shaped when a graph first uses
// them and filled only when a graph runs, so this allocates no weights.
func countParams(backend compute.Backend, m vae.Model, d vae.Data, batchSize int) (n int64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("building the model's graph: %v", p)
		}
	}()
	store := model.NewStore()
	g := graph.NewGraph(backend, "count-params")
	defer g.Finalize()
	x := graph.Parameter(g, "x", shapes.Make(dtypes.Float32, d.Shape.BatchDims(batchSize)...))
	y := graph.Parameter(g, "labels", shapes.Make(dtypes.Int32, batchSize))
	scope := store.RootScope().At(modelScope)
	scope.SetTraining(g, true)
	m.Loss(scope, vae.Batch{X: x, Labels: y})
	for v := range store.IterVariables() {
		if v.Trainable && v.Shape().DType.IsFloat() { // not the random-number state
			n += int64(v.Shape().Size())
		}
	}
	return n, nil
}

// checkModelSize returns the model's number of trainable parameters, and
// refuses, before a run is recorded, a model whose training state would not
// fit in half of this machine's memory: a latent_dim or a hidden width typed
// with a few zeros too many would otherwise crash the process while it
// allocates.
func checkModelSize(backend compute.Backend, cfg variants.Config, spec Spec, d vae.Data) (int64, error) {
	family := spec.Family
	n, err := countParams(backend, cfg.Build(d), d, spec.Train.BatchSize)
	if err != nil {
		return 0, err
	}
	mem := physicalMemory()
	if need := uint64(n) * bytesPerParam; need > mem/2 {
		return n, specErrorf("model %s has %s parameters: training them needs about %s (weights, gradients, Adam's moments), more than half of this machine's %s; make latent_dim or the widths smaller (see `vaexp models %s`)",
			family, humanCount(n), humanBytes(need), humanBytes(mem), family)
	}
	return n, nil
}

// physicalMemory returns the machine's memory in bytes, from /proc/meminfo
// (16 GiB where that cannot be read).
func physicalMemory() uint64 {
	const fallback = 16 << 30
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return fallback
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			if kb, err := strconv.ParseUint(f[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return fallback
}

// humanCount formats n as 652,824, 1.2 million, 3.4 billion, ...
func humanCount(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f billion", float64(n)/1e9)
	case n >= 1e7:
		return fmt.Sprintf("%.1f million", float64(n)/1e6)
	}
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// humanBytes formats b in GiB or TiB.
func humanBytes(b uint64) string {
	if b >= 1<<40 {
		return fmt.Sprintf("%.1f TiB", float64(b)/(1<<40))
	}
	return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
}
