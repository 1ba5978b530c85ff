package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.6g, want %.6g ± %.2g", what, got, want, tol)
	}
}

// randomSPD returns a random symmetric positive definite d×d matrix.
func randomSPD(rng *rand.Rand, d int) *mat.SymDense {
	a := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	s := mat.NewSymDense(d, nil)
	s.SymOuterK(1, a)
	for i := range d {
		s.SetSym(i, i, s.At(i, i)+0.1)
	}
	return s
}

// gaussianSample draws n rows from N(mean, L Lᵀ).
func gaussianSample(rng *rand.Rand, n int, mean []float64, l mat.Matrix) *mat.Dense {
	d := len(mean)
	z := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			z.Set(i, j, rng.NormFloat64())
		}
	}
	var x mat.Dense
	x.Mul(z, l.T())
	for i := range n {
		for j := range d {
			x.Set(i, j, x.At(i, j)+mean[j])
		}
	}
	return &x
}

func TestFrechetDistanceClosedForms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s1 := randomSPD(rng, 6)
	scaled := mat.NewSymDense(6, nil)
	scaled.ScaleSym(4, s1)
	mean := []float64{1, -2, 0.5, 0, 3, 1}
	zero := make([]float64, 6)
	dm := 0.0
	for _, m := range mean {
		dm += m * m
	}
	diag := func(v ...float64) *mat.SymDense {
		s := mat.NewSymDense(len(v), nil)
		for i, x := range v {
			s.SetSym(i, i, x)
		}
		return s
	}
	for _, tc := range []struct {
		name string
		a, b Gaussian
		want float64
	}{
		{"identical", Gaussian{mean, s1}, Gaussian{mean, s1}, 0},
		{"mean shift only", Gaussian{mean, s1}, Gaussian{zero, s1}, dm},
		// Σ₂ = cΣ₁: tr(Σ₁Σ₂)^½ = √c tr Σ₁, so the distance is (1 − √c)² tr Σ₁.
		{"scaled covariance", Gaussian{zero, s1}, Gaussian{zero, scaled}, mat.Trace(s1)},
		// Diagonal: Σ (√a − √b)² plus the mean term.
		{"diagonal", Gaussian{[]float64{0, 1}, diag(4, 9)}, Gaussian{[]float64{2, 1}, diag(1, 16)}, 4 + 1 + 1},
		// Singular covariances (rank 1) are fine: no regularization needed.
		{"singular", Gaussian{[]float64{0, 0}, diag(1, 0)}, Gaussian{[]float64{0, 0}, diag(0, 1)}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FrechetDistance(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "distance", got, tc.want, 1e-8*math.Max(1, tc.want))
		})
	}
	if _, err := FrechetDistance(Gaussian{zero, s1}, Gaussian{[]float64{0}, diag(1)}); err == nil {
		t.Error("mismatched dimensions accepted")
	}
}

func TestFrechetNonCommutingAgainstSymmetricFormula(t *testing.T) {
	// For non-commuting Σ₁, Σ₂ check tr(Σ₁Σ₂)^½ through an independent route:
	// the eigenvalues of Σ₁Σ₂ (non-symmetric, gonum's general Eigen) are real
	// and non-negative, and tr(Σ₁Σ₂)^½ = Σ √λ.
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randomSPD(rng, 5), randomSPD(rng, 5)
	var prod mat.Dense
	prod.Mul(a, b)
	var eig mat.Eigen
	if !eig.Factorize(&prod, mat.EigenNone) {
		t.Fatal("eigen failed")
	}
	var tr float64
	for _, v := range eig.Values(nil) {
		tr += math.Sqrt(real(v))
	}
	want := mat.Trace(a) + mat.Trace(b) - 2*tr
	zero := make([]float64, 5)
	got, err := FrechetDistance(Gaussian{zero, a}, Gaussian{zero, b})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "distance", got, want, 1e-8*want)
}

func TestFrechetFeaturesSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := 8
	l := mat.NewDense(d, d, nil)
	for i := range d {
		for j := 0; j <= i; j++ {
			l.Set(i, j, rng.NormFloat64()*0.5)
		}
		l.Set(i, i, 1)
	}
	mean := make([]float64, d)
	x := gaussianSample(rng, 20000, mean, l)
	half1, half2 := x.Slice(0, 10000, 0, d), x.Slice(10000, 20000, 0, d)
	same, err := FrechetFeatures(half1, half2)
	if err != nil {
		t.Fatal(err)
	}
	// The estimator's bias for n = 10000, d = 8 is about d(d+1)/n ≈ 0.01.
	if same < 0 || same > 0.05 {
		t.Errorf("two halves of one sample: %v, want ≈ 0", same)
	}
	shifted := make([]float64, d)
	shifted[0] = 1
	y := gaussianSample(rng, 10000, shifted, l)
	moved, err := FrechetFeatures(half1, y)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "distance to a sample shifted by 1", moved, 1, 0.1)
}

func TestInceptionScore(t *testing.T) {
	oneHot := func(n, k int, class func(i int) int) *mat.Dense {
		p := mat.NewDense(n, k, nil)
		for i := range n {
			p.Set(i, class(i), 1)
		}
		return p
	}
	uniform := mat.NewDense(100, 10, nil)
	for i := range 100 {
		for j := range 10 {
			uniform.Set(i, j, 0.1)
		}
	}
	for _, tc := range []struct {
		name  string
		probs *mat.Dense
		want  float64
	}{
		{"confident, every class equally often", oneHot(1000, 10, func(i int) int { return i % 10 }), 10},
		{"confident, one class", oneHot(1000, 10, func(int) int { return 3 }), 1},
		{"confident, two classes", oneHot(1000, 10, func(i int) int { return i % 2 }), 2},
		{"uniform predictions", uniform, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InceptionScore(tc.probs)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "IS", got, tc.want, 1e-9)
		})
	}
	bad := mat.NewDense(2, 2, []float64{0.5, 0.6, 1, 0})
	if _, err := InceptionScore(bad); err == nil {
		t.Error("a row summing to 1.1 was accepted")
	}
}

// cloud draws n points uniformly in the d-ball of radius r around centre.
func cloud(rng *rand.Rand, n int, centre []float64, r float64) *mat.Dense {
	d := len(centre)
	x := mat.NewDense(n, d, nil)
	for i := range n {
		var norm float64
		v := make([]float64, d)
		for j := range v {
			v[j] = rng.NormFloat64()
			norm += v[j] * v[j]
		}
		scale := r * math.Pow(rng.Float64(), 1/float64(d)) / math.Sqrt(norm)
		for j := range v {
			x.Set(i, j, centre[j]+v[j]*scale)
		}
	}
	return x
}

func TestPrecisionRecallSyntheticClouds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 2000
	real := cloud(rng, n, []float64{0, 0}, 1)
	for _, tc := range []struct {
		name              string
		fake              *mat.Dense
		precision, recall float64
		tol               float64
	}{
		// Same distribution: both near 1 (k-NN balls cover almost all of a
		// fresh sample from the same disc).
		{"same distribution", cloud(rng, n, []float64{0, 0}, 1), 1, 1, 0.05},
		// Far apart: no overlap at all.
		{"disjoint", cloud(rng, n, []float64{10, 0}, 1), 0, 0, 0},
		// Generated points cover only the inner disc of radius 0.5: all
		// realistic (precision 1), a quarter of the data covered (recall ¼).
		{"mode dropping", cloud(rng, n, []float64{0, 0}, 0.5), 1, 0.25, 0.05},
		// Generated disc of radius 2: a quarter of the samples realistic,
		// all the data covered.
		{"too broad", cloud(rng, n, []float64{0, 0}, 2), 0.25, 1, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, r, err := PrecisionRecall(real, tc.fake, 3)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "precision", p, tc.precision, tc.tol)
			near(t, "recall", r, tc.recall, tc.tol)
		})
	}
	if _, _, err := PrecisionRecall(real, mat.NewDense(3, 2, nil), 3); err == nil {
		t.Error("k = 3 with 3 generated points accepted")
	}
}

// aurocRank is the Mann–Whitney form of the AUROC, an independent check:
// the fraction of (positive, negative) pairs ranked right, ties counting ½.
func aurocRank(scores []float64, pos []bool) float64 {
	var right, pairs float64
	for i := range scores {
		for j := range scores {
			if pos[i] && !pos[j] {
				pairs++
				switch {
				case scores[i] > scores[j]:
					right++
				case scores[i] == scores[j]:
					right += 0.5
				}
			}
		}
	}
	return right / pairs
}

