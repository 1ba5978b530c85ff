package experiments

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/vaexp/vaexp/experiments/data"
	"github.com/vaexp/vaexp/experiments/eval"
)

// DisentanglementMetrics are the `vaexp eval` metrics scored on a data set's
// ground-truth factors (disentanglement_lib's set).
var DisentanglementMetrics = []string{"betavae", "factorvae", "mig", "sap", "dci"}

// groundTruth adapts a data set that renders any factor combination (the
// shapes data sets) to the disentanglement metrics' interface.
type groundTruth struct {
	desc     data.Description
	renderer data.Renderer
}

// FactorSizes implements eval.GroundTruth.
func (g groundTruth) FactorSizes() []int {
	sizes := make([]int, len(g.desc.Factors))
	for i, f := range g.desc.Factors {
		sizes[i] = len(f.Values)
	}
	return sizes
}

// Observations implements eval.GroundTruth: every factor is given, so rng is unused.
func (g groundTruth) Observations(factors [][]int, _ *rand.Rand) ([][]float32, error) {
	out := make([][]float32, len(factors))
	for i, f := range factors {
		if len(f) != len(g.desc.Factors) {
			return nil, fmt.Errorf("factor row %d has %d values, the data set has %d factors", i, len(f), len(g.desc.Factors))
		}
		out[i] = make([]float32, g.desc.Shape.Size())
		g.renderer.Render(f, out[i])
	}
	return out, nil
}

// groundTruthOf returns the run's data set as ground truth, or why it has none.
func (t *Trained) groundTruthOf() (groundTruth, error) {
	ds, err := data.Get(t.Data.Name)
	if err != nil {
		return groundTruth{}, err
	}
	r, ok := ds.(data.Renderer)
	if !ok || len(t.Data.Factors) == 0 {
		return groundTruth{}, fmt.Errorf("data set %s has no ground-truth factors to render (train on shapes or shapes-32)", t.Data.Name)
	}
	return groundTruth{desc: t.Data, renderer: r}, nil
}

// disentanglement scores the run's encoder on its data set's factors.
func (t *Trained) disentanglement(metrics []string, opts eval.DisentanglementOptions, say func(string, ...any)) ([]eval.Value, error) {
	gt, err := t.groundTruthOf()
	if err != nil {
		return nil, err
	}
	rep := func(obs [][]float32) ([][]float64, error) {
		codes, err := t.Encode(Examples{Images: obs, Labels: make([]int, len(obs))})
		if err != nil {
			return nil, err
		}
		out := make([][]float64, len(codes))
		for i, c := range codes {
			out[i] = make([]float64, len(c))
			for j, v := range c {
				out[i][j] = float64(v)
			}
		}
		return out, nil
	}
	var out []eval.Value
	for _, m := range DisentanglementMetrics {
		if !slices.Contains(metrics, m) {
			continue
		}
		say("%s: scoring on %s's factors (%d train, %d eval points)", m, t.Data.Name, opts.Train, opts.Eval)
		var v eval.Value
		switch m {
		case "betavae":
			v, err = eval.BetaVAEScore(gt, rep, opts)
		case "factorvae":
			v, err = eval.FactorVAEScore(gt, rep, opts)
		case "mig":
			v, err = eval.MIG(gt, rep, opts)
		case "sap":
			v, err = eval.SAP(gt, rep, opts)
		case "dci":
			var d eval.DCIScores
			if d, err = eval.DCI(gt, rep, opts); err == nil {
				out = append(out, d.Disentanglement, d.Completeness, d.Informativeness)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m, err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		out = append(out, v)
	}
	return out, nil
}
