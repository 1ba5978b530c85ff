package eval

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/ml/train/optimizer/cosineschedule"
	"gonum.org/v1/gonum/mat"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/vae"
)

// ClassifierVersion names the LeNet-style classifier's architecture,
// preprocessing and training recipe. Metrics computed on its features carry
// it in their own versions; change it whenever any of those changes, so a
// cached checkpoint of another recipe is rebuilt and old figures stay
// distinguishable from new ones.
const ClassifierVersion = "lenet/v1"

// FeatureDim is the width of the classifier's penultimate layer, the
// features FID-LeNet and precision/recall are computed on.
const FeatureDim = 128

// NumClasses is the number of classes the classifier tells apart (MNIST digits).
const NumClasses = 10

// lenetScope is where the classifier's variables live in its Store.
const lenetScope = "lenet"

// TrainConfig is the classifier's training recipe. The zero value means
// DefaultTrainConfig; a cached checkpoint is used only if it was trained with
// exactly the requested recipe.
type TrainConfig struct {
	// Epochs over MNIST's 60000 training images.
	Epochs int `json:"epochs"`
	// Steps, when positive, caps training at this many steps (tests use a
	// few; the default recipe trains Epochs full epochs).
	Steps int `json:"steps"`
	// BatchSize of each Adam step.
	BatchSize int `json:"batch_size"`
	// LearningRate of Adam.
	LearningRate float64 `json:"learning_rate"`
	// Seed fixes initialization and the order of examples.
	Seed int64 `json:"seed"`
}

// DefaultTrainConfig is the recipe of the classifier every figure is computed with.
var DefaultTrainConfig = TrainConfig{Epochs: 6, BatchSize: 128, LearningRate: 1e-3, Seed: 1}

func (c TrainConfig) orDefault() TrainConfig {
	if c == (TrainConfig{}) {
		return DefaultTrainConfig
	}
	return c
}

func (c TrainConfig) validate() error {
	if c.Epochs < 1 || c.BatchSize < 1 || c.LearningRate <= 0 || c.Steps < 0 {
		return fmt.Errorf("classifier training recipe %+v: epochs and batch size must be at least 1 and the learning rate positive", c)
	}
	return nil
}

// lenet is the classifier's network, a LeNet in spirit built from vaexp's fast
// gather-based convolutions (vae.Conv2D: odd kernels, whose gradients are
// right on GoMLX's Go backend). Strided 5×5 convolutions replace LeNet's
// pooling: 28×28×1 → 14×14×32 → 7×7×64 → 128 (ReLU; the features) → 10
// logits. Input: images [B, 28, 28, 1] in [0, 1].
func lenet(scope *model.Scope, x *graph.Node) (features, logits *graph.Node) {
	h := activation.Relu(vae.Conv2D(scope.At("conv_0"), x, 32, 5, 2, vae.InitPyTorch))
	h = activation.Relu(vae.Conv2D(scope.At("conv_1"), h, 64, 5, 2, vae.InitPyTorch))
	features = vae.DenseAct(scope.At("dense_0"), vae.Flatten(h), FeatureDim, vae.InitPyTorch, activation.TypeRelu)
	return features, vae.Dense(scope.At("dense_1"), features, NumClasses, vae.InitPyTorch)
}

// imageSide is the side of the images the classifier reads.
const imageSide = 28

// outputBatch is how many images one call of the inference graph takes.
const outputBatch = 500

// Classifier is the trained LeNet-style MNIST classifier behind FID-LeNet and
// the MNIST Inception Score. It is safe for concurrent use.
type Classifier struct {
	backend compute.Backend
	store   *model.Store
	info    checkpointInfo

	mu   sync.Mutex
	exec *model.Exec // Compiled once: the weights never change.
}

// Version is ClassifierVersion plus a short checksum of the weights
// ("lenet/v1@3f2a9c1e"): two classifiers with one Version give the same
// features, up to the CPU's floating-point kernels.
func (c *Classifier) Version() string { return c.info.Version + "@" + c.info.Sum[:8] }

// TestAccuracy is the classifier's accuracy on MNIST's 10000 test images,
// measured when it was trained.
func (c *Classifier) TestAccuracy() float64 { return c.info.TestAccuracy }

