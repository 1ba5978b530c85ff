package eval

import (
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// Project2D returns the rows of x projected on their first two principal
// components (gonum's stat.PC, centred), [n, 2], and the fraction of variance
// each explains. PCA only: the Go t-SNE and UMAP packages the module proxy
// serves (e.g. github.com/danaugrs/go-tsne, last commit July 2020, untagged)
// are unmaintained, so vaexp does not depend on them.
func Project2D(x mat.Matrix) (proj *mat.Dense, explained [2]float64, err error) {
	n, d := x.Dims()
	if n < 2 || d < 2 {
		return nil, explained, fmt.Errorf("2-D projection of %d×%d: need at least 2 rows and 2 columns", n, d)
	}
	var pc stat.PC
	if !pc.PrincipalComponents(x, nil) {
		return nil, explained, errors.New("2-D projection: PCA (SVD) did not converge")
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	vars := pc.VarsTo(nil)
	var total float64
	for _, v := range vars {
		total += v
	}
	if total > 0 {
		explained = [2]float64{vars[0] / total, vars[1] / total}
	}
	means := make([]float64, d)
	col := make([]float64, n)
	for j := range d {
		mat.Col(col, j, x)
		means[j] = stat.Mean(col, nil)
	}
	centred := mat.NewDense(n, d, nil)
	for i := range n {
		for j := range d {
			centred.Set(i, j, x.At(i, j)-means[j])
		}
	}
	proj = mat.NewDense(n, 2, nil)
	proj.Mul(centred, vecs.Slice(0, d, 0, 2))
	return proj, explained, nil
}
