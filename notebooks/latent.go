package notebooks

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Project2D maps codes ([n][d]) to points in the plane for a scatter plot:
// the codes themselves when d = 2, otherwise their coordinates along the two
// principal components (gonum's stat.PC), the plane in which the codes vary
// most. It also returns the fraction of the codes' variance that plane holds.
func Project2D(codes [][]float32) (xs, ys []float64, explained float64, err error) {
	if len(codes) < 3 {
		return nil, nil, 0, fmt.Errorf("project: %d codes; need at least 3", len(codes))
	}
	d := len(codes[0])
	xs, ys = make([]float64, len(codes)), make([]float64, len(codes))
	if d == 2 {
		for i, c := range codes {
			xs[i], ys[i] = float64(c[0]), float64(c[1])
		}
		return xs, ys, 1, nil
	}
	if d < 2 {
		return nil, nil, 0, fmt.Errorf("project: codes have %d dimension; need at least 2", d)
	}
	data := mat.NewDense(len(codes), d, nil)
	for i, c := range codes {
		if len(c) != d {
			return nil, nil, 0, fmt.Errorf("project: code %d has %d values, code 0 has %d", i, len(c), d)
		}
		for j, v := range c {
			data.Set(i, j, float64(v))
		}
	}
	var pc stat.PC
	if !pc.PrincipalComponents(data, nil) {
		return nil, nil, 0, fmt.Errorf("project: principal components of %d×%d codes did not converge", len(codes), d)
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	var proj mat.Dense
	proj.Mul(data, vecs.Slice(0, d, 0, 2))
	for i := range codes {
		xs[i], ys[i] = proj.At(i, 0), proj.At(i, 1)
	}
	vars := pc.VarsTo(nil)
	var total float64
	for _, v := range vars {
		total += v
	}
	if total > 0 {
		explained = (vars[0] + vars[1]) / total
	}
	return xs, ys, explained, nil
}
