package eval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// GroundTruth is a data set generated from known discrete factors of
// variation (e.g. the shapes data set: shape, scale, rotation, x, y), the
// interface the disentanglement metrics need, after disentanglement_lib's
// GroundTruthData.
type GroundTruth interface {
	// FactorSizes is the number of values of each factor.
	FactorSizes() []int
	// Observations returns one observation per row of factors (each row one
	// value index per factor); rng serves factors the rows leave free.
	Observations(factors [][]int, rng *rand.Rand) ([][]float32, error)
}

// Representation maps observations to codes (e.g. a trained model's
// posterior means), one row per observation.
type Representation func(observations [][]float32) ([][]float64, error)

// DisentanglementOptions are the sample sizes of the disentanglement metrics
// (disentanglement_lib's defaults in DefaultDisentanglementOptions).
type DisentanglementOptions struct {
	// Train and Eval are the points used to fit and to score each metric's
	// classifier or estimate (for BetaVAE and FactorVAE: votes/batches).
	Train, Eval int
	// BatchSize is the points per BetaVAE/FactorVAE training point.
	BatchSize int
	// VarianceEstimate is the points FactorVAE's global variances use.
	VarianceEstimate int
	// Seed fixes every draw.
	Seed uint64
}

// DefaultDisentanglementOptions are disentanglement_lib's defaults
// (num_train 10000, num_eval 5000, batch_size 64, num_variance_estimate 10000).
var DefaultDisentanglementOptions = DisentanglementOptions{Train: 10000, Eval: 5000, BatchSize: 64, VarianceEstimate: 10000, Seed: 1}

func (o DisentanglementOptions) check() error {
	if o.Train < 2 || o.Eval < 1 || o.BatchSize < 2 || o.VarianceEstimate < 2 {
		return fmt.Errorf("disentanglement options %+v: Train, BatchSize and VarianceEstimate must be at least 2, Eval at least 1", o)
	}
	return nil
}

func (o DisentanglementOptions) settings() map[string]string {
	return map[string]string{"train": fmt.Sprint(o.Train), "eval": fmt.Sprint(o.Eval), "batch": fmt.Sprint(o.BatchSize), "seed": fmt.Sprint(o.Seed)}
}

// sampleFactors draws n factor rows uniformly from the grid.
func sampleFactors(sizes []int, n int, rng *rand.Rand) [][]int {
	out := make([][]int, n)
	for i := range out {
		out[i] = make([]int, len(sizes))
		for k, s := range sizes {
			out[i][k] = rng.IntN(s)
		}
	}
	return out
}

// codesOf returns the representation of the observations of factors as a matrix.
func codesOf(gt GroundTruth, rep Representation, factors [][]int, rng *rand.Rand) (*mat.Dense, error) {
	obs, err := gt.Observations(factors, rng)
	if err != nil {
		return nil, fmt.Errorf("observations: %w", err)
	}
	codes, err := rep(obs)
	if err != nil {
		return nil, fmt.Errorf("representation: %w", err)
	}
	if len(codes) != len(factors) || len(codes) == 0 || len(codes[0]) == 0 {
		return nil, fmt.Errorf("representation returned %d codes for %d observations", len(codes), len(factors))
	}
	d := len(codes[0])
	m := mat.NewDense(len(codes), d, nil)
	for i, c := range codes {
		if len(c) != d {
			return nil, fmt.Errorf("representation: code %d has %d values, code 0 has %d", i, len(c), d)
		}
		m.SetRow(i, c)
	}
	return m, nil
}

// sampleCodes draws n factor rows and returns them with their codes.
func sampleCodes(gt GroundTruth, rep Representation, n int, rng *rand.Rand) ([][]int, *mat.Dense, error) {
	f := sampleFactors(gt.FactorSizes(), n, rng)
	c, err := codesOf(gt, rep, f, rng)
	return f, c, err
}

