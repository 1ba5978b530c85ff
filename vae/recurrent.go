package vae

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// LSTM is a long short-term memory cell (Hochreiter & Schmidhuber 1997) for
// the sequence families, stepped one time step at a time: the next input of
// a VRNN depends on the state (it samples z_t from h_{t−1} before it can feed
// the cell), and stepping keeps every graph linear in the number of steps.
//
// The cell computes what GoMLX's ml/layers/lstm computes (ONNX semantics:
// input, output, forget and cell gates, one bias per gate for the input and
// one for the recurrent projection, as PyTorch's nn.LSTM), with that layer's
// weight layout, and TestLSTMStepMatchesLayer checks it against the layer.
// It does not call the layer because the layer slices its input projection
// [4, B, T, hidden] once per gate and step, and the gradient of every slice
// is a Pad back to the whole projection: a training step costs O(T²) — a
// seq-vae step on the 128-step regimes series took 4.95 s of CPU with it
// (BenchmarkTrainStep/seq-vae/mlp/regimes) — and stepping the layer one step
// at a time (sequences of length 1) cost 1.45× this cell (BenchmarkLSTMSteps).
//
// Weights live under the scope given to [NewLSTM]: "inputs" [1, 4, hidden,
// in], "recurrent" [1, 4, hidden, hidden], "biases" [1, 8, hidden],
// initialized as PyTorch's nn.LSTM (U(±1/√hidden)) with [InitPyTorch], or
// He-normal with zero biases with [InitHe].
type LSTM struct {
	inputs, recurrent, biases *graph.Node
	hidden                    int
}

// LSTMState is a cell's hidden state H and cell state C, each [B, hidden].
type LSTMState struct {
	H, C *graph.Node
}

// NewLSTM creates (or reuses) the weights of a cell with in input features
// and hidden units under scope, as nodes of g.
func NewLSTM(scope *model.Scope, g *graph.Graph, in, hidden int, init Init) LSTM {
	dtype := dtypes.Float32
	// nn.LSTM draws every weight and bias from U(±1/√hidden): the fan-in its
	// initializer uses is the hidden size, for the input weights too.
	fanIn := hidden
	if init == InitHe {
		fanIn = in
	}
	wInit, bInit := initializers(scope, init, fanIn)
	inputs := scope.WithInitializer(wInit).VariableWithShape("inputs", shapes.Make(dtype, 1, 4, hidden, in)).NodeValue(g)
	rInit, _ := initializers(scope, init, hidden)
	recurrent := scope.WithInitializer(rInit).VariableWithShape("recurrent", shapes.Make(dtype, 1, 4, hidden, hidden)).NodeValue(g)
	biases := scope.WithInitializer(bInit).VariableWithShape("biases", shapes.Make(dtype, 1, 8, hidden)).NodeValue(g)
	return LSTM{inputs: inputs, recurrent: recurrent, biases: biases, hidden: hidden}
}

// Hidden is the cell's number of units.
func (l LSTM) Hidden() int { return l.hidden }

// Zero is the all-zero state for a batch of n, the usual initial state.
func (l LSTM) Zero(g *graph.Graph, n int) LSTMState {
	z := graph.Zeros(g, shapes.Make(dtypes.Float32, n, l.hidden))
	return LSTMState{H: z, C: z}
}

// Step runs the cell on one input x ([B, in]) from state s and returns the new state.
func (l LSTM) Step(x *graph.Node, s LSTMState) LSTMState { return l.stepFused(x, s) }

// Run steps the cell over the inputs xs (one [B, in] node per time step)
// from state s (nil H: the zero state), forward in time or, with reverse,
// from the last input to the first. It returns the hidden state after each
// input, hs[t] for xs[t] (for reverse, hs[t] has read xs[t..T−1]), and the
// final state.
func (l LSTM) Run(xs []*graph.Node, s LSTMState, reverse bool) (hs []*graph.Node, last LSTMState) {
	if s.H == nil {
		s = l.Zero(xs[0].Graph(), xs[0].Shape().Dimensions[0])
	}
	hs = make([]*graph.Node, len(xs))
	for i := range xs {
		t := i
		if reverse {
			t = len(xs) - 1 - i
		}
		s = l.Step(xs[t], s)
		hs[t] = s.H
	}
	return hs, s
}

// stepFused is Step with the four gates' projections fused: x and h are
// each multiplied once by their weights reshaped to [4·hidden, ·] (the
// variables' own layout: no transpose, no concatenation whose gradient
// would slice a weight-sized tensor at every step), one summed bias, then
// the gates are slices of the result, in ONNX order (i, o, f, c) as the
// lstm layer computes them.
func (l LSTM) stepFused(x *graph.Node, s LSTMState) LSTMState {
	b, h := x.Shape().Dimensions[0], l.hidden
	in := l.inputs.Shape().Dimensions[3]
	wx, wh := graph.Reshape(l.inputs, 4*h, in), graph.Reshape(l.recurrent, 4*h, h)
	bias := graph.ReduceSum(graph.Reshape(l.biases, 2, 4*h), 0)
	pre := graph.Add(graph.DotGeneral(x, []int{1}, nil, wx, []int{1}, nil), graph.DotGeneral(s.H, []int{1}, nil, wh, []int{1}, nil))
	pre = graph.Reshape(graph.Add(pre, graph.InsertAxes(bias, 0)), b, 4, h)
	gate := func(k int) *graph.Node {
		return graph.Reshape(graph.Slice(pre, graph.AxisRange(), graph.AxisElem(k)), b, h)
	}
	i, o, f, c := graph.Logistic(gate(0)), graph.Logistic(gate(1)), graph.Logistic(gate(2)), graph.Tanh(gate(3))
	cell := graph.Add(graph.Mul(f, s.C), graph.Mul(i, c))
	return LSTMState{H: graph.Mul(o, graph.Tanh(cell)), C: cell}
}
