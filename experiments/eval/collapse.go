package eval

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// ActiveUnitThreshold is Burda et al.'s (2016) threshold on Cov_x(E_q[z_d]).
const ActiveUnitThreshold = 0.01

// ActiveUnits returns the number of active latent dimensions and each
// dimension's activity Cov_x(E_q[z_d|x]): means holds one posterior mean per
// row (examples) and column (dimensions); a dimension is active when its
// activity exceeds threshold (ActiveUnitThreshold in the paper). A collapsed
// dimension's posterior mean ignores x, so its activity is ~0.
func ActiveUnits(means mat.Matrix, threshold float64) (active int, activity []float64, err error) {
	n, d := means.Dims()
	if n < 2 {
		return 0, nil, fmt.Errorf("active units: need at least 2 examples, have %d", n)
	}
	activity = make([]float64, d)
	col := make([]float64, n)
	for j := range d {
		mat.Col(col, j, means)
		activity[j] = stat.Variance(col, nil)
		if activity[j] > threshold {
			active++
		}
	}
	return active, activity, nil
}

// KLPerDim returns each latent dimension's KL(q(z_d|x) ‖ N(0, 1)) in nats,
// averaged over examples, from posterior means and log-variances (rows are
// examples): ½(μ² + σ² − 1 − log σ²). The total KL is their sum; a dimension
// with ~0 KL carries no information about x (posterior collapse).
func KLPerDim(means, logVars mat.Matrix) ([]float64, error) {
	n, d := means.Dims()
	nv, dv := logVars.Dims()
	if n != nv || d != dv {
		return nil, fmt.Errorf("kl per dimension: means are %d×%d, log-variances %d×%d", n, d, nv, dv)
	}
	if n == 0 {
		return nil, fmt.Errorf("kl per dimension: no examples")
	}
	kl := make([]float64, d)
	for i := range n {
		for j := range d {
			m, lv := means.At(i, j), logVars.At(i, j)
			kl[j] += 0.5 * (m*m + math.Exp(lv) - 1 - lv)
		}
	}
	for j := range kl {
		kl[j] /= float64(n)
	}
	return kl, nil
}
