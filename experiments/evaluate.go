package experiments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"gonum.org/v1/gonum/mat"

	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/tracker"
	"github.com/vaexp/vaexp/vae"
)

// EvalMetrics lists the metrics Evaluate computes, in the order it computes them.
var EvalMetrics = append([]string{"fid", "is", "pr", "au", "kl", "nll", "anomaly"}, DisentanglementMetrics...)

// EvalOptions configures Evaluate. Zero values take the defaults.
type EvalOptions struct {
	// Metrics to compute, from EvalMetrics.
	Metrics []string
	// Split of real data: the reference for fid and pr, the examples encoded
	// for au and kl, scored for nll ("test" by default; "train" or "val").
	Split string
	// Samples is the number of generated samples for fid, is and pr, and of
	// real examples used (default 10000).
	Samples int
	// K is precision/recall's neighbour count (default 3).
	K int
	// IWAEK is the number of importance samples of nll (default 5000).
	IWAEK int
	// AnomalyK is the number of importance samples of anomaly's iwae score
	// (default DefaultAnomalyK).
	AnomalyK int
	// Classifier for fid, is and pr; nil loads (or on first use trains and
	// caches) the default one on the run's backend.
	Classifier *eval.Classifier
	// Disentanglement sets the disentanglement metrics' sample sizes (zero:
	// disentanglement_lib's defaults).
	Disentanglement eval.DisentanglementOptions
	// Progress, if set, receives one line per step ("fid: generating 10000 samples").
	Progress func(string)
}

func (o EvalOptions) withDefaults() EvalOptions {
	if o.Split == "" {
		o.Split = "test"
	}
	if o.Samples == 0 {
		o.Samples = 10000
	}
	if o.K == 0 {
		o.K = eval.DefaultPRK
	}
	if o.IWAEK == 0 {
		o.IWAEK = 5000
	}
	if o.Disentanglement == (eval.DisentanglementOptions{}) {
		o.Disentanglement = eval.DefaultDisentanglementOptions
	}
	return o
}

