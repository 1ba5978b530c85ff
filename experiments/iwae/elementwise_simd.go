//go:build goexperiment.simd

package iwae

import (
	"math"
	"simd"
)

// The element-wise steps of the estimate, in Go's portable SIMD (one code
// for AVX2 and AVX-512, chosen by the Go runtime; GODEBUG=simd=256 forces
// 256-bit vectors). elementwise_scalar.go has the same functions in plain Go
// for builds without GOEXPERIMENT=simd.

// simdBuild reports whether the element-wise steps are vectorized.
const simdBuild = true

// lanes is the number of float32 lanes of a vector.
var lanes = simd.VectorBitSize() / 32

// laneIndex holds 0, 1, 2, … for building per-lane counters.
var laneIndex = func() []uint32 {
	out := make([]uint32, 64)
	for i := range out {
		out[i] = uint32(i)
	}
	return out
}()

// activate applies act to every element of x.
func activate(x []float32, act Activation) {
	if act == Identity {
		return
	}
	i := 0
	if act == Relu {
		zero := simd.BroadcastFloat32s(0)
		for ; i+lanes <= len(x); i += lanes {
			simd.LoadFloat32s(x[i:]).Max(zero).Store(x[i:])
		}
		activateScalar(x[i:], act)
		return
	}
	if asmEpilogues() {
		tanhBlock(x)
		activateScalar(x[len(x)/16*16:], act)
		return
	}
	// tanh|v| = (1 − e)/(1 + e) with e = exp(−2|v|) ∈ (0, 1], then v's sign.
	// The exponential is expNeg's, written out here: a call would spill
	// every vector register (Go's ABI saves none across calls).
	e := newExpConsts()
	one := simd.BroadcastFloat32s(1)
	signBit := simd.BroadcastUint32s(0x80000000)
	for ; i+lanes <= len(x); i += lanes {
		v := simd.LoadFloat32s(x[i:])
		a := v.Abs()
		a = a.Add(a).Min(e.max)
		y := a.Mul(e.negLog2E).Add(e.magic)
		n := y.Sub(e.magic)
		r := n.MulAdd(e.ln2Hi, a.Neg())
		r = n.MulAdd(e.ln2Lo, r)
		p := e.c6.MulAdd(r, e.c5).MulAdd(r, e.c4).MulAdd(r, e.c3).MulAdd(r, e.c2).MulAdd(r, one).MulAdd(r, one)
		ex := p.ToBits().Add(y.ToBits().ShiftAllLeft(23)).BitsToFloat32()
		t := one.Sub(ex).Div(one.Add(ex))
		t.ToBits().Or(v.ToBits().And(signBit)).BitsToFloat32().Store(x[i:])
	}
	activateScalar(x[i:], act)
}

// expConsts are expNeg's constants as vectors, built once per call of the
// functions that inline it.
type expConsts struct {
	max, negLog2E, magic, ln2Hi, ln2Lo, c2, c3, c4, c5, c6 simd.Float32s
}

func newExpConsts() expConsts {
	return expConsts{
		max:      simd.BroadcastFloat32s(87),
		negLog2E: simd.BroadcastFloat32s(-1.4426950408889634),
		magic:    simd.BroadcastFloat32s(12582912), // 1.5·2^23: adding it rounds to an integer, kept in the low mantissa bits
		ln2Hi:    simd.BroadcastFloat32s(-0.693359375),
		ln2Lo:    simd.BroadcastFloat32s(2.12194440e-4),
		c2:       simd.BroadcastFloat32s(1.0 / 2),
		c3:       simd.BroadcastFloat32s(1.0 / 6),
		c4:       simd.BroadcastFloat32s(1.0 / 24),
		c5:       simd.BroadcastFloat32s(1.0 / 120),
		c6:       simd.BroadcastFloat32s(1.0 / 720),
	}
}

// expNeg is e^−a for a >= 0 (a above 87 gives e^−87 ≈ 1.6e-38 instead of
// less): e^r·2^n with n = round(−a·log₂e) by the float32 rounding trick,
// r = −a − n·ln 2 ∈ [−½ ln 2, ½ ln 2] (ln 2 in two parts, as in Cephes, so
// that r keeps float32 precision) and e^r its degree-6 Taylor polynomial;
// relative error below 3e-7. The hot loops write it out inline.
func expNeg(a simd.Float32s) simd.Float32s {
	e := newExpConsts()
	one := simd.BroadcastFloat32s(1)
	a = a.Min(e.max)
	y := a.Mul(e.negLog2E).Add(e.magic)
	n := y.Sub(e.magic)
	r := n.MulAdd(e.ln2Hi, a.Neg())
	r = n.MulAdd(e.ln2Lo, r)
	p := e.c6.MulAdd(r, e.c5).MulAdd(r, e.c4).MulAdd(r, e.c3).MulAdd(r, e.c2).MulAdd(r, one).MulAdd(r, one)
	return p.ToBits().Add(y.ToBits().ShiftAllLeft(23)).BitsToFloat32()
}