// Outputs returns the penultimate features [n, FeatureDim] and the class
// probabilities [n, NumClasses] of images (each 28·28 grey levels in [0, 1],
// row-major, as Trained.Generate returns them).
func (c *Classifier) Outputs(images [][]float32) (features, probs *mat.Dense, err error) {
	const dim = imageSide * imageSide
	n := len(images)
	if n == 0 {
		return nil, nil, errors.New("classifier outputs: no images")
	}
	for i, im := range images {
		if len(im) != dim {
			return nil, nil, fmt.Errorf("classifier outputs: image %d has %d values; the classifier reads 28×28 grey-level images (784 values)", i, len(im))
		}
	}
	features, probs = mat.NewDense(n, FeatureDim, nil), mat.NewDense(n, NumClasses, nil)
	c.mu.Lock()
	defer c.mu.Unlock()
	err = catch(func() error {
		if c.exec == nil {
			exec, err := model.NewExec(c.backend, c.store, func(scope *model.Scope, x *graph.Node) (*graph.Node, *graph.Node) {
				scope.SetTraining(x.Graph(), false)
				f, logits := lenet(scope.At(lenetScope), x)
				return f, graph.Softmax(logits, -1)
			})
			if err != nil {
				return err
			}
			c.exec = exec
		}
		buf := make([]float32, outputBatch*dim)
		for start := 0; start < n; start += outputBatch {
			valid := min(outputBatch, n-start)
			for i := range outputBatch {
				copy(buf[i*dim:(i+1)*dim], images[start+i%valid]) // pad by repeating
			}
			outs, err := c.exec.Call(tensors.FromFlatDataAndDimensions(buf, outputBatch, imageSide, imageSide, 1))
			if err != nil {
				return err
			}
			copyRows(features, start, valid, tensors.MustCopyFlatData[float32](outs[0]))
			copyRows(probs, start, valid, tensors.MustCopyFlatData[float32](outs[1]))
			for _, o := range outs {
				_ = o.FinalizeAll()
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("classifier %s outputs: %w", c.Version(), err)
	}
	return features, probs, nil
}

// copyRows copies rows [start, start+n) of dst from flat (row-major, dst's width).
func copyRows(dst *mat.Dense, start, n int, flat []float32) {
	_, w := dst.Dims()
	for i := range n {
		row := dst.RawRowView(start + i)
		for j := range w {
			row[j] = float64(flat[i*w+j])
		}
	}
}

// Accuracy is the fraction of rows of probs whose most probable class is the label.
func Accuracy(probs *mat.Dense, labels []int) float64 {
	n, _ := probs.Dims()
	if n == 0 || n != len(labels) {
		return math.NaN()
	}
	right := 0
	for i := range n {
		if argmax(probs.RawRowView(i)) == labels[i] {
			right++
		}
	}
	return float64(right) / float64(n)
}

func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// MNISTImages returns the first n images (n <= 0: all) of MNIST's split
// ("train" or "test") as grey levels in [0, 1], with their labels.
func MNISTImages(split string, n int) ([][]float32, []int, error) {
	im, err := data.LoadMNIST("", split)
	if err != nil {
		return nil, nil, err
	}
	if n > 0 {
		im = im.Head(n)
	}
	d := im.Dim()
	flat := make([]float32, im.N*d)
	idx := make([]int, im.N)
	for i := range idx {
		idx[i] = i
	}
	im.Float32(flat, idx)
	out := make([][]float32, im.N)
	labels := make([]int, im.N)
	for i := range out {
		out[i] = flat[i*d : (i+1)*d : (i+1)*d]
		labels[i] = int(im.Labels[i])
	}
	return out, labels, nil
}

// trainClassifier trains the classifier from scratch with cfg on MNIST's
// training set and measures it on the test set.
func trainClassifier(backend compute.Backend, cfg TrainConfig, progress func(step, steps int)) (*Classifier, error) {
	trainSet, err := data.LoadMNIST("", "train")
	if err != nil {
		return nil, fmt.Errorf("train classifier: %w", err)
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(cfg.Seed); err != nil {
		return nil, err
	}
	stepsPerEpoch := trainSet.N / cfg.BatchSize
	steps := cfg.Epochs * stepsPerEpoch
	if cfg.Steps > 0 {
		steps = min(steps, cfg.Steps)
	}
	err = catch(func() error {
		trainer := train.NewTrainer(backend, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			// One cosine decay of the learning rate to 0 over the run: worth
			// ~0.3 points of test accuracy over a constant rate at this budget.
			cosineschedule.New(scope, x.Graph(), x.DType()).LearningRate(cfg.LearningRate).PeriodSteps(steps).MinLearningRate(0).Done()
			_, logits := lenet(scope.At(lenetScope), x)
			return logits
		}, loss.SparseCategoricalCrossEntropyLogits, optimizer.Adam().LearningRate(cfg.LearningRate).Done(), nil, nil)
		d := trainSet.Dim()
		x := make([]float32, cfg.BatchSize*d)
		var perm []int
		for step := range steps {
			epoch, k := step/stepsPerEpoch, step%stepsPerEpoch
			if k == 0 {
				perm = data.Permutation(trainSet.N, cfg.Seed, epoch)
			}
			idx := perm[k*cfg.BatchSize : (k+1)*cfg.BatchSize]
			trainSet.Float32(x, idx)
			y := make([]int32, len(idx))
			for i, j := range idx {
				y[i] = int32(trainSet.Labels[j])
			}
			if _, err := trainer.TrainStep(train.Batch{
				Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(x, len(idx), imageSide, imageSide, 1)},
				Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(y, len(idx), 1)},
			}); err != nil {
				return err
			}
			if progress != nil {
				progress(step+1, steps)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("train classifier: %w", err)
	}
	c := &Classifier{backend: backend, store: store, info: checkpointInfo{Version: ClassifierVersion, Config: cfg, Steps: steps}}
	// Keep only the network's variables (not Adam's state) for the checkpoint.
	for v := range store.IterVariables() {
		if !underScope(v.Path(), "/"+lenetScope) {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return nil, err
		}
		c.info.Tensors = append(c.info.Tensors, tensorInfo{Path: v.Path(), Dims: t.Shape().Dimensions})
	}
	testImages, testLabels, err := MNISTImages("test", 0)
	if err != nil {
		return nil, err
	}
	c.info.Sum = "unsaved0"
	_, probs, err := c.Outputs(testImages)
	if err != nil {
		return nil, err
	}
	c.info.TestAccuracy = Accuracy(probs, testLabels)
	return c, nil
}

// underScope reports whether a variable path lies in scope (both absolute).
func underScope(path, scope string) bool {
	return len(path) > len(scope) && path[:len(scope)] == scope && path[len(scope)] == '/'
}

// catch turns a GoMLX panic (graph building, execution) into an error.
func catch(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = e
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	return fn()
}
