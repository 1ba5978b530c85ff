package eval

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// PrecisionRecall returns the improved precision and recall of Kynkäänniemi
// et al. (2019) between real and generated feature sets (rows are samples):
// each set's manifold is the union of balls around its points, of radius the
// distance to the point's k-th nearest neighbour in the same set (k = 3 in the
// paper). Precision is the fraction of generated points inside the real
// manifold (how realistic the samples are), recall the fraction of real points
// inside the generated manifold (how much of the data is covered).
//
// Distances are exact (no approximate search): O(n·m·d) in blocks through
// gonum's pure-Go matrix product, four passes (two radii, two coverages):
// about 30 s for 10000 real against 10000 generated points of 128 features
// on two shared cores (BenchmarkPrecisionRecall), against 0.1 s for FID.
func PrecisionRecall(real, fake mat.Matrix, k int) (precision, recall float64, err error) {
	nr, dr := real.Dims()
	nf, df := fake.Dims()
	if dr != df {
		return 0, 0, fmt.Errorf("precision/recall: real features have %d columns, generated %d", dr, df)
	}
	if k < 1 || nr <= k || nf <= k {
		return 0, 0, fmt.Errorf("precision/recall: k=%d needs more than k points in each set (have %d real, %d generated)", k, nr, nf)
	}
	rr := kthNeighbourRadii(real, k)
	rf := kthNeighbourRadii(fake, k)
	precision = coverage(fake, real, rr)
	recall = coverage(real, fake, rf)
	return precision, recall, nil
}

// distanceBlock is how many query rows one block of squared distances holds.
const distanceBlock = 1024

// forDistances calls fn(i, d2) for each row i of q with d2 the squared
// Euclidean distances from q's row i to every row of p.
func forDistances(q, p mat.Matrix, fn func(i int, d2 []float64)) {
	nq, _ := q.Dims()
	np, _ := p.Dims()
	pn := rowSqNorms(p)
	qn := rowSqNorms(q)
	var prod mat.Dense
	for start := 0; start < nq; start += distanceBlock {
		end := min(start+distanceBlock, nq)
		block := subRows(q, start, end)
		prod.Reset()
		prod.Mul(block, p.T())
		for i := start; i < end; i++ {
			row := prod.RawRowView(i - start)
			for j := range np {
				row[j] = max(qn[i]+pn[j]-2*row[j], 0)
			}
			fn(i, row)
		}
	}
}

// kthNeighbourRadii returns, for each row of x, the distance to its k-th
// nearest other row.
func kthNeighbourRadii(x mat.Matrix, k int) []float64 {
	n, _ := x.Dims()
	radii := make([]float64, n)
	buf := make([]float64, n)
	forDistances(x, x, func(i int, d2 []float64) {
		copy(buf, d2)
		buf[i] = math.Inf(1) // not its own neighbour
		radii[i] = math.Sqrt(kthSmallest(buf, k))
	})
	return radii
}

// coverage is the fraction of rows of q within radii[j] of some row j of p.
func coverage(q, p mat.Matrix, radii []float64) float64 {
	nq, _ := q.Dims()
	r2 := make([]float64, len(radii))
	for j, r := range radii {
		r2[j] = r * r
	}
	inside := 0
	forDistances(q, p, func(_ int, d2 []float64) {
		for j, d := range d2 {
			if d <= r2[j] {
				inside++
				return
			}
		}
	})
	return float64(inside) / float64(nq)
}

// kthSmallest returns the k-th smallest value (1-based) of v, reordering v.
func kthSmallest(v []float64, k int) float64 {
	if k <= 8 {
		// A bounded insertion into the k smallest seen: one pass, no allocation.
		best := make([]float64, 0, k)
		for _, x := range v {
			if len(best) < k {
				best = append(best, x)
				slices.Sort(best)
			} else if x < best[k-1] {
				best[k-1] = x
				for i := k - 1; i > 0 && best[i] < best[i-1]; i-- {
					best[i], best[i-1] = best[i-1], best[i]
				}
			}
		}
		return best[k-1]
	}
	slices.Sort(v)
	return v[k-1]
}

func rowSqNorms(x mat.Matrix) []float64 {
	n, d := x.Dims()
	out := make([]float64, n)
	for i := range n {
		var s float64
		for j := range d {
			v := x.At(i, j)
			s += v * v
		}
		out[i] = s
	}
	return out
}

// subRows returns rows [start, end) of x (a view when x is a *mat.Dense).
func subRows(x mat.Matrix, start, end int) mat.Matrix {
	_, d := x.Dims()
	if dense, ok := x.(*mat.Dense); ok {
		return dense.Slice(start, end, 0, d)
	}
	out := mat.NewDense(end-start, d, nil)
	for i := start; i < end; i++ {
		for j := range d {
			out.Set(i-start, j, x.At(i, j))
		}
	}
	return out
}