// ParseEvalMetrics parses a comma-separated metric list ("fid,is,pr").
func ParseEvalMetrics(list string) ([]string, error) {
	var out []string
	for _, m := range strings.Split(list, ",") {
		m = strings.TrimSpace(strings.ToLower(m))
		if m == "" {
			continue
		}
		if !slices.Contains(EvalMetrics, m) {
			return nil, fmt.Errorf("metric %q: use one of %s", m, strings.Join(EvalMetrics, ","))
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no metric in %q: use one or more of %s", list, strings.Join(EvalMetrics, ","))
	}
	return out, nil
}

// ErrCapability is wrapped by Evaluate's error for a metric the run's family
// cannot provide (e.g. nll for an autoencoder, au for a GAN).
var ErrCapability = errors.New("the run's family lacks what this metric needs")

// needs says, for a metric, whether the run's model can provide it, and if
// not, why.
func needs(t *Trained, metric string) error {
	var ok bool
	var what string
	switch metric {
	case "fid", "is", "pr":
		// Generate is part of every family's contract; the LeNet features are MNIST's.
		ok = mnistLike(t.Spec.DataInfo(t.Data))
		what = "MNIST-like examples (28×28 digits: the LeNet features were trained on MNIST), but the run's data is " + t.Data.Name + " " + t.Data.Shape.String() + " and"
	case "au":
		_, ok = t.Model.(vae.Encoder)
		what = "an encoder (vae.Encoder)"
	case "kl":
		_, ok = t.Model.(vae.PosteriorEncoder)
		what = "its Gaussian posterior (vae.PosteriorEncoder)"
	case "nll":
		_, ok = t.Model.(vae.LikelihoodEstimator)
		what = "an importance sampler (LogLikelihood)"
	case "anomaly":
		return t.checkAnomaly()
	default: // the disentanglement metrics
		_, ok = t.Model.(vae.Encoder)
		what = "an encoder (vae.Encoder)"
		if ok {
			if _, err := t.groundTruthOf(); err != nil {
				return fmt.Errorf("%s needs ground-truth factors: %v", metric, err)
			}
		}
	}
	if ok {
		return nil
	}
	return fmt.Errorf("%s needs %s, which family %q does not provide", metric, what, t.Spec.Family)
}

// Evaluate computes metrics of run id's trained model and adds them to the
// run in the tracker (see tracker.RecordEvaluations: keys "eval/<name>" at the
// run's last step, each with its version and settings as a tag), leaving
// every row the run already had untouched. It checks first that the run's
// family provides what each metric needs, so an unsupported metric fails
// before any work. It returns the values it recorded and the step.
func Evaluate(db *tracker.DB, id int64, opts EvalOptions) ([]eval.Value, int64, error) {
	opts = opts.withDefaults()
	if len(opts.Metrics) == 0 {
		return nil, 0, fmt.Errorf("evaluate run %d: no metrics (use some of %s)", id, strings.Join(EvalMetrics, ","))
	}
	if opts.Samples < 2 || opts.K < 1 || opts.IWAEK < 1 {
		return nil, 0, fmt.Errorf("evaluate run %d: samples %d, k %d, iwae k %d: samples must be at least 2 and k at least 1", id, opts.Samples, opts.K, opts.IWAEK)
	}
	t, err := Load(db, id)
	if err != nil {
		return nil, 0, err
	}
	var missing []string
	for _, m := range opts.Metrics {
		if err := needs(t, m); err != nil {
			missing = append(missing, err.Error())
		}
	}
	if len(missing) > 0 {
		return nil, 0, fmt.Errorf("run %d: %s; drop it from the metrics (%w)", id, strings.Join(missing, "; "), ErrCapability)
	}
	values, err := t.evaluate(opts)
	if err != nil {
		return nil, 0, fmt.Errorf("evaluate run %d: %w", id, err)
	}
	step, err := db.RecordEvaluations(id, -1, EvaluationRows(values))
	if err != nil {
		return nil, 0, err
	}
	return values, step, nil
}

// EvaluationRows turns metric values into tracker rows: key "eval/<name>",
// the version and settings as the description. The run driver records
// end-of-training figures (eval.GeneratedQuality) with it.
func EvaluationRows(values []eval.Value) []tracker.Evaluation {
	rows := make([]tracker.Evaluation, len(values))
	for i, v := range values {
		rows[i] = tracker.Evaluation{Key: tracker.EvalPrefix + v.Name, Value: v.Value, Describe: v.Describe()}
	}
	return rows
}

func (t *Trained) evaluate(opts EvalOptions) ([]eval.Value, error) {
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf(format, args...))
		}
	}
	var out []eval.Value
	base := func(extra ...string) map[string]string {
		s := map[string]string{"split": opts.Split, "binarize": t.Spec.Data.Binarize}
		for i := 0; i+1 < len(extra); i += 2 {
			s[extra[i]] = extra[i+1]
		}
		return s
	}
	var quality []string
	for _, m := range opts.Metrics {
		if m == "fid" || m == "is" || m == "pr" {
			quality = append(quality, m)
		}
	}
	if len(quality) > 0 {
		clf := opts.Classifier
		if clf == nil {
			say("classifier: loading %s (trained and cached on first use: about two and a half minutes on 2 cores)", eval.ClassifierVersion)
			var err error
			if clf, _, err = eval.LoadClassifier(t.Backend, eval.ClassifierOptions{}); err != nil {
				return nil, err
			}
		}
		say("%s: classifier outputs of %d real %s images", strings.Join(quality, ","), opts.Samples, opts.Split)
		ref, err := eval.NewReference(clf, mnistSplit(opts.Split), opts.Samples)
		if err != nil {
			return nil, err
		}
		say("%s: generating %d samples", strings.Join(quality, ","), opts.Samples)
		samples, err := t.Generate(opts.Samples)
		if err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
		vals, err := eval.SampleQuality(clf, ref, samples, quality, opts.K)
		if err != nil {
			return nil, err
		}
		for i := range vals {
			vals[i].Settings["binarize"] = t.Spec.Data.Binarize
		}
		out = append(out, vals...)
	}
	var ex Examples
	if slices.Contains(opts.Metrics, "au") || slices.Contains(opts.Metrics, "kl") {
		var err error
		if ex, err = t.Examples(opts.Split, opts.Samples); err != nil {
			return nil, err
		}
	}
	if slices.Contains(opts.Metrics, "au") {
		say("au: encoding %d %s examples", ex.Len(), opts.Split)
		codes, err := t.Encode(ex)
		if err != nil {
			return nil, err
		}
		active, _, err := eval.ActiveUnits(rowsMatrix(codes), eval.ActiveUnitThreshold)
		if err != nil {
			return nil, err
		}
		out = append(out, eval.Value{Name: "active_units", Value: float64(active), Version: eval.ActiveUnitsVersion,
			Settings: base("n", fmt.Sprint(ex.Len()), "threshold", fmt.Sprint(eval.ActiveUnitThreshold))})
		layers, err := t.activeUnitsPerLayer(ex, base("n", fmt.Sprint(ex.Len()), "threshold", fmt.Sprint(eval.ActiveUnitThreshold)))
		if err != nil {
			return nil, err
		}
		out = append(out, layers...)
	}
	if slices.Contains(opts.Metrics, "kl") {
		say("kl: posteriors of %d %s examples", ex.Len(), opts.Split)
		vals, err := t.klPerDim(ex, base("n", fmt.Sprint(ex.Len())))
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	if slices.ContainsFunc(opts.Metrics, func(m string) bool { return slices.Contains(DisentanglementMetrics, m) }) {
		vals, err := t.disentanglement(opts.Metrics, opts.Disentanglement, say)
		if err != nil {
			return nil, err
		}
		for i := range vals {
			vals[i].Settings["data"] = t.Data.Name
		}
		out = append(out, vals...)
	}
	if slices.Contains(opts.Metrics, "anomaly") {
		vals, err := t.anomaly(opts.Samples, opts.AnomalyK, say)
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	if slices.Contains(opts.Metrics, "nll") {
		set, err := t.dataSet(opts.Split, opts.Samples)
		if err != nil {
			return nil, err
		}
		say("nll: %d-sample IWAE estimate over %d %s examples", opts.IWAEK, set.len(), opts.Split)
		var ll float64
		var path string
		err = catch(func() error {
			var err error
			ll, path, err = newEvaluator(context.Background(), t.Backend, t.Store, t.Model).logLikelihood(set, opts.IWAEK, t.Spec.Eval.BatchSize, "iwae-"+opts.Split)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("nll: %w", err)
		}
		out = append(out, eval.Value{Name: "nll", Value: -ll, Version: "iwae-nll/v1",
			Settings: base("n", fmt.Sprint(set.len()), "k", fmt.Sprint(opts.IWAEK), "path", path)})
	}
	return out, nil
}

// mnistSplit maps a run's split to the MNIST file it comes from (the
// validation split is carved out of MNIST's training set).
func mnistSplit(split string) string {
	if split == "test" {
		return "test"
	}
	return "train"
}

// klPerDim returns eval/kl (the total) and eval/kl_dim/<d> for each latent dimension.
func (t *Trained) klPerDim(ex Examples, settings map[string]string) ([]eval.Value, error) {
	pe := t.Model.(vae.PosteriorEncoder)
	out, err := t.perExample("posterior", ex, func(scope *model.Scope, b vae.Batch) *graph.Node {
		q := pe.Posterior(scope, b)
		return graph.Concatenate([]*graph.Node{q.Mean, q.LogVar}, -1)
	})
	if err != nil {
		return nil, err
	}
	both := rowsMatrix(out)
	n, w := both.Dims()
	kl, err := eval.KLPerDim(both.Slice(0, n, 0, w/2), both.Slice(0, n, w/2, w))
	if err != nil {
		return nil, err
	}
	var total float64
	vals := make([]eval.Value, 0, len(kl)+1)
	for d, v := range kl {
		total += v
		vals = append(vals, eval.Value{Name: fmt.Sprintf("kl_dim/%d", d), Value: v, Version: eval.KLVersion, Settings: settings})
	}
	return append([]eval.Value{{Name: "kl", Value: total, Version: eval.KLVersion, Settings: settings}}, vals...), nil
}

// rowsMatrix copies float32 rows into a float64 matrix.
func rowsMatrix(rows [][]float32) *mat.Dense {
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		for j, v := range r {
			m.Set(i, j, float64(v))
		}
	}
	return m
}
