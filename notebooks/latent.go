package notebooks

import (
	"fmt"
	"math"

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

// CodeStats summarizes how codes ([n][d]) fill the latent space: the mean
// standard deviation of a coordinate, and the KL divergence (nats) from a
// Gaussian fitted to the codes, N(μ, Σ) with their mean and covariance, to the
// standard normal prior, ½(tr Σ + μᵀμ − d − log det Σ). A VAE's KL term pulls
// the second toward 0; an autoencoder's codes can sit anywhere, so sampling it
// from N(0, I) decodes codes it never saw.
func CodeStats(codes [][]float32) (meanStd, klToPrior float64, err error) {
	n := len(codes)
	if n < 2 {
		return 0, 0, fmt.Errorf("code stats: %d codes; need at least 2", n)
	}
	d := len(codes[0])
	data := mat.NewDense(n, d, nil)
	for i, c := range codes {
		if len(c) != d {
			return 0, 0, fmt.Errorf("code stats: code %d has %d values, code 0 has %d", i, len(c), d)
		}
		for j, v := range c {
			data.Set(i, j, float64(v))
		}
	}
	cov := mat.NewSymDense(d, nil)
	stat.CovarianceMatrix(cov, data, nil)
	var trace, meanSq float64
	for j := 0; j < d; j++ {
		trace += cov.At(j, j)
		meanStd += math.Sqrt(cov.At(j, j)) / float64(d)
		m := stat.Mean(mat.Col(nil, j, data), nil)
		meanSq += m * m
	}
	var chol mat.Cholesky
	if !chol.Factorize(cov) {
		return meanStd, math.Inf(1), nil // degenerate codes: infinitely far from N(0, I)
	}
	return meanStd, 0.5 * (trace + meanSq - float64(d) - chol.LogDet()), nil
}

// KNNAccuracy is the fraction of query codes whose k nearest reference codes
// (Euclidean) vote for the query's own label, ties going to the nearest: how
// well the latent space groups digits of a class, without training a classifier.
func KNNAccuracy(ref [][]float32, refLabels []int, query [][]float32, queryLabels []int, k int) (float64, error) {
	if len(ref) != len(refLabels) || len(query) != len(queryLabels) {
		return 0, fmt.Errorf("knn: %d reference codes with %d labels, %d queries with %d labels", len(ref), len(refLabels), len(query), len(queryLabels))
	}
	if k < 1 || k > len(ref) || len(query) == 0 {
		return 0, fmt.Errorf("knn: k=%d with %d reference codes and %d queries", k, len(ref), len(query))
	}
	type neighbour struct {
		dist  float64
		label int
	}
	correct := 0
	near := make([]neighbour, 0, k+1)
	for qi, q := range query {
		near = near[:0]
		for ri, r := range ref {
			var dist float64
			for j := range q {
				diff := float64(q[j] - r[j])
				dist += diff * diff
			}
			if len(near) == k && dist >= near[k-1].dist {
				continue
			}
			// Insert in order, dropping the farthest beyond k.
			pos := len(near)
			for pos > 0 && near[pos-1].dist > dist {
				pos--
			}
			near = append(near, neighbour{})
			copy(near[pos+1:], near[pos:])
			near[pos] = neighbour{dist, refLabels[ri]}
			if len(near) > k {
				near = near[:k]
			}
		}
		votes := map[int]int{}
		most := 0
		for _, nb := range near {
			votes[nb.label]++
			most = max(most, votes[nb.label])
		}
		best := near[0].label
		for _, nb := range near { // nearest first: a tie goes to the nearest label
			if votes[nb.label] == most {
				best = nb.label
				break
			}
		}
		if best == queryLabels[qi] {
			correct++
		}
	}
	return float64(correct) / float64(len(query)), nil
}

// PathSteps measures a decoded path (frames, e.g. the images along an
// interpolation): the mean Euclidean distance between consecutive frames, and
// the largest such distance over the mean. A path that changes evenly has a
// ratio near 1; one that jumps from one image to another in a single step
// has a ratio near the number of steps.
func PathSteps(frames [][]float32) (mean, maxOverMean float64, err error) {
	if len(frames) < 2 {
		return 0, 0, fmt.Errorf("path: %d frames; need at least 2", len(frames))
	}
	var sum, top float64
	for i := 1; i < len(frames); i++ {
		if len(frames[i]) != len(frames[0]) {
			return 0, 0, fmt.Errorf("path: frame %d has %d values, frame 0 has %d", i, len(frames[i]), len(frames[0]))
		}
		var d float64
		for k, v := range frames[i] {
			e := float64(v - frames[i-1][k])
			d += e * e
		}
		d = math.Sqrt(d)
		sum += d
		top = math.Max(top, d)
	}
	mean = sum / float64(len(frames)-1)
	if mean == 0 {
		return 0, 1, nil
	}
	return mean, top / mean, nil
}