// trainEvalCodes draws opts.Train and then opts.Eval factor rows with their
// codes, from a stream of its own (stream) for each metric.
func trainEvalCodes(gt GroundTruth, rep Representation, opts DisentanglementOptions, stream uint64) (fTrain [][]int, cTrain *mat.Dense, fEval [][]int, cEval *mat.Dense, err error) {
	rng := rand.New(rand.NewPCG(opts.Seed, stream))
	if fTrain, cTrain, err = sampleCodes(gt, rep, opts.Train, rng); err != nil {
		return
	}
	fEval, cEval, err = sampleCodes(gt, rep, opts.Eval, rng)
	return
}

func factorColumn(factors [][]int, k int) []int {
	out := make([]int, len(factors))
	for i, f := range factors {
		out[i] = f[k]
	}
	return out
}

// BetaVAEScore is Higgins et al.'s (2017) metric as in disentanglement_lib:
// each point picks a factor k, draws BatchSize pairs of observations sharing
// factor k's value, and averages |code₁ − code₂| over the pairs; a linear
// classifier (multinomial logistic regression, as disentanglement_lib's
// sklearn default) learns k from that average on Train points and is scored
// by its accuracy on Eval points. 1 when one code dimension never changes
// with a fixed factor; chance (1/number of factors) for codes unrelated to
// the factors.
func BetaVAEScore(gt GroundTruth, rep Representation, opts DisentanglementOptions) (Value, error) {
	if err := opts.check(); err != nil {
		return Value{}, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 1))
	sizes := gt.FactorSizes()
	points := func(n int) (*mat.Dense, []int, error) {
		var x *mat.Dense
		y := make([]int, n)
		for p := range n {
			k := rng.IntN(len(sizes))
			f1 := sampleFactors(sizes, opts.BatchSize, rng)
			f2 := sampleFactors(sizes, opts.BatchSize, rng)
			for i := range f2 {
				f2[i][k] = f1[i][k]
			}
			c1, err := codesOf(gt, rep, f1, rng)
			if err != nil {
				return nil, nil, err
			}
			c2, err := codesOf(gt, rep, f2, rng)
			if err != nil {
				return nil, nil, err
			}
			_, d := c1.Dims()
			if x == nil {
				x = mat.NewDense(n, d, nil)
			}
			for j := range d {
				var s float64
				for i := range opts.BatchSize {
					s += math.Abs(c1.At(i, j) - c2.At(i, j))
				}
				x.Set(p, j, s/float64(opts.BatchSize))
			}
			y[p] = k
		}
		return x, y, nil
	}
	xTrain, yTrain, err := points(opts.Train)
	if err != nil {
		return Value{}, fmt.Errorf("betavae score: %w", err)
	}
	xEval, yEval, err := points(opts.Eval)
	if err != nil {
		return Value{}, fmt.Errorf("betavae score: %w", err)
	}
	clf, err := fitLogistic(xTrain, yTrain, len(sizes), 1/float64(opts.Train))
	if err != nil {
		return Value{}, fmt.Errorf("betavae score: %w", err)
	}
	return Value{Name: "betavae", Value: clf.accuracy(xEval, yEval), Version: BetaVAEVersion, Settings: opts.settings()}, nil
}

// factorVAEPrune is disentanglement_lib's prune_dims threshold in its
// published configurations: code dimensions whose standard deviation over the
// data is below it are collapsed and take no votes.
const factorVAEPrune = 0.05

