package vae

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/vaexp/vaexp/experiments/simd"
)

// TestMain prints which SIMD kernels the backend uses ("simd: avx512") above
// benchmark results, beside go test's "cpu:" line.
func TestMain(m *testing.M) { os.Exit(simd.TestMain(m)) }

// convBenchVariant is one way of building the small conv VAE's networks.
type convBenchVariant struct {
	name    string
	encoder func(scope *model.Scope, x *graph.Node, out int) *graph.Node
	decoder func(scope *model.Scope, z *graph.Node, h, w, c int) *graph.Node
}

func convBenchVariants() []convBenchVariant {
	var vs []convBenchVariant
	for _, impl := range ConvImpls {
		net := ConvNet{Impl: impl}
		vs = append(vs, convBenchVariant{string(impl), net.Encoder, net.Decoder})
	}
	subpixel := ConvNet{Impl: convSubPixel}
	vs = append(vs, convBenchVariant{"subpixel", subpixel.Encoder, subpixel.Decoder})
	autodiff := ConvNet{Impl: convGatherAutodiff}
	vs = append(vs, convBenchVariant{"gather-autodiff", autodiff.Encoder, autodiff.Decoder})
	// The gather convolutions with the upsample materialized (no sub-pixel
	// decoder), to separate the two gains.
	gather := ConvNet{}
	vs = append(vs, convBenchVariant{"gather-upsampled", gather.Encoder,
		func(scope *model.Scope, z *graph.Node, h, w, c int) *graph.Node {
			init := InitPyTorch
			y := graph.Reshape(activation.Relu(Dense(scope.At("dense"), z, h/4*w/4*64, init)), -1, h/4, w/4, 64)
			y = activation.Relu(Conv2D(scope.At("conv_0"), Upsample2x(y), 32, 3, 1, init))
			return Conv2D(scope.At("conv_1"), Upsample2x(y), c, 3, 1, init)
		}})
	return vs
}

