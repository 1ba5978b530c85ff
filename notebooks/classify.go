package notebooks

import (
	"fmt"

	"github.com/vaexp/vaexp/experiments/eval"
)

// Classify returns the class the MNIST classifier (eval.LoadClassifier, the
// one behind FID-LeNet and IS) finds most probable for each image, and that
// probability: which digit a generated sample shows, and how clearly.
func Classify(c *eval.Classifier, images [][]float32) (labels []int, confidence []float64, err error) {
	if c == nil {
		return nil, nil, fmt.Errorf("classify: no classifier (load one with eval.LoadClassifier)")
	}
	_, probs, err := c.Outputs(images)
	if err != nil {
		return nil, nil, err
	}
	n, k := probs.Dims()
	labels, confidence = make([]int, n), make([]float64, n)
	for i := range n {
		row := probs.RawRowView(i)
		for j := 1; j < k; j++ {
			if row[j] > row[labels[i]] {
				labels[i] = j
			}
		}
		confidence[i] = row[labels[i]]
	}
	return labels, confidence, nil
}

// ClassShares is the fraction of labels in each of classes classes (labels
// outside 0..classes-1 are counted in none).
func ClassShares(labels []int, classes int) []float64 {
	shares := make([]float64, classes)
	if len(labels) == 0 {
		return shares
	}
	for _, l := range labels {
		if l >= 0 && l < classes {
			shares[l]++
		}
	}
	for i := range shares {
		shares[i] /= float64(len(labels))
	}
	return shares
}