// FactorVAEScore is Kim & Mnih's (2018) metric as in disentanglement_lib:
// codes are scaled by their standard deviation over VarianceEstimate points;
// each vote fixes one factor k over BatchSize points and votes (dimension of
// least scaled variance, k); the classifier maps each dimension to the factor
// it got most votes for, fitted on Train votes and scored (majority-vote
// accuracy) on Eval votes. 0 when every dimension is collapsed.
func FactorVAEScore(gt GroundTruth, rep Representation, opts DisentanglementOptions) (Value, error) {
	if err := opts.check(); err != nil {
		return Value{}, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 2))
	sizes := gt.FactorSizes()
	_, codes, err := sampleCodes(gt, rep, opts.VarianceEstimate, rng)
	if err != nil {
		return Value{}, fmt.Errorf("factorvae score: %w", err)
	}
	_, d := codes.Dims()
	global := make([]float64, d)
	var active []int
	col := make([]float64, opts.VarianceEstimate)
	for j := range d {
		mat.Col(col, j, codes)
		global[j] = stat.Variance(col, nil)
		if math.Sqrt(global[j]) >= factorVAEPrune {
			active = append(active, j)
		}
	}
	v := Value{Name: "factorvae", Version: FactorVAEVersion, Settings: opts.settings()}
	v.Settings["active_dims"] = fmt.Sprint(len(active))
	if len(active) == 0 {
		return v, nil
	}
	votes := func(n int) ([][]int, error) {
		m := make([][]int, d)
		for j := range m {
			m[j] = make([]int, len(sizes))
		}
		local := make([]float64, opts.BatchSize)
		for range n {
			k := rng.IntN(len(sizes))
			f := sampleFactors(sizes, opts.BatchSize, rng)
			for i := range f {
				f[i][k] = f[0][k]
			}
			c, err := codesOf(gt, rep, f, rng)
			if err != nil {
				return nil, err
			}
			best, bestRatio := -1, math.Inf(1)
			for _, j := range active {
				mat.Col(local, j, c)
				if r := stat.Variance(local, nil) / global[j]; r < bestRatio {
					best, bestRatio = j, r
				}
			}
			m[best][k]++
		}
		return m, nil
	}
	train, err := votes(opts.Train)
	if err != nil {
		return Value{}, fmt.Errorf("factorvae score: %w", err)
	}
	eval, err := votes(opts.Eval)
	if err != nil {
		return Value{}, fmt.Errorf("factorvae score: %w", err)
	}
	right, total := 0, 0
	for j := range d {
		cls := 0
		for k := range sizes {
			if train[j][k] > train[j][cls] {
				cls = k
			}
		}
		right += eval[j][cls]
		for _, c := range eval[j] {
			total += c
		}
	}
	v.Value = float64(right) / float64(total)
	return v, nil
}

// migBins is disentanglement_lib's number of histogram bins per code dimension.
const migBins = 20

// MIG is Chen et al.'s (2018) mutual information gap as in disentanglement_lib:
// each code dimension of Train points is discretized into 20 equal-width bins;
// for each factor, the gap between the two largest mutual informations with a
// code dimension, divided by the factor's entropy, averaged over factors. 1
// when each factor is captured by exactly one dimension, 0 for unrelated codes.
func MIG(gt GroundTruth, rep Representation, opts DisentanglementOptions) (Value, error) {
	if err := opts.check(); err != nil {
		return Value{}, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 3))
	factors, codes, err := sampleCodes(gt, rep, opts.Train, rng)
	if err != nil {
		return Value{}, fmt.Errorf("mig: %w", err)
	}
	_, d := codes.Dims()
	if d < 2 {
		return Value{}, errors.New("mig: needs at least 2 code dimensions")
	}
	sizes := gt.FactorSizes()
	binned := make([][]int, d)
	col := make([]float64, opts.Train)
	for j := range d {
		mat.Col(col, j, codes)
		binned[j] = histogramBins(col, migBins)
	}
	var gapSum float64
	for k, s := range sizes {
		y := factorColumn(factors, k)
		h := mutualInfo(y, s, y, s)
		mi := make([]float64, d)
		for j := range d {
			mi[j] = mutualInfo(binned[j], migBins, y, s)
		}
		slices.Sort(mi)
		if h > 0 {
			gapSum += (mi[d-1] - mi[d-2]) / h
		}
	}
	return Value{Name: "mig", Value: gapSum / float64(len(sizes)), Version: MIGVersion, Settings: mapWith(opts.settings(), "bins", fmt.Sprint(migBins))}, nil
}

