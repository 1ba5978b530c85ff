package eval

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Gaussian is a multivariate normal N(Mean, Cov).
type Gaussian struct {
	Mean []float64
	Cov  *mat.SymDense
}

// FitGaussian returns the sample mean and unbiased (n−1) covariance of the
// rows of x, as numpy's mean and cov do in the reference FID code.
func FitGaussian(x mat.Matrix) (Gaussian, error) {
	n, d := x.Dims()
	if n < 2 {
		return Gaussian{}, fmt.Errorf("fit a Gaussian to %d points: need at least 2", n)
	}
	mean := make([]float64, d)
	col := make([]float64, n)
	for j := range d {
		mat.Col(col, j, x)
		mean[j] = stat.Mean(col, nil)
	}
	cov := mat.NewSymDense(d, nil)
	stat.CovarianceMatrix(cov, x, nil)
	return Gaussian{Mean: mean, Cov: cov}, nil
}

// FrechetDistance is the squared 2-Wasserstein distance between two Gaussians,
//
//	‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^½,
//
// the quantity FID reports. tr (Σ₁Σ₂)^½ is computed as tr (Σ₁^½ Σ₂ Σ₁^½)^½:
// the same eigenvalues, but of a symmetric positive semi-definite matrix, so
// two symmetric eigendecompositions suffice and no complex square root of a
// non-symmetric product (scipy's sqrtm in the reference code, which needs an
// ε-regularization when Σ₁Σ₂ is singular) is involved. Eigenvalues below
// zero are rounding errors of PSD matrices and are clamped to zero.
func FrechetDistance(a, b Gaussian) (float64, error) {
	d := len(a.Mean)
	if len(b.Mean) != d || a.Cov == nil || b.Cov == nil || a.Cov.SymmetricDim() != d || b.Cov.SymmetricDim() != d {
		return 0, fmt.Errorf("frechet distance: dimensions differ (means %d and %d)", len(a.Mean), len(b.Mean))
	}
	var diff float64
	for i := range d {
		e := a.Mean[i] - b.Mean[i]
		diff += e * e
	}
	sa, err := sqrtPSD(a.Cov)
	if err != nil {
		return 0, err
	}
	var m mat.Dense
	m.Mul(sa, b.Cov)
	m.Mul(&m, sa)
	ms := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			ms.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2) // symmetric up to rounding
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(ms, false) {
		return 0, errors.New("frechet distance: eigendecomposition did not converge")
	}
	var trSqrt float64
	for _, v := range eig.Values(nil) {
		trSqrt += math.Sqrt(max(v, 0))
	}
	return diff + mat.Trace(a.Cov) + mat.Trace(b.Cov) - 2*trSqrt, nil
}

// sqrtPSD returns the symmetric square root V diag(√λ) Vᵀ of a symmetric
// positive semi-definite matrix.
func sqrtPSD(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, errors.New("matrix square root: eigendecomposition did not converge")
	}
	vals := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	d := len(vals)
	scaled := mat.NewDense(d, d, nil)
	for j, l := range vals {
		r := math.Sqrt(max(l, 0))
		for i := range d {
			scaled.Set(i, j, v.At(i, j)*r)
		}
	}
	out := mat.NewDense(d, d, nil)
	out.Mul(scaled, v.T())
	return out, nil
}

// FrechetFeatures fits a Gaussian to each feature set (rows are samples) and
// returns their Fréchet distance.
func FrechetFeatures(a, b mat.Matrix) (float64, error) {
	ga, err := FitGaussian(a)
	if err != nil {
		return 0, err
	}
	gb, err := FitGaussian(b)
	if err != nil {
		return 0, err
	}
	return FrechetDistance(ga, gb)
}
