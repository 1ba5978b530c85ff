package iwae

import "math"

// The scalar forms of the element-wise steps: the tails the vector code
// leaves, the whole steps in builds without GOEXPERIMENT=simd, and the
// definition of the random stream.

const (
	// blockPairs is the number of Box–Muller pairs in one block of the
	// normal stream; blockSize the number of normals.
	blockPairs = 16
	blockSize  = 2 * blockPairs
)

func activateScalar(x []float32, act Activation) {
	for i, v := range x {
		switch act {
		case Tanh:
			x[i] = float32(math.Tanh(float64(v)))
		case Relu:
			x[i] = max(v, 0)
		}
	}
}

// bernoulliLogLikScalar is Σⱼ xⱼ·lⱼ − softplus(lⱼ) given xm = x − ½.
func bernoulliLogLikScalar(l, xm []float32) float32 {
	s := 0.0
	for j, v := range l {
		a := math.Abs(float64(v))
		s += float64(v)*float64(xm[j]) - 0.5*a - math.Log1p(math.Exp(-a))
	}
	return float32(s)
}

// hash32Scalar is Chris Wellons' triple32 integer hash.
func hash32Scalar(x uint32) uint32 {
	x ^= x >> 17
	x *= 0xed5ad4bb
	x ^= x >> 11
	x *= 0xac4c1b51
	x ^= x >> 15
	x *= 0x31848bab
	x ^= x >> 14
	return x
}

// normalBlockScalar writes block b of key's standard-normal stream into out
// (blockSize long). Pair p = b·blockPairs + i (i < blockPairs) hashes the
// counters 2p and 2p+1, each XORed with key, into two 32-bit words h1, h2:
// u = (h1>>8 + 1)/2^24 ∈ (0, 1] gives the radius r = √(−2 ln u), the low 30
// bits of h2 an angle t uniform in (−π/4, π/4) and its top two bits a
// quarter turn q, so θ = t + q·π/2 is uniform on the circle (Box–Muller):
// out[i] = r·cos θ and out[blockPairs+i] = r·sin θ. The vector code draws
// the same numbers (up to rounding) whatever its width.
func normalBlockScalar(out []float32, key, b uint32) {
	for i := uint32(0); i < blockPairs; i++ {
		p := b*blockPairs + i
		h1, h2 := hash32Scalar((2*p)^key), hash32Scalar((2*p+1)^key)
		u := float64(h1>>8+1) / (1 << 24)
		r := math.Sqrt(-2 * math.Log(u))
		t := (float64((h2&0x3fffffff)>>6)+0.5)/(1<<24) - 0.5
		theta := t*math.Pi/2 + float64(h2>>30)*math.Pi/2
		out[i] = float32(r * math.Cos(theta))
		out[blockPairs+i] = float32(r * math.Sin(theta))
	}
}
