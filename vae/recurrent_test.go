package vae

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/lstm"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// stepLayer is LSTM.Step computed by GoMLX's lstm layer on a sequence of
// one step: the reference the cell is checked against.
func (l LSTM) stepLayer(x *graph.Node, s LSTMState) LSTMState {
	b := x.Shape().Dimensions[0]
	_, lastH, lastC := lstm.NewWithWeights(graph.Reshape(x, b, 1, -1), l.inputs, l.recurrent, l.biases, nil).
		InitialStates(graph.Reshape(s.H, 1, b, l.hidden), graph.Reshape(s.C, 1, b, l.hidden)).Done()
	return LSTMState{H: graph.Reshape(lastH, b, l.hidden), C: graph.Reshape(lastC, b, l.hidden)}
}

// layerSequence runs GoMLX's lstm layer over the whole sequence x ([B, T,
// in]) from the zero state: every hidden state, [B, T, hidden].
func (l LSTM) layerSequence(x *graph.Node, reverse bool) *graph.Node {
	b := x.Shape().Dimensions[0]
	layer := lstm.NewWithWeights(x, l.inputs, l.recurrent, l.biases, nil)
	if reverse {
		layer.Direction(lstm.DirReverse)
	}
	seq, _, _ := layer.Done() // [T, 1, B, hidden]
	return graph.TransposeAllAxes(graph.Reshape(seq, -1, b, l.hidden), 1, 0, 2)
}

// lstmSteps runs cell step over T steps of x ([B, T, in]) from the zero
// state and returns every hidden state, [B, T, hidden].
func lstmSteps(l LSTM, x *graph.Node, step func(LSTM, *graph.Node, LSTMState) LSTMState) *graph.Node {
	d := x.Shape().Dimensions
	s := l.Zero(x.Graph(), d[0])
	hs := make([]*graph.Node, d[1])
	for t := range d[1] {
		s = step(l, graph.Reshape(graph.Slice(x, graph.AxisRange(), graph.AxisElem(t)), d[0], d[2]), s)
		hs[t] = s.H
	}
	return graph.Stack(hs, 1)
}

func randomInput(seed uint64, dims ...int) *tensors.Tensor {
	r := rand.New(rand.NewPCG(seed, 3))
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

// TestLSTMStepMatchesLayer: the cell, GoMLX's lstm layer stepped one step
// at a time and the layer over the whole sequence give the same states on
// the same weights, forward and in reverse, and so do their gradients with
// respect to the input.
func TestLSTMStepMatchesLayer(t *testing.T) {
	const b, steps, in, hidden = 3, 5, 4, 6
	x := randomInput(1, b, steps, in)
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(1); err != nil {
		t.Fatal(err)
	}
	outs, err := model.CallOnceN(gobackend.GetBackend(), store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
		l := NewLSTM(scope.At("lstm"), x.Graph(), in, hidden, InitPyTorch)
		fused := lstmSteps(l, x, LSTM.stepFused)
		layer := lstmSteps(l, x, LSTM.stepLayer)
		whole := l.layerSequence(x, false)
		var xs []*graph.Node
		for t := range steps {
			xs = append(xs, graph.Reshape(graph.Slice(x, graph.AxisRange(), graph.AxisElem(t)), b, in))
		}
		back, _ := l.Run(xs, LSTMState{}, true)
		backLayer := l.layerSequence(x, true)
		grads := graph.Gradient(graph.ReduceAllSum(graph.Mul(fused, fused)), x)
		gradsLayer := graph.Gradient(graph.ReduceAllSum(graph.Mul(layer, layer)), x)
		return []*graph.Node{fused, layer, whole, grads[0], gradsLayer[0], graph.Stack(back, 1), backLayer}
	}, x)
	if err != nil {
		t.Fatal(err)
	}
	vals := make([][]float32, len(outs))
	for i, o := range outs {
		vals[i] = tensors.MustCopyFlatData[float32](o)
	}
	for _, c := range []struct {
		name string
		a, b []float32
	}{{"fused vs layer step", vals[0], vals[1]}, {"fused vs layer sequence", vals[0], vals[2]}, {"input gradients", vals[3], vals[4]},
		{"reverse run vs reverse layer", vals[5], vals[6]}} {
		nonzero := false
		for i := range c.a {
			if d := c.a[i] - c.b[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s: value %d differs: %g vs %g", c.name, i, c.a[i], c.b[i])
			}
			nonzero = nonzero || c.a[i] != 0
		}
		if !nonzero {
			t.Fatalf("%s: all zero", c.name)
		}
	}
}

// BenchmarkLSTMSteps times a training step (forward, backward, Adam) of an
// LSTM stepped over 10 steps at batch 32, 256 inputs and 128 units — the
// VRNN's recurrence on the 1-digit Moving MNIST — with the fused step and
// with GoMLX's lstm layer run one step at a time:
//
//	go test ./vae -run '^$' -bench LSTMSteps -benchtime 50x -count 3
func BenchmarkLSTMSteps(b *testing.B) {
	const batch, steps, in, hidden = 32, 10, 256, 128
	for _, v := range []struct {
		name string
		step func(LSTM, *graph.Node, LSTMState) LSTMState
	}{{"fused", LSTM.stepFused}, {"layer", LSTM.stepLayer}} {
		b.Run(v.name, func(b *testing.B) {
			store := model.NewStore()
			if err := store.SetRNGStateFromSeed(1); err != nil {
				b.Fatal(err)
			}
			trainer := train.NewTrainer(gobackend.GetBackend(), store, func(scope *model.Scope, inputs []*graph.Node) []*graph.Node {
				l := NewLSTM(scope.At("lstm"), inputs[0].Graph(), in, hidden, InitPyTorch)
				loss := graph.ReduceAllMean(graph.Square(lstmSteps(l, inputs[0], v.step)))
				train.AddMainLoss(loss)
				return []*graph.Node{loss}
			}, nil, optimizer.Adam().LearningRate(1e-3).Done(), nil, nil)
			x := randomInput(2, batch, steps, in)
			step := func() {
				if _, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}}); err != nil {
					b.Fatal(err)
				}
			}
			step()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				step()
			}
			reportCPU(b, cpu)
		})
	}
}
