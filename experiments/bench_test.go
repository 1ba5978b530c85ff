package experiments

import (
	"context"
	"fmt"
	"math"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/experiments/simd"
	"github.com/vaexp/vaexp/variants"
)

// TestMain prints which SIMD kernels the backend uses ("simd: avx512") above
// benchmark results, beside go test's "cpu:" line.
func TestMain(m *testing.M) { os.Exit(simd.TestMain(m)) }

// dataSet is a benchmark's training batches.
type dataSet struct {
	name  string
	batch int
	set   *exampleSet
}

// BenchmarkTrainStep times one training step (forward, backward, Adam) of
// every registered family, per architecture it declares, on each real data
// set it accepts of: batch 128 of MNIST (the image families, named
// family/arch, or family alone for one fixed architecture as dcgan's);
// batch 32 of the 1-digit Moving MNIST (10 frames of 32×32) and of regimes
// (128 steps of one value) with arch=mlp, and of Moving MNIST (20 frames of
// 64×64, 2 digits) with arch=conv (the sequence families, named
// family/arch/data):
//
//	go test -run xxx -bench 'TrainStep' ./experiments/
//	go test -run xxx -bench 'TrainStep/vrnn' ./experiments/
//
// The first (compiling) step runs before the timer starts.
func BenchmarkTrainStep(b *testing.B) {
	loaded := map[string]*dataSet{}
	load := func(name string, batch int) *dataSet {
		if d, ok := loaded[name]; ok {
			return d
		}
		ds, err := data.Get(name)
		if err != nil {
			b.Fatal(err)
		}
		splits, err := ds.Load(data.LoadOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		d := &dataSet{name: name, batch: batch, set: &exampleSet{split: data.Head(splits.Train, batch*8), binarize: "none", seed: 1, shape: ds.Describe().Shape}}
		loaded[name] = d
		return d
	}
	// Data sets per architecture: a family is benchmarked on each it accepts.
	candidates := map[string][]struct {
		name  string
		batch int
	}{
		"mlp":  {{"mnist", 128}, {"moving-mnist-1", 32}, {"regimes", 32}},
		"conv": {{"mnist", 128}, {"moving-mnist", 32}},
	}
	for _, f := range variants.All() {
		archs := f.Architectures()
		if archs == nil {
			archs = []string{""} // one fixed architecture, benchmarked on MNIST
		}
		for _, arch := range archs {
			sets := candidates[arch]
			if arch == "" {
				sets = candidates["mlp"][:1]
			}
			for _, c := range sets {
				spec := DefaultSpec()
				spec.Family = f.Name
				name := f.Name
				if arch != "" {
					spec.Params = map[string]any{"arch": arch}
					name += "/" + arch
				}
				spec.Data.Name = c.name
				spec.Train.BatchSize = c.batch
				cfg, err := spec.Validate()
				if err != nil {
					continue // the family takes other data
				}
				if c.name != "mnist" {
					name += "/" + c.name
				}
				benchTrainStep(b, name, spec, cfg, func() *dataSet { return load(c.name, c.batch) })
			}
		}
	}
}

// benchTrainStep times training steps of spec's family on the first 8
// batches of the data set load returns (loaded only if the benchmark runs).
func benchTrainStep(b *testing.B, name string, spec Spec, cfg variants.Config, load func() *dataSet) {
	b.Run(name, func(b *testing.B) {
		d := load()
		desc, _ := spec.Dataset()
		store := model.NewStore()
		_ = store.SetRNGStateFromSeed(1)
		steps := newStepper(gobackend.GetBackend(), store, cfg.Build(spec.DataInfo(desc)), spec.Family, spec.Training(cfg))
		sched, _ := newSchedule(d.set.len(), d.batch, 1)
		step := func(i int) {
			idx, _ := sched.indices(i)
			metrics, err := steps.trainStep(i, d.set.batch(idx, "b", i))
			if err != nil {
				b.Fatal(err)
			}
			for _, m := range metrics {
				_ = m.FinalizeAll()
			}
		}
		step(0)
		b.ResetTimer()
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			step(i + 1)
		}
		// CPU time is steadier than wall time on a shared machine.
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	})
}

// BenchmarkEpoch times one full epoch of the reference VAE on the 60k MNIST
// training set (468 steps of 128) through Run, the way users train, with the
// tracker recording every step ("tracked") or almost nothing ("log_every=468"):
// the ratio of the two is the tracker's share of training time.
//
//	go test -run xxx -bench Epoch -benchtime 3x ./experiments/
func BenchmarkEpoch(b *testing.B) {
	for _, logEvery := range []int{1, 468} {
		name := "tracked"
		if logEvery > 1 {
			name = fmt.Sprintf("log_every=%d", logEvery)
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				spec := DefaultSpec()
				spec.Train.Epochs = 1
				spec.Train.LogEvery = logEvery
				spec.Data.TestLimit = 500
				spec.Eval.Samples = 0
				res, err := Run(context.Background(), spec, Options{DB: openDB(b), OutDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				if math.IsNaN(res.Metrics["test/nelbo"]) {
					b.Fatal("NaN")
				}
				b.ReportMetric(float64(res.MedianStep.Microseconds())/1000, "ms/median-step")
				b.ReportMetric(res.TrainTime.Seconds(), "s/train-loop")
			}
		})
	}
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