func TestAUROC(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scores []float64
		pos    []bool
		want   float64
	}{
		{"perfect", []float64{0.1, 0.2, 0.8, 0.9}, []bool{false, false, true, true}, 1},
		{"inverted", []float64{0.9, 0.8, 0.2, 0.1}, []bool{false, false, true, true}, 0},
		{"all tied", []float64{1, 1, 1, 1}, []bool{false, true, false, true}, 0.5},
		{"one tie across classes", []float64{0.1, 0.5, 0.5, 0.9}, []bool{false, false, true, true}, 0.875},
		{"interleaved", []float64{1, 2, 3, 4}, []bool{false, true, false, true}, 0.75},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AUROC(tc.scores, tc.pos)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "AUROC", got, tc.want, 1e-12)
			near(t, "rank statistic", aurocRank(tc.scores, tc.pos), tc.want, 1e-12)
		})
	}
	// Random scores with many ties: gonum's ROC + trapezoid equals the rank statistic.
	rng := rand.New(rand.NewPCG(9, 10))
	scores, pos := make([]float64, 500), make([]bool, 500)
	for i := range scores {
		pos[i] = rng.IntN(3) == 0
		scores[i] = float64(rng.IntN(20))
		if pos[i] {
			scores[i] += 3
		}
	}
	got, err := AUROC(scores, pos)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "AUROC with ties", got, aurocRank(scores, pos), 1e-12)
	if _, err := AUROC([]float64{1, 2}, []bool{true, true}); err == nil {
		t.Error("one class only accepted")
	}
}

func TestActiveUnitsAndKL(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const n = 5000
	means := mat.NewDense(n, 3, nil)
	logVars := mat.NewDense(n, 3, nil)
	for i := range n {
		means.Set(i, 0, rng.NormFloat64())          // active, variance 1
		means.Set(i, 1, 0.2+0.05*rng.NormFloat64()) // variance 0.0025: inactive
		means.Set(i, 2, 0)                          // collapsed
		logVars.Set(i, 0, math.Log(0.25))
		logVars.Set(i, 1, 0)
		logVars.Set(i, 2, 0)
	}
	active, activity, err := ActiveUnits(means, ActiveUnitThreshold)
	if err != nil {
		t.Fatal(err)
	}
	if active != 1 {
		t.Errorf("active units = %d (activity %v), want 1", active, activity)
	}
	near(t, "activity of dim 0", activity[0], 1, 0.05)
	near(t, "activity of dim 2", activity[2], 0, 0)
	kl, err := KLPerDim(means, logVars)
	if err != nil {
		t.Fatal(err)
	}
	// E[½(μ² + σ² − 1 − log σ²)] with E[μ²] = 1, σ² = ¼: ½(1 + ¼ − 1 + log 4).
	near(t, "KL of dim 0", kl[0], 0.5*(0.25+math.Log(4)), 0.05)
	near(t, "KL of dim 1", kl[1], 0.5*(0.04+0.0025), 0.002)
	near(t, "KL of collapsed dim", kl[2], 0, 0)
}

func TestProject2D(t *testing.T) {
	// Points on a line in 3-D (plus tiny noise): the first component explains
	// almost everything and the projection keeps the order along the line.
	rng := rand.New(rand.NewPCG(13, 14))
	n := 200
	x := mat.NewDense(n, 3, nil)
	for i := range n {
		s := float64(i)
		x.Set(i, 0, s+0.01*rng.NormFloat64())
		x.Set(i, 1, 2*s+0.01*rng.NormFloat64())
		x.Set(i, 2, -s+0.01*rng.NormFloat64())
	}
	proj, explained, err := Project2D(x)
	if err != nil {
		t.Fatal(err)
	}
	if explained[0] < 0.999 {
		t.Errorf("explained %v, want the first component ≈ 1", explained)
	}
	step := (proj.At(n-1, 0) - proj.At(0, 0)) / float64(n-1)
	near(t, "|step along the line|", math.Abs(step), math.Sqrt(6), 0.001)
	near(t, "mean of projection", mat.Sum(proj.ColView(0))/float64(n), 0, 1e-9)
}

func matFrom(rows [][]float64) *mat.Dense {
	m := mat.NewDense(len(rows), len(rows[0]), nil)
	for i, r := range rows {
		m.SetRow(i, r)
	}
	return m
}
