package vae

import (
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

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
			for range b.N {
				step()
			}
		})
	}
}
