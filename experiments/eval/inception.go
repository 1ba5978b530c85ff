package eval

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// InceptionScore is exp(E_x KL(p(y|x) ‖ p(y))) for class probabilities
// probs (one row per sample, rows summing to 1), with p(y) the mean row: from
// 1 (every sample gets the same distribution) to the number of classes (each
// sample confidently one class, classes equally often). Computed over all rows
// at once (one split), not averaged over 10 splits as in Salimans et al.:
// with MNIST's 10 classes and ≥ 1000 samples the split mean differs little,
// and one number has no split-dependent bias. 0·log 0 counts as 0.
func InceptionScore(probs mat.Matrix) (float64, error) {
	n, k := probs.Dims()
	if n == 0 || k == 0 {
		return 0, fmt.Errorf("inception score: no probabilities (%d×%d)", n, k)
	}
	marginal := make([]float64, k)
	for i := range n {
		var sum float64
		for j := range k {
			p := probs.At(i, j)
			if p < 0 || math.IsNaN(p) {
				return 0, fmt.Errorf("inception score: row %d has probability %v", i, p)
			}
			sum += p
			marginal[j] += p / float64(n)
		}
		if math.Abs(sum-1) > 1e-3 {
			return 0, fmt.Errorf("inception score: row %d sums to %v, not 1", i, sum)
		}
	}
	var kl float64
	for i := range n {
		for j := range k {
			if p := probs.At(i, j); p > 0 {
				kl += p * (math.Log(p) - math.Log(marginal[j]))
			}
		}
	}
	return math.Exp(kl / float64(n)), nil
}
