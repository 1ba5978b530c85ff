package experiments

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/vae"
)

// Anomaly detection: how well a model's per-example scores tell test examples
// it should find unusual (a class left out of its training, corrupted
// images) from ordinary ones, as AUROC.

// AnomalyScores are the per-example anomaly scores a family can give, higher
// meaning more anomalous, all in nats per example except "recon":
//   - "nelbo": the negative ELBO (one posterior sample), families with one;
//   - "iwae": −log p̂(x), the k-sample IWAE estimate, families with an importance sampler;
//   - "recon": Σ (x − x̂)² over the values, x̂ the deterministic reconstruction
//     (an autoencoder's natural score), families that reconstruct.
var AnomalyScores = []string{"nelbo", "iwae", "recon"}

// DefaultAnomalyK is the importance samples of the "iwae" anomaly score:
// ranking examples needs far fewer than a likelihood figure (k = 5000).
const DefaultAnomalyK = 100

// anomalyScoresOf lists the scores the run's family provides.
func (t *Trained) anomalyScoresOf() ([]string, error) {
	var out []string
	hasNELBO, err := t.hasNELBO()
	if err != nil {
		return nil, err
	}
	if hasNELBO {
		out = append(out, "nelbo")
	}
	if _, ok := t.Model.(vae.LikelihoodEstimator); ok {
		out = append(out, "iwae")
	}
	if t.CanReconstruct() {
		out = append(out, "recon")
	}
	return out, nil
}

// hasNELBO reports whether the family's loss defines a negative ELBO, by
// building its loss graph for one example.
func (t *Trained) hasNELBO() (bool, error) {
	one := Examples{Images: [][]float32{make([]float32, t.Data.Shape.Size())}, Labels: []int{0}}
	var has bool
	_, err := t.perExample("nelbo probe", one, func(scope *model.Scope, b vae.Batch) *graph.Node {
		l := t.Model.Loss(scope, b)
		has = l.NELBO != nil
		return graph.ZerosLike(b.X)
	})
	return has, err
}

// AnomalyScores returns the scores (names from [AnomalyScores]) of each
// example that the run's family provides, with k importance samples for
// "iwae" (0: DefaultAnomalyK).
func (t *Trained) AnomalyScores(ex Examples, k int) (map[string][]float64, error) {
	names, err := t.anomalyScoresOf()
	if err != nil {
		return nil, err
	}
	return t.anomalyScores(ex, names, k)
}

