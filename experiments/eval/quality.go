package eval

import (
	"fmt"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Reference is the classifier's view of a set of real images, computed once
// and compared with many generated sets.
type Reference struct {
	// Split names the real images ("test", "train").
	Split string
	// Features and Probs are the classifier's outputs on them.
	Features, Probs *mat.Dense
	gauss           Gaussian
}

// NewReference runs the classifier over the first n images (n <= 0: all) of
// MNIST's split.
func NewReference(c *Classifier, split string, n int) (*Reference, error) {
	images, _, err := MNISTImages(split, n)
	if err != nil {
		return nil, err
	}
	return referenceOf(c, split, images)
}

// referenceOf runs the classifier over images and fits their Gaussian.
func referenceOf(c *Classifier, split string, images [][]float32) (*Reference, error) {
	f, p, err := c.Outputs(images)
	if err != nil {
		return nil, err
	}
	g, err := FitGaussian(f)
	if err != nil {
		return nil, err
	}
	return &Reference{Split: split, Features: f, Probs: p, gauss: g}, nil
}

// QualityMetrics lists the sample-quality figures SampleQuality computes:
// "fid" (FID-LeNet), "is" (MNIST Inception Score), "pr" (precision and
// recall, recorded as "precision" and "recall").
var QualityMetrics = []string{"fid", "is", "pr"}

// DefaultPRK is the k of Kynkäänniemi et al.'s precision and recall.
const DefaultPRK = 3

// SampleQuality computes the requested QualityMetrics of images (e.g. a
// model's samples) against ref with classifier c; k is precision/recall's
// neighbour count. Each value records its version and settings: the number of
// samples and of reference images, the reference split, k, and the
// classifier's checksum.
func SampleQuality(c *Classifier, ref *Reference, images [][]float32, metrics []string, k int) ([]Value, error) {
	for _, m := range metrics {
		if !slices.Contains(QualityMetrics, m) {
			return nil, fmt.Errorf("sample quality metric %q: use one of %v", m, QualityMetrics)
		}
	}
	feats, probs, err := c.Outputs(images)
	if err != nil {
		return nil, err
	}
	nRef, _ := ref.Features.Dims()
	settings := func(extra ...string) map[string]string {
		s := map[string]string{"n": fmt.Sprint(len(images)), "ref_n": fmt.Sprint(nRef), "ref_split": ref.Split, "classifier": c.Version()}
		for i := 0; i+1 < len(extra); i += 2 {
			s[extra[i]] = extra[i+1]
		}
		return s
	}
	var out []Value
	for _, m := range metrics {
		switch m {
		case "fid":
			g, err := FitGaussian(feats)
			if err != nil {
				return nil, fmt.Errorf("fid: %w", err)
			}
			fid, err := FrechetDistance(ref.gauss, g)
			if err != nil {
				return nil, fmt.Errorf("fid: %w", err)
			}
			out = append(out, Value{Name: "fid", Value: fid, Version: FIDVersion, Settings: settings()})
		case "is":
			is, err := InceptionScore(probs)
			if err != nil {
				return nil, fmt.Errorf("is: %w", err)
			}
			s := settings()
			delete(s, "ref_n")
			delete(s, "ref_split")
			out = append(out, Value{Name: "is", Value: is, Version: ISVersion, Settings: s})
		case "pr":
			p, r, err := PrecisionRecall(ref.Features, feats, k)
			if err != nil {
				return nil, err
			}
			s := settings("k", fmt.Sprint(k))
			out = append(out, Value{Name: "precision", Value: p, Version: PRVersion, Settings: s},
				Value{Name: "recall", Value: r, Version: PRVersion, Settings: s})
		}
	}
	return out, nil
}

// GeneratedQuality draws n samples with generate (e.g. a trained model's
// Generate) and computes FID-LeNet and IS with classifier c against MNIST's
// full test set: what a run driver computes at the end of training.
func GeneratedQuality(c *Classifier, generate func(n int) ([][]float32, error), n int) ([]Value, error) {
	if n < 2 {
		return nil, fmt.Errorf("sample quality of %d samples: need at least 2", n)
	}
	ref, err := NewReference(c, "test", 0)
	if err != nil {
		return nil, err
	}
	samples, err := generate(n)
	if err != nil {
		return nil, fmt.Errorf("generate %d samples: %w", n, err)
	}
	return SampleQuality(c, ref, samples, []string{"fid", "is"}, DefaultPRK)
}
