package variants

import (
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/vae"
)

var aeFamily = Family{
	Name:    "ae",
	Summary: "deterministic autoencoder (reconstruction only), sampled from a Gaussian fitted to its training codes",
	Paper: "Hinton & Salakhutdinov 2006, Reducing the Dimensionality of Data with Neural Networks (Science 313); " +
		"sampling from a Gaussian fitted to the codes as in Ghosh et al. 2020, From Variational to Deterministic Autoencoders (arXiv:1903.12436)",
	NewConfig: func() Config { return &AEConfig{Base: defaultBase(), CodeMomentum: 0.99, CodeCov: "full"} },
}

// AEConfig configures the deterministic autoencoder, the baseline against
// which the VAE is compared (Hinton & Salakhutdinov 2006): the same encoder,
// decoder and likelihood as the VAE, but the code z = f(x) is a point, and the
// loss is the reconstruction term "recon" alone (−log p(x | z), nats per
// example, so it compares with the VAE's "recon"). An AE defines no ELBO.
//
// To sample, the AE fits a Gaussian N(μ, Σ) to the codes of the training data
// (the "ex-post density estimation" of Ghosh et al. 2020) and decodes
// z = μ + L·ε, Σ = L·Lᵀ. Unlike Ghosh et al., who fit once after training
// on every code, μ and E[z zᵀ] are exponential moving averages over the
// training batches (non-trainable variables under "code_stats", saved in the
// checkpoint): the fit is always current, costs no extra pass over the data,
// and lags the encoder by about 1/(1 − code_momentum) steps.
type AEConfig struct {
	Base
	CodeMomentum float64 `param:"code_momentum" range:"[0, 1)" help:"momentum of the moving averages of the code mean and second moment (0: last batch only)"`
	CodeCov      string  `param:"code_cov" range:"full|diag" help:"covariance of the Gaussian fitted to the codes, used to sample: full, or its diagonal"`
}

// Validate checks the hyperparameters.
func (c *AEConfig) Validate(d vae.Data) error {
	if err := c.Base.Validate(d); err != nil {
		return err
	}
	if !(c.CodeMomentum >= 0 && c.CodeMomentum < 1) {
		return fmt.Errorf("code_momentum=%g: must be in [0, 1)", c.CodeMomentum)
	}
	if c.CodeCov != "full" && c.CodeCov != "diag" {
		return fmt.Errorf("code_cov=%q: must be full or diag", c.CodeCov)
	}
	return nil
}

// Build constructs the model.
func (c *AEConfig) Build(d vae.Data) vae.Model {
	return &AE{networks: newNetworks(c.Base, d), momentum: c.CodeMomentum, fullCov: c.CodeCov == "full"}
}

// AE is the deterministic autoencoder.
type AE struct {
	networks
	momentum float64
	fullCov  bool
}

// code is the deterministic code f(x), [B, LatentDim].
func (m *AE) code(scope *model.Scope, x *graph.Node) *graph.Node {
	return m.encode(scope, x, nil, m.LatentDim)
}

// Loss is the reconstruction term alone. In training it also updates the
// moving averages of the codes that [AE.Generate] samples from.
func (m *AE) Loss(scope *model.Scope, b vae.Batch) vae.Loss {
	z := m.code(scope, b.X)
	if scope.IsTraining(b.X.Graph()) {
		m.updateCodeStats(scope, z)
	}
	recon := m.reconNLL(scope, b.X, m.decode(scope, z, nil))
	return vae.Loss{Terms: []vae.Term{{Name: "recon", Value: recon, Weight: 1}}}
}

// codeStats returns the moving-average variables: the mean [L], the second
// moment E[z zᵀ] [L, L] and the number of updates (a float32 scalar). They
// start as N(0, I), so an untrained AE samples from the standard normal.
func (m *AE) codeStats(scope *model.Scope) (mean, second, count *model.Variable) {
	s := scope.At("code_stats")
	l := m.LatentDim
	eye := make([][]float32, l)
	for i := range eye {
		eye[i] = make([]float32, l)
		eye[i][i] = 1
	}
	mean = s.VariableWithValue("mean", make([]float32, l)).SetTrainable(false)
	second = s.VariableWithValue("second_moment", eye).SetTrainable(false)
	count = s.VariableWithValue("count", float32(0)).SetTrainable(false)
	return mean, second, count
}

