package eval

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// The disentanglement metrics need a linear classifier (BetaVAE, SAP, DCI
// informativeness) and a sparse linear regressor (DCI importances). No
// maintained Go library that the module proxy serves provides them:
// github.com/sjwhitworth/golearn (the one Go ML toolkit with both) is
// untagged, last changed in December 2022, and binds liblinear through cgo.
// So these are the smallest honest versions, on gonum: multinomial logistic
// regression minimized by gonum/optimize's L-BFGS, and the lasso by cyclic
// coordinate descent.

// standardizer centres and scales columns to unit variance (constant columns are only centred).
type standardizer struct{ mean, scale []float64 }

func newStandardizer(x mat.Matrix) standardizer {
	n, d := x.Dims()
	s := standardizer{make([]float64, d), make([]float64, d)}
	col := make([]float64, n)
	for j := range d {
		mat.Col(col, j, x)
		m, sd := stat.MeanStdDev(col, nil)
		s.mean[j], s.scale[j] = m, 1
		if sd > 1e-12 {
			s.scale[j] = sd
		}
	}
	return s
}

func (s standardizer) apply(x mat.Matrix) *mat.Dense {
	n, d := x.Dims()
	out := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			out.Set(i, j, (x.At(i, j)-s.mean[j])/s.scale[j])
		}
	}
	return out
}

// logistic is a fitted multinomial logistic regression on standardized inputs.
type logistic struct {
	std     standardizer
	w       *mat.Dense // [d+1, classes]; the last row is the bias
	classes int
}

// fitLogistic fits p(y|x) = softmax(xW + b) to labels 0..classes−1 by
// minimizing the mean cross-entropy plus l2/2·‖W‖² (sklearn's
// LogisticRegression default is C = 1, i.e. l2 = 1/n on the summed loss;
// the mean form with l2 = 1/n is the same objective).
func fitLogistic(x mat.Matrix, y []int, classes int, l2 float64) (*logistic, error) {
	n, d := x.Dims()
	if n != len(y) || n == 0 {
		return nil, fmt.Errorf("logistic regression: %d rows for %d labels", n, len(y))
	}
	m := &logistic{std: newStandardizer(x), classes: classes}
	xs := m.std.apply(x)
	p := (d + 1) * classes
	logits := make([]float64, classes)
	problem := optimize.Problem{
		Func: func(w []float64) float64 {
			f, _ := logisticLoss(xs, y, w, nil, d, classes, l2, logits)
			return f
		},
		Grad: func(grad, w []float64) {
			logisticLoss(xs, y, w, grad, d, classes, l2, logits)
		},
	}
	res, err := optimize.Minimize(problem, make([]float64, p), &optimize.Settings{MajorIterations: 500}, &optimize.LBFGS{})
	if err != nil && res == nil {
		return nil, fmt.Errorf("logistic regression: %w", err)
	}
	// An iteration limit or a line search that cannot improve further still
	// leaves the best point found: use it.
	m.w = mat.NewDense(d+1, classes, res.X)
	return m, nil
}

// logisticLoss returns the objective at w and, if grad is not nil, writes its gradient.
func logisticLoss(xs *mat.Dense, y []int, w, grad []float64, d, classes int, l2 float64, logits []float64) (float64, []float64) {
	n, _ := xs.Dims()
	if grad != nil {
		clear(grad)
	}
	var f float64
	for i := range n {
		row := xs.RawRowView(i)
		for c := range classes {
			z := w[d*classes+c]
			for j := range d {
				z += row[j] * w[j*classes+c]
			}
			logits[c] = z
		}
		lse := logSumExp(logits)
		f -= logits[y[i]] - lse
		if grad != nil {
			for c := range classes {
				g := math.Exp(logits[c] - lse)
				if c == y[i] {
					g--
				}
				g /= float64(n)
				for j := range d {
					grad[j*classes+c] += g * row[j]
				}
				grad[d*classes+c] += g
			}
		}
	}
	f /= float64(n)
	for j := range d * classes {
		f += 0.5 * l2 * w[j] * w[j]
		if grad != nil {
			grad[j] += l2 * w[j]
		}
	}
	return f, grad
}

func logSumExp(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// accuracy is the fraction of rows of x whose most probable class is the label.
func (m *logistic) accuracy(x mat.Matrix, y []int) float64 {
	xs := m.std.apply(x)
	n, d := xs.Dims()
	right := 0
	logits := make([]float64, m.classes)
	for i := range n {
		row := xs.RawRowView(i)
		for c := range m.classes {
			z := m.w.At(d, c)
			for j := range d {
				z += row[j] * m.w.At(j, c)
			}
			logits[c] = z
		}
		if argmax(logits) == y[i] {
			right++
		}
	}
	return float64(right) / float64(n)
}

// lassoCoefficients fits y ≈ x·β + c with an L1 penalty, on standardized x
// and y (so the coefficients are comparable importances), minimizing
// 1/(2n)‖y − xβ‖² + alpha‖β‖₁ by cyclic coordinate descent with soft
// thresholding (the algorithm of glmnet and sklearn's Lasso).
func lassoCoefficients(x mat.Matrix, y []float64, alpha float64) []float64 {
	n, d := x.Dims()
	xs := newStandardizer(x).apply(x)
	ym, ysd := stat.MeanStdDev(y, nil)
	if ysd < 1e-12 {
		ysd = 1
	}
	r := make([]float64, n) // residual y − xβ
	for i := range n {
		r[i] = (y[i] - ym) / ysd
	}
	beta := make([]float64, d)
	colSq := make([]float64, d)
	for j := range d {
		for i := range n {
			v := xs.At(i, j)
			colSq[j] += v * v
		}
		colSq[j] /= float64(n)
	}
	for range 1000 {
		var change float64
		for j := range d {
			if colSq[j] == 0 {
				continue
			}
			var rho float64
			for i := range n {
				rho += xs.At(i, j) * r[i]
			}
			rho = rho/float64(n) + colSq[j]*beta[j]
			nb := softThreshold(rho, alpha) / colSq[j]
			if delta := nb - beta[j]; delta != 0 {
				for i := range n {
					r[i] -= delta * xs.At(i, j)
				}
				change = max(change, math.Abs(delta))
				beta[j] = nb
			}
		}
		if change < 1e-6 {
			break
		}
	}
	return beta
}

func softThreshold(v, t float64) float64 {
	switch {
	case v > t:
		return v - t
	case v < -t:
		return v + t
	}
	return 0
}