func mapWith(m map[string]string, k, v string) map[string]string {
	m[k] = v
	return m
}

// histogramBins assigns values to n equal-width bins over their range, 0..n−1
// (numpy's histogram edges then digitize, as disentanglement_lib does).
func histogramBins(v []float64, n int) []int {
	lo, hi := slices.Min(v), slices.Max(v)
	out := make([]int, len(v))
	if hi == lo {
		return out
	}
	w := (hi - lo) / float64(n)
	for i, x := range v {
		out[i] = min(int((x-lo)/w), n-1)
	}
	return out
}

// mutualInfo is the mutual information in nats between two discrete
// variables observed together (a with na values, b with nb); mutualInfo(y, y)
// is y's entropy.
func mutualInfo(a []int, na int, b []int, nb int) float64 {
	joint := make([]float64, na*nb)
	pa, pb := make([]float64, na), make([]float64, nb)
	n := float64(len(a))
	for i := range a {
		joint[a[i]*nb+b[i]]++
		pa[a[i]]++
		pb[b[i]]++
	}
	var mi float64
	for i := range na {
		for j := range nb {
			if c := joint[i*nb+j]; c > 0 {
				mi += c / n * math.Log(c*n/(pa[i]*pb[j]))
			}
		}
	}
	return mi
}

// SAP is Kumar et al.'s (2018) separated attribute predictability as in
// disentanglement_lib (discrete factors): for every (code dimension, factor)
// a classifier predicts the factor from that one dimension, fitted on Train
// points and scored by accuracy on Eval points; SAP is the mean over factors
// of the gap between the two best dimensions. disentanglement_lib's
// classifier is a linear SVM (C = 0.01, balanced classes); this one is
// multinomial logistic regression, also linear on one feature (the factors
// are sampled uniformly, so classes are balanced already). Higher is better;
// 0 for unrelated codes. A factor whose values are not linearly separable
// along one dimension (e.g. more than two classes on a line) gets less than
// 1 even from a perfect code, as with the SVM.
func SAP(gt GroundTruth, rep Representation, opts DisentanglementOptions) (Value, error) {
	if err := opts.check(); err != nil {
		return Value{}, err
	}
	fTrain, cTrain, fEval, cEval, err := trainEvalCodes(gt, rep, opts, 4)
	if err != nil {
		return Value{}, fmt.Errorf("sap: %w", err)
	}
	_, d := cTrain.Dims()
	if d < 2 {
		return Value{}, errors.New("sap: needs at least 2 code dimensions")
	}
	sizes := gt.FactorSizes()
	var sum float64
	for k, s := range sizes {
		yTrain, yEval := factorColumn(fTrain, k), factorColumn(fEval, k)
		acc := make([]float64, d)
		for j := range d {
			clf, err := fitLogistic(cTrain.Slice(0, opts.Train, j, j+1), yTrain, s, 1/float64(opts.Train))
			if err != nil {
				return Value{}, fmt.Errorf("sap: %w", err)
			}
			acc[j] = clf.accuracy(cEval.Slice(0, opts.Eval, j, j+1), yEval)
		}
		slices.Sort(acc)
		sum += acc[d-1] - acc[d-2]
	}
	return Value{Name: "sap", Value: sum / float64(len(sizes)), Version: SAPVersion, Settings: opts.settings()}, nil
}

// dciAlpha is the lasso penalty of DCI's importances, on standardized codes
// and factors: above the chance correlation of an unrelated dimension with a
// factor at a few hundred points (~1/√n), so noise gets no importance (a
// random code then scores 0 rather than the high D and C that a few noise
// coefficients would give), and small enough to keep a dimension that
// carries a factor (correlation near 1, coefficient ≈ 1 − alpha). Dimensions
// correlated less than 0.1 with every factor count as carrying none.
const dciAlpha = 0.1