// BenchmarkConvStep times one training step (forward, backward, Adam) of the
// small conv VAE — ConvEncoder (3×3/2 → 32, 3×3/2 → 64, Dense → 2·20),
// reparameterized sample, ConvDecoder (Dense → 7×7×64, nearest 2× + 3×3 → 32,
// nearest 2× + 3×3 → 1), summed BCE + KL, mean over the batch — at batch 128
// on 28×28×1 inputs uniform in [0, 1], through GoMLX's train.Trainer, for each
// convolution formulation. bench/pytorch/conv_vae_step.py times the same
// model in PyTorch. Run with e.g.
//
//	go test ./vae -run '^$' -bench ConvStep -benchtime 5x -count 3
//
// (-count repeats the whole set, so the formulations alternate). The backend
// follows $GOMLX_BACKEND ("go", "go:parallelism=2", ...).
func BenchmarkConvStep(b *testing.B) {
	if !strings.Contains(runtime.Version(), "simd") {
		b.Log("WARNING: built without GOEXPERIMENT=simd: the Go backend runs ~12x slower")
	}
	const batch, latent = 128, 20
	for _, v := range convBenchVariants() {
		if only := os.Getenv("CONV_BENCH_ONLY"); only != "" && !strings.Contains(","+only+",", ","+v.name+",") {
			continue
		}
		b.Run(v.name, func(b *testing.B) {
			_, opts, _ := strings.Cut(os.Getenv(compute.ConfigEnvVar), ":")
			backend, err := gobackend.New(opts)
			if err != nil {
				b.Fatal(err)
			}
			defer backend.Finalize()
			store := model.NewStore()
			if err := store.SetRNGStateFromSeed(1); err != nil {
				b.Fatal(err)
			}
			modelFn := func(scope *model.Scope, inputs []*graph.Node) []*graph.Node {
				x := inputs[0]
				q := GaussianFromParams(v.encoder(scope.At("encoder"), x, 2*latent))
				logits := v.decoder(scope.At("decoder"), q.Sample(scope), 28, 28, 1)
				loss := graph.ReduceAllMean(graph.Sub(KLStdNormal(q), BernoulliLogLik(x, logits)))
				train.AddMainLoss(loss)
				return []*graph.Node{loss}
			}
			trainer := train.NewTrainer(backend, store, modelFn, nil, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
			r := rand.New(rand.NewPCG(1, 2))
			data := make([]float32, batch*28*28)
			for i := range data {
				data[i] = r.Float32()
			}
			step := func() {
				x := tensors.FromFlatDataAndDimensions(data, batch, 28, 28, 1)
				if _, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}}); err != nil {
					b.Fatal(err)
				}
			}
			step() // build + compile
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				step()
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkConvLayer times forward + backward (gradients with respect to
// kernel, bias and, except for the first layer, input) of each convolution
// of the conv VAE at batch 128, per formulation, to show where a step goes.
func BenchmarkConvLayer(b *testing.B) {
	layers := []struct {
		name       string
		in         []int
		cout       int
		stride     int
		upsample   bool
		inputGrads bool
	}{
		{"enc0-28x28x1-s2-32", []int{128, 28, 28, 1}, 32, 2, false, false},
		{"enc1-14x14x32-s2-64", []int{128, 14, 14, 32}, 64, 2, false, true},
		{"dec0-7x7x64-up-32", []int{128, 7, 7, 64}, 32, 1, true, true},
		{"dec1-14x14x32-up-1", []int{128, 14, 14, 32}, 1, 1, true, true},
	}
	for _, l := range layers {
		for _, impl := range []ConvImpl{ConvGather, convSubPixel, convGatherAutodiff, ConvIm2Col, ConvNative} {
			name := l.name + "/" + string(impl)
			if only := os.Getenv("CONV_BENCH_ONLY"); only != "" && !strings.Contains(","+only+",", ","+string(impl)+",") {
				continue
			}
			b.Run(name, func(b *testing.B) {
				_, opts, _ := strings.Cut(os.Getenv(compute.ConfigEnvVar), ":")
				backend, err := gobackend.New(opts)
				if err != nil {
					b.Fatal(err)
				}
				defer backend.Finalize()
				cin := l.in[3]
				exec, err := graph.NewExec(backend, func(inputs []*graph.Node) []*graph.Node {
					x, w, bias, r := inputs[0], inputs[1], inputs[2], inputs[3]
					var y *graph.Node
					if l.upsample {
						y = upsampleConvApply(x, w, bias, impl)
					} else {
						y = conv2DApply(x, w, bias, l.stride, impl)
					}
					// A weighted sum, so the cotangent is a dense tensor like in training.
					loss := graph.ReduceAllSum(graph.Mul(y, r))
					if l.inputGrads {
						return graph.Gradient(loss, x, w, bias)
					}
					return graph.Gradient(loss, w, bias)
				})
				if err != nil {
					b.Fatal(err)
				}
				defer exec.Finalize()
				rng := rand.New(rand.NewPCG(3, 4))
				fill := func(dims ...int) *tensors.Tensor {
					n := 1
					for _, d := range dims {
						n *= d
					}
					data := make([]float32, n)
					for i := range data {
						data[i] = rng.Float32() - 0.5
					}
					return tensors.FromFlatDataAndDimensions(data, dims...)
				}
				x, w, bias := fill(l.in...), fill(3, 3, cin, l.cout), fill(l.cout)
				ho, wo := (l.in[1]-1)/l.stride+1, (l.in[2]-1)/l.stride+1
				if l.upsample {
					ho, wo = 2*l.in[1], 2*l.in[2]
				}
				r := fill(l.in[0], ho, wo, l.cout)
				run := func() {
					outs, err := exec.Exec(x, w, bias, r)
					if err != nil {
						b.Fatal(err)
					}
					for _, o := range outs {
						o.FinalizeAll()
					}
				}
				run()
				b.ResetTimer()
				cpu := cpuTime()
				for range b.N {
					run()
				}
				reportCPU(b, cpu)
			})
		}
	}
}

// cpuTime is the process's user + system CPU time. On a shared machine it
// varies less than wall time: reported as cpu-ms/op (all cores' work).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, since time.Duration) {
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-since)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
