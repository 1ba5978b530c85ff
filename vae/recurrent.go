package vae

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/lstm"
	"github.com/gomlx/gomlx/ml/model"
)

// LSTM is a long short-term memory cell (Hochreiter & Schmidhuber 1997) for
// the sequence families. The cell itself is GoMLX's ml/layers/lstm (ONNX
// semantics: input, output, forget and cell gates, one bias per gate for the
// input and one for the recurrent projection, as PyTorch's nn.LSTM); this
// type owns its weights so that the same cell can be run over a whole
// sequence known in advance ([LSTM.Sequence]) or stepped one time step at a
// time ([LSTM.Step]) when the next input depends on the state (a VRNN samples
// z_t from h_{t−1} before it can feed the cell).
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
func (l LSTM) Step(x *graph.Node, s LSTMState) LSTMState {
	b := x.Shape().Dimensions[0]
	_, lastH, lastC := lstm.NewWithWeights(graph.Reshape(x, b, 1, -1), l.inputs, l.recurrent, l.biases, nil).
		InitialStates(graph.Reshape(s.H, 1, b, l.hidden), graph.Reshape(s.C, 1, b, l.hidden)).Done()
	return LSTMState{H: graph.Reshape(lastH, b, l.hidden), C: graph.Reshape(lastC, b, l.hidden)}
}

// Sequence runs the cell over the whole sequence x ([B, T, in]) from state s
// (the zero state when s.H is nil), forward in time or, with reverse, from
// the last step to the first. It returns every step's hidden state, [B, T,
// hidden] (for reverse, the state at step t has seen steps t..T−1), and the
// final state.
func (l LSTM) Sequence(x *graph.Node, s LSTMState, reverse bool) (all *graph.Node, last LSTMState) {
	b := x.Shape().Dimensions[0]
	layer := lstm.NewWithWeights(x, l.inputs, l.recurrent, l.biases, nil)
	if reverse {
		layer.Direction(lstm.DirReverse)
	}
	if s.H != nil {
		layer.InitialStates(graph.Reshape(s.H, 1, b, l.hidden), graph.Reshape(s.C, 1, b, l.hidden))
	}
	seq, lastH, lastC := layer.Done() // [T, 1, B, hidden], [1, B, hidden] ×2
	all = graph.TransposeAllAxes(graph.Reshape(seq, -1, b, l.hidden), 1, 0, 2)
	return all, LSTMState{H: graph.Reshape(lastH, b, l.hidden), C: graph.Reshape(lastC, b, l.hidden)}
}