// updateCodeStats folds the batch's codes into the moving averages. As in
// GoMLX's batch normalization, the momentum is min(code_momentum, 1 − 1/n)
// after n updates, so the first updates are exact running means instead of
// being biased toward the N(0, I) start.
func (m *AE) updateCodeStats(scope *model.Scope, z *graph.Node) {
	g := z.Graph()
	meanVar, secondVar, countVar := m.codeStats(scope)
	z = graph.StopGradient(z)
	batch := float64(z.Shape().Dimensions[0])
	batchMean := graph.ReduceMean(z, 0)
	batchSecond := graph.DivScalar(graph.MatMul(graph.Transpose(z, 0, 1), z), batch)

	count := graph.AddScalar(countVar.NodeValue(g), 1)
	countVar.SetNodeValue(count)
	mom := graph.Min(graph.Scalar(g, z.DType(), m.momentum), graph.OneMinus(graph.Reciprocal(count)))
	blend := func(old, batch *graph.Node) *graph.Node {
		return graph.Add(graph.Mul(mom, old), graph.Mul(graph.OneMinus(mom), batch))
	}
	meanVar.SetNodeValue(blend(meanVar.NodeValue(g), batchMean))
	secondVar.SetNodeValue(blend(secondVar.NodeValue(g), batchSecond))
}

// CodeGaussian returns the Gaussian fitted to the training codes: its mean μ
// ([LatentDim]) and a lower-triangular scale L ([LatentDim, LatentDim]) with
// L·Lᵀ = Σ = E[z zᵀ] − μμᵀ (plus a jitter of 1e-5 of the mean variance, which
// keeps the Cholesky factorization defined when codes are collinear). With
// code_cov=diag, L is the diagonal of standard deviations.
func (m *AE) CodeGaussian(scope *model.Scope, g *graph.Graph) (mean, scale *graph.Node) {
	meanVar, secondVar, _ := m.codeStats(scope)
	mean = meanVar.NodeValue(g)
	l := m.LatentDim
	cov := graph.Sub(secondVar.NodeValue(g), graph.Mul(graph.InsertAxes(mean, 1), graph.InsertAxes(mean, 0)))
	cov = graph.MulScalar(graph.Add(cov, graph.Transpose(cov, 0, 1)), 0.5)
	eye := graph.ConvertDType(graph.Diagonal(g, l), cov.DType())
	variances := graph.ReduceSum(graph.Mul(cov, eye), 1)
	if !m.fullCov {
		return mean, graph.Mul(eye, graph.InsertAxes(graph.Sqrt(graph.MaxScalar(variances, 0)), 0))
	}
	jitter := graph.AddScalar(graph.MulScalar(graph.ReduceAllMean(variances), 1e-5), 1e-12)
	return mean, cholesky(graph.Add(cov, graph.Mul(eye, jitter)))
}

// cholesky returns the lower-triangular L with L·Lᵀ = a for a symmetric
// positive-definite [n, n] matrix, column by column (the Cholesky–Banachiewicz
// recurrence, unrolled: GoMLX has no factorization op). Pivots are clamped at
// 1e-12 so a semi-definite input gives a finite factor.
func cholesky(a *graph.Node) *graph.Node {
	g := a.Graph()
	n := a.Shape().Dimensions[0]
	dtype := a.DType()
	rowIdx := graph.Iota(g, shapes.Make(dtypes.Int32, n, 1), 0)
	var factor *graph.Node // [n, j]: the columns found so far
	cols := make([]*graph.Node, 0, n)
	for j := 0; j < n; j++ {
		s := graph.Slice(a, graph.AxisRange(), graph.AxisElem(j)) // [n, 1]
		if j > 0 {
			rowJ := graph.Slice(factor, graph.AxisElem(j), graph.AxisRange()) // [1, j]
			s = graph.Sub(s, graph.MatMul(factor, graph.Transpose(rowJ, 0, 1)))
		}
		pivot := graph.Sqrt(graph.MaxScalar(graph.Slice(s, graph.AxisElem(j), graph.AxisRange()), 1e-12))
		below := graph.ConvertDType(graph.GreaterOrEqual(rowIdx, graph.Scalar(g, dtypes.Int32, j)), dtype)
		cols = append(cols, graph.Mul(graph.Div(s, pivot), below))
		factor = graph.Concatenate(cols, 1)
	}
	return factor
}

// Generate decodes codes drawn from the Gaussian fitted to the training codes.
func (m *AE) Generate(scope *model.Scope, g *graph.Graph, n int, _ *graph.Node) *graph.Node {
	mean, scale := m.CodeGaussian(scope, g)
	eps := scope.RandomNormal(g, shapes.Make(dtypes.Float32, n, m.LatentDim))
	z := graph.Add(graph.InsertAxes(mean, 0), graph.MatMul(eps, graph.Transpose(scale, 0, 1)))
	return m.mean(m.decode(scope, z, nil))
}

// Reconstruct decodes the code of each example.
func (m *AE) Reconstruct(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.mean(m.decode(scope, m.code(scope, b.X), nil))
}

// Encode returns the code of each example.
func (m *AE) Encode(scope *model.Scope, b vae.Batch) *graph.Node {
	return m.code(scope, b.X)
}
