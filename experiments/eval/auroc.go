package eval

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/integrate"
	"gonum.org/v1/gonum/stat"
)

// AUROC is the area under the ROC curve of scores as a detector of the
// positive class (higher score: more likely positive), e.g. anomaly scores
// with positive = anomalous. It is gonum's stat.ROC over every distinct score
// integrated with the trapezoid rule, so tied scores form one point of the
// curve and count one half, as in the Mann–Whitney statistic. 0.5 is chance, 1
// a perfect separation.
func AUROC(scores []float64, positive []bool) (float64, error) {
	if len(scores) != len(positive) {
		return 0, fmt.Errorf("auroc: %d scores for %d labels", len(scores), len(positive))
	}
	var np, nn int
	for i, p := range positive {
		if math.IsNaN(scores[i]) {
			return 0, fmt.Errorf("auroc: score %d is NaN", i)
		}
		if p {
			np++
		} else {
			nn++
		}
	}
	if np == 0 || nn == 0 {
		return 0, fmt.Errorf("auroc: needs both classes (%d positive, %d negative)", np, nn)
	}
	y := slices.Clone(scores)
	classes := slices.Clone(positive)
	stat.SortWeightedLabeled(y, classes, nil)
	tpr, fpr, _ := stat.ROC(nil, y, classes, nil)
	if fpr[0] > fpr[len(fpr)-1] { // integrate.Trapezoidal wants x ascending
		slices.Reverse(tpr)
		slices.Reverse(fpr)
	}
	return integrate.Trapezoidal(fpr, tpr), nil
}