// bernoulliLogLik is Σⱼ xⱼ·lⱼ − softplus(lⱼ), the log-probability of pixels x
// under Bernoulli logits l, given xm = x − ½ (len(xm) >= len(l)). It uses
// softplus(l) = ½(l + |l|) + log(1 + e^−|l|), so each pixel adds l·(x − ½)
// to one sum and |l| to another, and multiplies (1 + e^−|l|) ∈ (1, 2] into a
// product whose logarithm is taken once per 32 vectors: one logarithm per
// several hundred pixels instead of one each. expNeg is written out inline.
func bernoulliLogLik(l, xm []float32) float32 {
	if asmEpilogues() && len(l) >= 16 {
		return bernoulliLogLikAsm(l, xm)
	}
	e := newExpConsts()
	one := simd.BroadcastFloat32s(1)
	lin := simd.BroadcastFloat32s(0)
	abs, logs := lin, lin
	prod := one
	n, i := 0, 0
	for ; i+lanes <= len(l); i += lanes {
		v := simd.LoadFloat32s(l[i:])
		a := v.Abs()
		lin = v.MulAdd(simd.LoadFloat32s(xm[i:]), lin)
		abs = abs.Add(a)
		a = a.Min(e.max)
		y := a.Mul(e.negLog2E).Add(e.magic)
		k := y.Sub(e.magic)
		r := k.MulAdd(e.ln2Hi, a.Neg())
		r = k.MulAdd(e.ln2Lo, r)
		p := e.c6.MulAdd(r, e.c5).MulAdd(r, e.c4).MulAdd(r, e.c3).MulAdd(r, e.c2).MulAdd(r, one).MulAdd(r, one)
		ex := p.ToBits().Add(y.ToBits().ShiftAllLeft(23)).BitsToFloat32()
		prod = prod.MulAdd(ex, prod)
		if n++; n == 32 { // 2^32 at most: far from float32's 2^128
			logs = logs.Add(logFloat32(prod))
			prod, n = one, 0
		}
	}
	logs = logs.Add(logFloat32(prod))
	return reduceSum(lin) - 0.5*reduceSum(abs) - reduceSum(logs) + bernoulliLogLikScalar(l[i:], xm[i:len(l)])
}

// bernoulliLogLikAsm is bernoulliLogLik on the AVX-512 kernel: blocks of up
// to 32 vectors, whose products (at most 2^32) are logged here.
func bernoulliLogLikAsm(l, xm []float32) float32 {
	var out [48]float32
	nv := len(l) / 16
	var lin, abs float32
	logs := simd.BroadcastFloat32s(0)
	for v0 := 0; v0 < nv; v0 += 32 {
		end := min(v0+32, nv)
		bernoulliBlock(l[v0*16:end*16], xm[v0*16:end*16], &out)
		for j := 0; j < 16; j++ {
			lin += out[j]
			abs += out[16+j]
		}
		for j := 32; j < 48; j += lanes {
			logs = logs.Add(logFloat32(simd.LoadFloat32s(out[j:])))
		}
	}
	return lin - 0.5*abs - reduceSum(logs) + bernoulliLogLikScalar(l[nv*16:], xm[nv*16:len(l)])
}

// reduceSum adds a vector's lanes.
func reduceSum(v simd.Float32s) float32 {
	var buf [64]float32
	v.Store(buf[:])
	s := float32(0)
	for _, x := range buf[:lanes] {
		s += x
	}
	return s
}

// logFloat32 is the natural logarithm of positive normal numbers: Cephes'
// logf (frexp into m ∈ [√½, √2), then a degree-9 polynomial in m − 1),
// relative error about 1e-7.
func logFloat32(x simd.Float32s) simd.Float32s {
	bits := x.ToBits()
	e := bits.ShiftAllRight(23).BitsToInt32().ConvertToFloat32().Sub(simd.BroadcastFloat32s(126))
	m := bits.And(simd.BroadcastUint32s(0x807fffff)).Or(simd.BroadcastUint32s(0x3f000000)).BitsToFloat32() // [0.5, 1)
	small := m.Less(simd.BroadcastFloat32s(0.70710678))
	one := simd.BroadcastFloat32s(1)
	e = e.Sub(one.Masked(small))
	m = m.Add(m.Masked(small)).Sub(one) // m − 1, or 2m − 1 below √½
	z := m.Mul(m)
	y := simd.BroadcastFloat32s(7.0376836292e-2)
	for _, c := range []float32{-1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1,
		-1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1} {
		y = y.MulAdd(m, simd.BroadcastFloat32s(c))
	}
	y = y.Mul(m).Mul(z)
	y = e.MulAdd(simd.BroadcastFloat32s(-2.12194440e-4), y)
	y = z.MulAdd(simd.BroadcastFloat32s(-0.5), y)
	return e.MulAdd(simd.BroadcastFloat32s(0.693359375), m.Add(y))
}

