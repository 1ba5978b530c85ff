//go:build !goexperiment.simd

package iwae

import "math"

// simdBuild reports whether the element-wise steps are vectorized.
const simdBuild = false

func activate(x []float32, act Activation) { activateScalar(x, act) }

func bernoulliLogLik(l, xm []float32) float32 { return bernoulliLogLikScalar(l, xm) }

func normalBlocks(out []float32, key, b0 uint32) {
	for b := 0; b*blockSize < len(out); b++ {
		normalBlockScalar(out[b*blockSize:(b+1)*blockSize], key, b0+uint32(b))
	}
}

func logWeightPrior(z, eps, mu, sigma []float32, rows int, halfLogVar float32, withPrior bool, out []float64) {
	d := len(mu)
	for r := 0; r < rows; r++ {
		s := 0.0
		for i := 0; i < d; i++ {
			e := float64(eps[r*d+i])
			zv := float32(float64(mu[i]) + float64(sigma[i])*e)
			z[r*d+i] = zv
			s += 0.5 * e * e
			if withPrior {
				s -= 0.5 * float64(zv) * float64(zv)
			}
		}
		out[r] = s + float64(halfLogVar)
	}
}

func sampleGaussian(z, eps, params []float32, ld, dim, rows int, top bool, lw []float64) {
	for r := 0; r < rows; r++ {
		for i := 0; i < dim; i++ {
			mu, lv, e := float64(params[r*ld+i]), float64(params[r*ld+dim+i]), float64(eps[r*dim+i])
			zv := mu + math.Exp(0.5*lv)*e
			z[r*dim+i] = float32(zv)
			lw[r] += 0.5*e*e + 0.5*lv
			if top {
				lw[r] -= 0.5 * zv * zv
			}
		}
	}
}

func gaussianLogDensity(z, params []float32, ld, dim, rows int, lw []float64) {
	for r := 0; r < rows; r++ {
		for i := 0; i < dim; i++ {
			mu, lv := float64(params[r*ld+i]), float64(params[r*ld+dim+i])
			d := float64(z[r*dim+i]) - mu
			lw[r] -= 0.5*d*d*math.Exp(-lv) + 0.5*lv
		}
	}
}
