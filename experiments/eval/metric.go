package eval

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Metric versions. A version names a metric's definition and everything that
// changes its value (the feature extractor, the estimator); it is recorded
// with every value, so figures of two versions are never compared by mistake.
// Bump the suffix whenever the computation changes.
const (
	// FIDVersion: Fréchet distance between Gaussians fitted (unbiased
	// covariance) to the classifier's penultimate features, matrix square root
	// through the symmetric eigendecomposition.
	FIDVersion = "fid-" + ClassifierVersion
	// ISVersion: exp of the mean KL from p(y|x) to the marginal p(y) over all
	// samples in one split, on the classifier's class probabilities.
	ISVersion = "is-" + ClassifierVersion
	// PRVersion: Kynkäänniemi et al. (2019) improved precision and recall,
	// k-NN balls on the classifier's features.
	PRVersion = "pr-" + ClassifierVersion
	// AUROCVersion: area under the ROC curve by the trapezoid rule over every
	// distinct score (ties share one point).
	AUROCVersion = "auroc/v1"
	// ActiveUnitsVersion: Burda et al. (2016), Cov_x(E_q[z]) > threshold.
	ActiveUnitsVersion = "au/v1"
	// KLVersion: analytic KL(q(z_d|x) ‖ N(0,1)) per dimension, averaged over x.
	KLVersion = "kl-dim/v1"
	// BetaVAEVersion, FactorVAEVersion, MIGVersion, SAPVersion and DCIVersion
	// follow disentanglement_lib's definitions with the estimators said in
	// their functions' comments.
	BetaVAEVersion   = "betavae/v1"
	FactorVAEVersion = "factorvae/v1"
	MIGVersion       = "mig/v1"
	SAPVersion       = "sap/v1"
	DCIVersion       = "dci-lasso/v1"
)

// Value is one computed figure with what is needed to reproduce and compare it.
type Value struct {
	// Name is the figure's short name ("fid", "is", "precision", ...).
	Name string
	// Value is the figure itself.
	Value float64
	// Version is the metric's definition, e.g. "fid-lenet/v1".
	Version string
	// Settings are what the value depends on besides the model: number of
	// samples, k, split, binarization, the classifier's checksum.
	Settings map[string]string
}

// Describe renders the version and settings on one line, settings sorted by
// key: "fid-lenet/v1 classifier=lenet/v1@3f2a9c1e n=10000 split=test".
func (v Value) Describe() string {
	var b strings.Builder
	b.WriteString(v.Version)
	for _, k := range slices.Sorted(maps.Keys(v.Settings)) {
		fmt.Fprintf(&b, " %s=%s", k, v.Settings[k])
	}
	return b.String()
}