// normalBlocks fills out (a multiple of blockSize long) with blocks b0, b0+1, …
// of the standard-normal stream of key; see normalBlockScalar for the stream.
func normalBlocks(out []float32, key, b0 uint32) {
	if lanes > blockPairs || blockPairs%lanes != 0 {
		for b := 0; b*blockSize < len(out); b++ {
			normalBlockScalar(out[b*blockSize:(b+1)*blockSize], key, b0+uint32(b))
		}
		return
	}
	idx := simd.LoadUint32s(laneIndex)
	k := simd.BroadcastUint32s(key)
	inv24 := simd.BroadcastFloat32s(1.0 / (1 << 24))
	for b := 0; b*blockSize < len(out); b++ {
		blk := out[b*blockSize : (b+1)*blockSize]
		for l0 := 0; l0 < blockPairs; l0 += lanes {
			// Pair p of the stream draws u from word 2p and the angle from word 2p+1.
			p := simd.BroadcastUint32s((b0+uint32(b))*blockPairs + uint32(l0)).Add(idx)
			h1 := hash32(p.Add(p).Xor(k))
			h2 := hash32(p.Add(p).Add(simd.BroadcastUint32s(1)).Xor(k))
			u := h1.ShiftAllRight(8).Add(simd.BroadcastUint32s(1)).BitsToInt32().ConvertToFloat32().Mul(inv24) // (0, 1]
			r := logFloat32(u).Mul(simd.BroadcastFloat32s(-2)).Sqrt()
			t := h2.And(simd.BroadcastUint32s(0x3fffffff)).ShiftAllRight(6).BitsToInt32().ConvertToFloat32() // [0, 2^24)
			t = t.Add(simd.BroadcastFloat32s(0.5)).Mul(inv24).Sub(simd.BroadcastFloat32s(0.5)).Mul(simd.BroadcastFloat32s(math.Pi / 2))
			c, s := sinCosQuarter(t)
			// Rotate by a quarter turn times the two top bits of h2: θ uniform on the circle.
			turn := h2.And(simd.BroadcastUint32s(0x40000000)).NotEqual(simd.BroadcastUint32s(0))
			c, s = s.Neg().IfElse(turn, c), c.IfElse(turn, s)
			sign := h2.And(simd.BroadcastUint32s(0x80000000))
			r.Mul(c).ToBits().Xor(sign).BitsToFloat32().Store(blk[l0:])
			r.Mul(s).ToBits().Xor(sign).BitsToFloat32().Store(blk[blockPairs+l0:])
		}
	}
}

// hash32 is Chris Wellons' triple32 integer hash (a bijection of uint32 with
// near-ideal avalanche), lane-wise.
func hash32(x simd.Uint32s) simd.Uint32s {
	x = x.Xor(x.ShiftAllRight(17)).Mul(simd.BroadcastUint32s(0xed5ad4bb))
	x = x.Xor(x.ShiftAllRight(11)).Mul(simd.BroadcastUint32s(0xac4c1b51))
	x = x.Xor(x.ShiftAllRight(15)).Mul(simd.BroadcastUint32s(0x31848bab))
	return x.Xor(x.ShiftAllRight(14))
}

// sinCosQuarter returns cos t and sin t for |t| <= π/4 (Cephes' sinf/cosf
// polynomials, error below 3e-7).
func sinCosQuarter(t simd.Float32s) (c, s simd.Float32s) {
	z := t.Mul(t)
	s = simd.BroadcastFloat32s(-1.9515295891e-4).MulAdd(z, simd.BroadcastFloat32s(8.3321608736e-3))
	s = s.MulAdd(z, simd.BroadcastFloat32s(-1.6666654611e-1)).Mul(z).MulAdd(t, t)
	c = simd.BroadcastFloat32s(2.443315711809948e-5).MulAdd(z, simd.BroadcastFloat32s(-1.388731625493765e-3))
	c = c.MulAdd(z, simd.BroadcastFloat32s(4.166664568298827e-2)).Mul(z).Mul(z)
	c = z.MulAdd(simd.BroadcastFloat32s(-0.5), c).Add(simd.BroadcastFloat32s(1))
	return c, s
}

