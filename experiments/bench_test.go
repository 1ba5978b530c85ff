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

// BenchmarkTrainStep times one training step (forward, backward, Adam) of
// every registered family at batch 128 on real MNIST, per architecture it
// declares (BenchmarkTrainStep/vae/conv; BenchmarkTrainStep/dcgan for a
// family with one fixed architecture):
//
//	go test -run xxx -bench 'TrainStep' ./experiments/
//
// The first (compiling) step runs before the timer starts.
func BenchmarkTrainStep(b *testing.B) {
	im, err := data.LoadMNIST("", "train")
	if err != nil {
		b.Fatal(err)
	}
	desc := data.MNIST{}.Describe()
	set := &exampleSet{split: data.Head(im, 128*8), binarize: "none", seed: 1, shape: desc.Shape}
	for _, f := range variants.All() {
		family := f.Name
		archs := f.Architectures()
		if archs == nil {
			archs = []string{""} // one fixed architecture: BenchmarkTrainStep/<family>
		}
		for _, arch := range archs {
			spec := DefaultSpec()
			spec.Family = family
			name := family
			if arch != "" {
				spec.Params = map[string]any{"arch": arch}
				name += "/" + arch
			}
			cfg, err := spec.Validate()
			if err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			b.Run(name, func(b *testing.B) {
				store := model.NewStore()
				_ = store.SetRNGStateFromSeed(1)
				steps := newStepper(gobackend.GetBackend(), store, cfg.Build(spec.DataInfo(desc)), family, spec.Training(cfg))
				sched, _ := newSchedule(set.len(), 128, 1)
				step := func(i int) {
					idx, _ := sched.indices(i)
					metrics, err := steps.trainStep(i, set.batch(idx, "b", i))
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
	}
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
