package experiments

import (
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/vaexp/vaexp/experiments/eval"
	"github.com/vaexp/vaexp/vae"
)

// activeUnitsPerLayer returns eval/active_units/z<i> for each stochastic
// layer of a family with several (vae.LayeredEncoder), nothing for others.
func (t *Trained) activeUnitsPerLayer(ex Examples, settings map[string]string) ([]eval.Value, error) {
	le, ok := t.Model.(vae.LayeredEncoder)
	if !ok {
		return nil, nil
	}
	var dims []int
	rows, err := t.perExample("encode layers", ex, func(scope *model.Scope, b vae.Batch) *graph.Node {
		z := le.EncodeLayers(scope, b)
		dims = dims[:0]
		for _, zi := range z {
			dims = append(dims, zi.Shape().Dimensions[1])
		}
		return graph.Concatenate(z, -1)
	})
	if err != nil {
		return nil, err
	}
	m := rowsMatrix(rows)
	var out []eval.Value
	at := 0
	for i, d := range dims {
		active, _, err := eval.ActiveUnits(m.Slice(0, len(rows), at, at+d), eval.ActiveUnitThreshold)
		if err != nil {
			return nil, err
		}
		out = append(out, eval.Value{Name: fmt.Sprintf("active_units/z%d", i+1), Value: float64(active),
			Version: eval.ActiveUnitsVersion, Settings: settings})
		at += d
	}
	return out, nil
}