// logWeightPrior sets z = μ + σ·ε for rows of ε (each len(mu) wide) and
// sets out[r] = −log q(z|x) = Σ_d ½ε_d² + ½ log σ_d², given halfLogVar =
// Σ_d ½ log σ_d², plus log N(z; 0, I) = −Σ_d ½z_d² when withPrior (the
// normalizing constants cancel between each layer's q and p).
func logWeightPrior(z, eps, mu, sigma []float32, rows int, halfLogVar float32, withPrior bool, out []float64) {
	d := len(mu)
	half := simd.BroadcastFloat32s(0.5)
	prior := simd.BroadcastFloat32s(0)
	if withPrior {
		prior = half
	}
	for r := 0; r < rows; r++ {
		e, zr := eps[r*d:(r+1)*d], z[r*d:(r+1)*d]
		acc := simd.BroadcastFloat32s(0)
		for i := 0; i < d; i += lanes {
			ev, _ := simd.LoadFloat32sPart(e[i:])
			mv, _ := simd.LoadFloat32sPart(mu[i:])
			sv, _ := simd.LoadFloat32sPart(sigma[i:])
			zv := sv.MulAdd(ev, mv)
			zv.StorePart(zr[i:])
			acc = ev.Mul(ev).MulAdd(half, acc)
			acc = zv.Mul(zv).Mul(prior).Neg().Add(acc)
		}
		out[r] = float64(reduceSum(acc) + halfLogVar)
	}
}

// sampleGaussian draws zᵢ₊₁ = μ + exp(½ log σ²)·ε, row by row, from the
// Gaussian parameters of q(zᵢ₊₁ | zᵢ) (row r: means at params[r·ld:], then
// log-variances, dim each), and adds −log q(zᵢ₊₁ | zᵢ) = Σ ½ε² + ½ log σ² to
// lw, and log N(zᵢ₊₁; 0, I) = −Σ ½z² too for the top layer.
func sampleGaussian(z, eps, params []float32, ld, dim, rows int, top bool, lw []float64) {
	half := simd.BroadcastFloat32s(0.5)
	prior := simd.BroadcastFloat32s(0)
	if top {
		prior = half
	}
	for r := 0; r < rows; r++ {
		mu, lv := params[r*ld:r*ld+dim], params[r*ld+dim:r*ld+2*dim]
		e, zr := eps[r*dim:(r+1)*dim], z[r*dim:(r+1)*dim]
		acc := simd.BroadcastFloat32s(0)
		for i := 0; i < dim; i += lanes {
			ev, _ := simd.LoadFloat32sPart(e[i:])
			mv, _ := simd.LoadFloat32sPart(mu[i:])
			lvv, _ := simd.LoadFloat32sPart(lv[i:])
			zv := expVec(lvv.Mul(half)).MulAdd(ev, mv)
			zv.StorePart(zr[i:])
			acc = ev.Mul(ev).Add(lvv).MulAdd(half, acc)
			acc = zv.Mul(zv).Mul(prior).Neg().Add(acc)
		}
		lw[r] += float64(reduceSum(acc))
	}
}

// gaussianLogDensity adds log p(zᵢ | zᵢ₊₁) = Σ −½(z − μ)²/σ² − ½ log σ²
// (without its constant) to lw, row by row, from the Gaussian parameters of
// p (row r: means at params[r·ld:], then log-variances, dim each).
func gaussianLogDensity(z, params []float32, ld, dim, rows int, lw []float64) {
	half := simd.BroadcastFloat32s(0.5)
	for r := 0; r < rows; r++ {
		mu, lv := params[r*ld:r*ld+dim], params[r*ld+dim:r*ld+2*dim]
		zr := z[r*dim : (r+1)*dim]
		acc := simd.BroadcastFloat32s(0)
		for i := 0; i < dim; i += lanes {
			zv, _ := simd.LoadFloat32sPart(zr[i:])
			mv, _ := simd.LoadFloat32sPart(mu[i:])
			lvv, _ := simd.LoadFloat32sPart(lv[i:])
			diff := zv.Sub(mv)
			acc = diff.Mul(diff).MulAdd(expVec(lvv.Neg()), lvv).MulAdd(half, acc)
		}
		lw[r] -= float64(reduceSum(acc))
	}
}

// expVec is e^x, x clamped to [−87, 87]: expNeg's method for either sign.
func expVec(x simd.Float32s) simd.Float32s {
	e := newExpConsts()
	one := simd.BroadcastFloat32s(1)
	x = x.Max(e.max.Neg()).Min(e.max)
	y := x.Mul(e.negLog2E.Neg()).Add(e.magic)
	n := y.Sub(e.magic)
	r := n.MulAdd(e.ln2Hi, x)
	r = n.MulAdd(e.ln2Lo, r)
	p := e.c6.MulAdd(r, e.c5).MulAdd(r, e.c4).MulAdd(r, e.c3).MulAdd(r, e.c2).MulAdd(r, one).MulAdd(r, one)
	return p.ToBits().Add(y.ToBits().ShiftAllLeft(23)).BitsToFloat32()
}
