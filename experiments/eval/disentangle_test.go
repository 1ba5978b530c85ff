package eval

import (
	"math/rand/v2"
	"testing"
)

// gridFactors is a synthetic ground truth: the observation of a factor row
// is the row itself as floats (a "renderer" that keeps every factor).
type gridFactors struct{ sizes []int }

func (g gridFactors) FactorSizes() []int { return g.sizes }

func (g gridFactors) Observations(factors [][]int, _ *rand.Rand) ([][]float32, error) {
	out := make([][]float32, len(factors))
	for i, f := range factors {
		out[i] = make([]float32, len(f))
		for k, v := range f {
			out[i][k] = float32(v)
		}
	}
	return out, nil
}

// linearCode returns a representation whose dimension j is scale[j]·factor perm[j] + shift[j].
func linearCode(perm []int, scale, shift []float64) Representation {
	return func(obs [][]float32) ([][]float64, error) {
		out := make([][]float64, len(obs))
		for i, o := range obs {
			out[i] = make([]float64, len(perm))
			for j, k := range perm {
				out[i][j] = scale[j]*float64(o[k]) + shift[j]
			}
		}
		return out, nil
	}
}

// randomCode ignores the observations.
func randomCode(dims int, seed uint64) Representation {
	rng := rand.New(rand.NewPCG(seed, 99))
	return func(obs [][]float32) ([][]float64, error) {
		out := make([][]float64, len(obs))
		for i := range obs {
			out[i] = make([]float64, dims)
			for j := range out[i] {
				out[i][j] = rng.NormFloat64()
			}
		}
		return out, nil
	}
}

// TestDisentanglementKnownCodes scores three codes of a 3-factor ground
// truth with every metric: the factors themselves, the factors permuted and
// rescaled (every score must be unchanged: the metrics are invariant to the
// order and scale of dimensions), and a code unrelated to the factors.
func TestDisentanglementKnownCodes(t *testing.T) {
	gt := gridFactors{sizes: []int{3, 4, 5}}
	opts := DisentanglementOptions{Train: 600, Eval: 400, BatchSize: 16, VarianceEstimate: 1000, Seed: 7}
	identity := linearCode([]int{0, 1, 2}, []float64{1, 1, 1}, []float64{0, 0, 0})
	permuted := linearCode([]int{2, 0, 1}, []float64{10, -0.3, 2.5}, []float64{1, 7, -4})
	random := randomCode(3, 5)
	// SAP's best possible value is the mean over factors of 1 − the accuracy
	// of the second-best dimension, which is unrelated to the factor: chance, 1/size.
	sapMax := ((1 - 1.0/3) + (1 - 1.0/4) + (1 - 1.0/5)) / 3

	type scores map[string]float64
	run := func(t *testing.T, rep Representation) scores {
		out := scores{}
		for name, fn := range map[string]func(GroundTruth, Representation, DisentanglementOptions) (Value, error){
			"betavae": BetaVAEScore, "factorvae": FactorVAEScore, "mig": MIG, "sap": SAP,
		} {
			v, err := fn(gt, rep, opts)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v.Version == "" || v.Settings["train"] != "600" {
				t.Errorf("%s: version %q settings %v", name, v.Version, v.Settings)
			}
			out[name] = v.Value
		}
		dci, err := DCI(gt, rep, opts)
		if err != nil {
			t.Fatal(err)
		}
		out["dci_d"], out["dci_c"], out["dci_i"] = dci.Disentanglement.Value, dci.Completeness.Value, dci.Informativeness.Value
		return out
	}
	check := func(t *testing.T, got scores, want scores, tol float64) {
		t.Helper()
		for k, w := range want {
			near(t, k, got[k], w, tol)
		}
	}
	perfect := scores{"betavae": 1, "factorvae": 1, "mig": 1, "sap": sapMax, "dci_d": 1, "dci_c": 1, "dci_i": 1}
	var idScores scores
	t.Run("factors", func(t *testing.T) {
		idScores = run(t, identity)
		check(t, idScores, perfect, 0.05)
	})
	t.Run("permuted and rescaled", func(t *testing.T) {
		got := run(t, permuted)
		check(t, got, perfect, 0.05)
		for k, v := range idScores {
			near(t, k+" against the unpermuted code", got[k], v, 0.03)
		}
	})
	t.Run("random", func(t *testing.T) {
		got := run(t, random)
		// BetaVAE and FactorVAE are classification accuracies: chance is
		// about 1/3 for 3 factors; the others are ≈ 0.
		check(t, got, scores{"betavae": 1.0 / 3, "factorvae": 1.0 / 3}, 0.1)
		check(t, got, scores{"mig": 0, "sap": 0, "dci_d": 0, "dci_c": 0}, 0.1)
		if got["dci_i"] > 0.45 {
			t.Errorf("informativeness of a random code = %v, want near chance", got["dci_i"])
		}
	})
	t.Run("options checked", func(t *testing.T) {
		if _, err := MIG(gt, identity, DisentanglementOptions{}); err == nil {
			t.Error("zero options accepted")
		}
	})
}

// TestDCIFromImportance checks the formulas on hand-made importance matrices.
func TestDCIFromImportance(t *testing.T) {
	d, c := dciFromImportance(matFrom([][]float64{{1, 0}, {0, 1}}))
	near(t, "diagonal D", d, 1, 1e-6)
	near(t, "diagonal C", c, 1, 1e-6)
	d, c = dciFromImportance(matFrom([][]float64{{1, 1}, {1, 1}}))
	near(t, "uniform D", d, 0, 1e-6)
	near(t, "uniform C", c, 0, 1e-6)
	// One dimension captures both factors: not disentangled, but complete.
	d, c = dciFromImportance(matFrom([][]float64{{1, 1}, {0, 0}}))
	near(t, "shared D", d, 0, 1e-6)
	near(t, "shared C", c, 1, 1e-6)
}
