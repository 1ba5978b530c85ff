package iwae

// Activation is a hidden layer's nonlinearity.
type Activation int

const (
	// Identity leaves the layer linear (the decoder's output logits).
	Identity Activation = iota
	// Tanh is the hyperbolic tangent.
	Tanh
	// Relu is max(x, 0).
	Relu
)

// Layer is one dense layer of the decoder, y = act(W·x + b).
type Layer struct {
	// In and Out are the input and output widths.
	In, Out int
	// Weights are output-major, [Out, In] (GoMLX's DenseLayoutOutputsInput,
	// as vae.Dense stores them).
	Weights []float32
	// Biases are [Out].
	Biases []float32
	// Act is applied to the output; the last layer's must be Identity (logits).
	Act Activation
}
