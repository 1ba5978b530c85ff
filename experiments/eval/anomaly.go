package eval

import "fmt"

// AnomalyVersion names the anomaly-detection figures: AUROC (AUROCVersion's
// definition) of a per-example anomaly score telling anomalous examples from
// normal ones, with the corruptions of [DefaultCorruptions] as defined in
// corrupt.go. Bump it whenever a score or a corruption changes.
const AnomalyVersion = "anomaly-auroc/v1"

// SeparationAUROC is the AUROC of a score as a detector of the anomalous
// examples (a higher score meaning more anomalous): the probability that a
// random anomalous example scores above a random normal one, ties counting
// one half. 1 separates perfectly, 0.5 is chance, below 0.5 the score ranks
// anomalies as more normal than normal examples.
func SeparationAUROC(normal, anomalous []float64) (float64, error) {
	if len(normal) == 0 || len(anomalous) == 0 {
		return 0, fmt.Errorf("anomaly auroc: %d normal and %d anomalous scores; need both", len(normal), len(anomalous))
	}
	scores := make([]float64, 0, len(normal)+len(anomalous))
	positive := make([]bool, 0, cap(scores))
	scores = append(scores, normal...)
	positive = append(positive, make([]bool, len(normal))...)
	for _, s := range anomalous {
		scores = append(scores, s)
		positive = append(positive, true)
	}
	return AUROC(scores, positive)
}