// DCIScores are Eastwood & Williams' (2018) disentanglement, completeness
// and informativeness.
type DCIScores struct {
	Disentanglement, Completeness, Informativeness Value
}

// DCI computes Eastwood & Williams' (2018) scores with the lasso regressor of
// their paper (disentanglement_lib uses gradient-boosted trees; Go has no
// maintained implementation, see classify.go): the importance of code
// dimension j for factor k is |β_jk| of a lasso (alpha 0.1) predicting the
// standardized factor from the standardized codes on Train points.
// Disentanglement is 1 − the entropy (base: number of factors) of each
// dimension's importances, weighted by the dimension's share of all
// importance; completeness is 1 − the entropy (base: number of dimensions) of
// each factor's importances, weighted by the factor's share; as in
// disentanglement_lib. Informativeness is the mean accuracy on Eval points of
// a logistic regression predicting each factor from the codes (the lasso,
// being linear, would understate a code that is informative but nonlinear).
// A linear importance misses factors encoded non-monotonically (e.g. an angle
// as its sine and cosine): on such codes the scores are lower than with trees.
func DCI(gt GroundTruth, rep Representation, opts DisentanglementOptions) (DCIScores, error) {
	if err := opts.check(); err != nil {
		return DCIScores{}, err
	}
	fTrain, cTrain, fEval, cEval, err := trainEvalCodes(gt, rep, opts, 5)
	if err != nil {
		return DCIScores{}, fmt.Errorf("dci: %w", err)
	}
	_, d := cTrain.Dims()
	sizes := gt.FactorSizes()
	imp := mat.NewDense(d, len(sizes), nil)
	var info float64
	for k, s := range sizes {
		y := factorColumn(fTrain, k)
		yf := make([]float64, len(y))
		for i, v := range y {
			yf[i] = float64(v)
		}
		for j, b := range lassoCoefficients(cTrain, yf, dciAlpha) {
			imp.Set(j, k, math.Abs(b))
		}
		clf, err := fitLogistic(cTrain, y, s, 1/float64(opts.Train))
		if err != nil {
			return DCIScores{}, fmt.Errorf("dci: %w", err)
		}
		info += clf.accuracy(cEval, factorColumn(fEval, k))
	}
	dis, comp := dciFromImportance(imp)
	st := mapWith(opts.settings(), "alpha", fmt.Sprint(dciAlpha))
	return DCIScores{
		Disentanglement: Value{Name: "dci_disentanglement", Value: dis, Version: DCIVersion, Settings: st},
		Completeness:    Value{Name: "dci_completeness", Value: comp, Version: DCIVersion, Settings: st},
		Informativeness: Value{Name: "dci_informativeness", Value: info / float64(len(sizes)), Version: DCIVersion, Settings: st},
	}, nil
}

// dciFromImportance turns an importance matrix [codes, factors] into
// disentanglement and completeness (disentanglement_lib's formulas, with its
// 1e-11 added before normalizing).
func dciFromImportance(imp *mat.Dense) (disentanglement, completeness float64) {
	d, f := imp.Dims()
	total := mat.Sum(imp)
	if total == 0 {
		return 0, 0
	}
	row := make([]float64, f)
	for j := range d {
		var s float64
		for k := range f {
			row[k] = imp.At(j, k) + 1e-11
			s += imp.At(j, k)
		}
		disentanglement += (1 - entropyBase(row, f)) * s / total
	}
	col := make([]float64, d)
	for k := range f {
		var s float64
		for j := range d {
			col[j] = imp.At(j, k) + 1e-11
			s += imp.At(j, k)
		}
		completeness += (1 - entropyBase(col, d)) * s / total
	}
	return disentanglement, completeness
}

// entropyBase is the entropy of the normalized weights w in base b (1 when b = 1).
func entropyBase(w []float64, b int) float64 {
	if b < 2 {
		return 0
	}
	var s float64
	for _, x := range w {
		s += x
	}
	var h float64
	for _, x := range w {
		if p := x / s; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return h / math.Log(float64(b))
}