// anomalyScores computes the named scores of each example.
func (t *Trained) anomalyScores(ex Examples, names []string, k int) (map[string][]float64, error) {
	if k <= 0 {
		k = DefaultAnomalyK
	}
	var err error
	out := map[string][]float64{}
	for _, name := range names {
		var rows [][]float32
		switch name {
		case "nelbo":
			rows, err = t.perExample("nelbo", ex, func(scope *model.Scope, b vae.Batch) *graph.Node {
				return vae.PerExample(t.Model.Loss(scope, b).NELBO, b.Size())
			})
		case "iwae":
			est := t.Model.(vae.LikelihoodEstimator)
			rows, err = t.perExampleBy("iwae", ex, max(1, maxDecodesPerCall/k), func(scope *model.Scope, b vae.Batch) *graph.Node {
				return graph.Neg(est.LogLikelihood(scope, b, k))
			})
		case "recon":
			var recons [][]float32
			if recons, err = t.Reconstruct(ex); err == nil {
				rows = make([][]float32, len(recons))
				for i, r := range recons {
					var sq float64
					for j, v := range r {
						d := float64(v - ex.Images[i][j])
						sq += d * d
					}
					rows[i] = []float32{float32(sq)}
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("anomaly score %s: %w", name, err)
		}
		col := make([]float64, len(rows))
		for i, r := range rows {
			col[i] = float64(r[0])
		}
		out[name] = col
	}
	return out, nil
}

// Corrupt returns corrupted copies of the examples (labels kept). Random
// corruptions draw example i's randomness from (seed, i). For a binarized
// run the corrupted images are binarized again at 0.5, so the model sees
// inputs of the kind it was trained on.
func (t *Trained) Corrupt(ex Examples, c eval.Corruption, seed int64) (Examples, error) {
	sh := t.Data.Shape
	out := Examples{Images: make([][]float32, ex.Len()), Labels: slices.Clone(ex.Labels)}
	for i, img := range ex.Images {
		pix, err := c.Apply(eval.Image{Pix: img, Height: sh.Height, Width: sh.Width, Channels: sh.Channels},
			data.NewRand(seed, "corrupt-"+c.Name, i))
		if err != nil {
			return Examples{}, fmt.Errorf("example %d: %w", i, err)
		}
		if t.Spec.Data.Binarize != "none" {
			for j, v := range pix {
				if v >= 0.5 {
					pix[j] = 1
				} else {
					pix[j] = 0
				}
			}
		}
		out.Images[i] = pix
	}
	return out, nil
}

// checkAnomaly reports why the run cannot be scored for anomalies, or nil.
func (t *Trained) checkAnomaly() error {
	if sh := t.Data.Shape; sh.IsSequence() || t.Data.Real {
		return fmt.Errorf("anomaly needs image data (the corruptions rotate and occlude images), but the run's data is %s %s", t.Data.Name, sh)
	}
	if _, ok := t.Model.(vae.LikelihoodEstimator); ok || t.CanReconstruct() {
		return nil
	}
	if has, err := t.hasNELBO(); err != nil || has {
		return err
	}
	return fmt.Errorf("anomaly needs a per-example score (a negative ELBO, an importance sampler or a reconstruction), which family %q does not provide", t.Spec.Family)
}

// anomaly scores the first n test examples: the held-out classes (a run with
// data.exclude_classes) against the others, and each corruption of the
// others against the originals, by every score the family provides. Values
// are named "anomaly/<case>/<score>" (cases "heldout", "noise", "occlusion",
// "rotation").
func (t *Trained) anomaly(n, k int, say func(string, ...any)) ([]eval.Value, error) {
	if k <= 0 {
		k = DefaultAnomalyK
	}
	ex, err := t.Examples("test", n)
	if err != nil {
		return nil, err
	}
	excluded := t.Spec.Data.ExcludeClasses
	var normal, held Examples
	for i, l := range ex.Labels {
		dst := &normal
		if slices.Contains(excluded, l) {
			dst = &held
		}
		dst.Images, dst.Labels = append(dst.Images, ex.Images[i]), append(dst.Labels, l)
	}
	if normal.Len() == 0 {
		return nil, fmt.Errorf("anomaly: the first %d test examples are all of the excluded classes %v; raise -n", ex.Len(), excluded)
	}
	names, err := t.anomalyScoresOf()
	if err != nil {
		return nil, err
	}
	say("anomaly: scoring %d normal test examples by %s", normal.Len(), strings.Join(names, ", "))
	base, err := t.anomalyScores(normal, names, k)
	if err != nil {
		return nil, err
	}
	settings := func(score string, nAnomalous int, extra map[string]string) map[string]string {
		s := map[string]string{"split": "test", "binarize": t.Spec.Data.Binarize, "normal": fmt.Sprint(normal.Len()),
			"anomalous": fmt.Sprint(nAnomalous)}
		if score == "iwae" {
			s["k"] = fmt.Sprint(k)
		}
		for key, v := range extra {
			s[key] = v
		}
		return s
	}
	var out []eval.Value
	add := func(kase string, scores map[string][]float64, nAnomalous int, extra map[string]string) error {
		for _, name := range AnomalyScores {
			if _, ok := base[name]; !ok {
				continue
			}
			auc, err := eval.SeparationAUROC(base[name], scores[name])
			if err != nil {
				return fmt.Errorf("anomaly %s by %s: %w", kase, name, err)
			}
			out = append(out, eval.Value{Name: "anomaly/" + kase + "/" + name, Value: auc, Version: eval.AnomalyVersion,
				Settings: settings(name, nAnomalous, extra)})
		}
		return nil
	}
	switch {
	case len(excluded) == 0:
		say("anomaly: the run trained on every class; no held-out class to score (train with --exclude-classes)")
	case held.Len() == 0:
		say("anomaly: none of the first %d test examples is of the excluded classes %v; no held-out score", ex.Len(), excluded)
	default:
		say("anomaly: scoring %d test examples of the held-out classes %v", held.Len(), excluded)
		scores, err := t.anomalyScores(held, names, k)
		if err != nil {
			return nil, err
		}
		if err := add("heldout", scores, held.Len(), map[string]string{"excluded": FormatClasses(excluded)}); err != nil {
			return nil, err
		}
	}
	for _, c := range eval.DefaultCorruptions() {
		say("anomaly: scoring %d %s-corrupted copies (%s)", normal.Len(), c.Name, describeSettings(c.Settings))
		bad, err := t.Corrupt(normal, c, t.Spec.Seed)
		if err != nil {
			return nil, err
		}
		scores, err := t.anomalyScores(bad, names, k)
		if err != nil {
			return nil, err
		}
		if err := add(c.Name, scores, bad.Len(), c.Settings); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// describeSettings writes settings as "k=v k=v", sorted by key.
func describeSettings(s map[string]string) string {
	return strings.TrimPrefix(eval.Value{Settings: s}.Describe(), " ")
}
