package iwae

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestNormalStream checks the normal stream: the (vector) generator equals
// the scalar definition, and a million draws pass a Kolmogorov–Smirnov test
// against N(0, 1) and have its mean, variance and kurtosis.
func TestNormalStream(t *testing.T) {
	const blocks = 1 << 15 // 2^20 normals
	got := make([]float32, blocks*blockSize)
	normalBlocks(got, 12345, 7)
	want := make([]float32, blockSize)
	for b := 0; b < blocks; b += 97 {
		normalBlockScalar(want, 12345, 7+uint32(b))
		for i, w := range want {
			if g := got[b*blockSize+i]; math.Abs(float64(g-w)) > 2e-5*(1+math.Abs(float64(w))) {
				t.Fatalf("block %d, normal %d: vector %v, scalar %v", b, i, g, w)
			}
		}
	}
	xs := make([]float64, len(got))
	var m1, m2, m4 float64
	for i, v := range got {
		xs[i] = float64(v)
		m1 += xs[i]
	}
	n := float64(len(xs))
	m1 /= n
	for _, x := range xs {
		d := x - m1
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= n
	m4 /= n
	if math.Abs(m1) > 5/math.Sqrt(n) || math.Abs(m2-1) > 5*math.Sqrt(2/n) || math.Abs(m4/(m2*m2)-3) > 5*math.Sqrt(24/n) {
		t.Errorf("mean %.5f, variance %.5f, kurtosis %.4f: not N(0, 1)'s 0, 1, 3", m1, m2, m4/(m2*m2))
	}
	sort.Float64s(xs)
	d := 0.0
	for i, x := range xs {
		c := distuv.UnitNormal.CDF(x)
		d = max(d, math.Abs(c-float64(i)/n), math.Abs(c-float64(i+1)/n))
	}
	if crit := 1.95 / math.Sqrt(n); d > crit { // Kolmogorov–Smirnov at the 0.1% level
		t.Errorf("Kolmogorov–Smirnov distance %.5f from N(0, 1) exceeds %.5f", d, crit)
	}
}

func TestLogAndActivations(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 1000)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * 4)
	}
	for _, act := range []Activation{Tanh, Relu} {
		y := append([]float32(nil), x...)
		activate(y, act)
		for i, v := range x {
			want := math.Tanh(float64(v))
			if act == Relu {
				want = math.Max(float64(v), 0)
			}
			if math.Abs(float64(y[i])-want) > 2e-6 {
				t.Fatalf("activation %d of %v: %v, want %v", act, v, y[i], want)
			}
		}
	}
	// bernoulliLogLik's log is checked through it below; at its extremes
	// (one factor of 2 per pixel, or none) as well as on random logits.
}

// TestBernoulliLogLik checks the fused pixel reduction against float64 for
// logits from −40 to 40, binary and grey targets, and lengths that leave
// vector tails and pass the product's renormalization.
func TestBernoulliLogLik(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 17, 784, 3000} {
		for _, grey := range []bool{false, true} {
			for _, scale := range []float64{0, 1, 10, 40} {
				l, xm := make([]float32, n), make([]float32, n)
				want := 0.0
				for j := range l {
					l[j] = float32(rng.NormFloat64() * scale)
					x := float64(rng.IntN(2))
					if grey {
						x = rng.Float64()
					}
					xm[j] = float32(x) - 0.5
					lv := float64(l[j])
					want += x*lv - (math.Max(lv, 0) + math.Log1p(math.Exp(-math.Abs(lv))))
				}
				got := float64(bernoulliLogLik(l, xm))
				if math.Abs(got-want) > 2e-6*(float64(n)+math.Abs(want)) {
					t.Errorf("n %d, grey %v, logit scale %g: %.6f, want %.6f", n, grey, scale, got, want)
				}
			}
		}
	}
}

// referenceEstimate is Estimate in float64 straight from the definition,
// drawing the same normals (normalBlockScalar).
func referenceEstimate(m Model, x, mu, logVar []float32, k int, seed uint64, first int) []float64 {
	lat, d := m.Decoder[0].In, m.Decoder[len(m.Decoder)-1].Out
	n := len(mu) / lat
	mlp := func(ls []Layer, h []float64) []float64 {
		for _, l := range ls {
			y := make([]float64, l.Out)
			for o := range y {
				y[o] = float64(l.Biases[o])
				for q, v := range h {
					y[o] += float64(l.Weights[o*l.In+q]) * v
				}
				switch l.Act {
				case Tanh:
					y[o] = math.Tanh(y[o])
				case Relu:
					y[o] = math.Max(y[o], 0)
				}
			}
			h = y
		}
		return h
	}
	// normal is ε number i of stochastic layer layer's stream.
	normal := func(key uint32, layer, i int) float64 {
		blk := make([]float32, blockSize)
		normalBlockScalar(blk, layerKey(key, layer), uint32(i/blockSize))
		return float64(blk[i%blockSize])
	}
	out := make([]float64, n)
	for i := range out {
		key := exampleKey(seed, first+i)
		lw := make([]float64, k)
		for s := range lw {
			z := make([]float64, lat)
			for j := range z {
				e := normal(key, 0, s*lat+j)
				z[j] = float64(mu[i*lat+j]) + math.Exp(0.5*float64(logVar[i*lat+j]))*e
				lw[s] += 0.5*e*e + 0.5*float64(logVar[i*lat+j])
			}
			z1, below := z, z
			for li, st := range m.Upper {
				params := mlp(st.Up, below)
				dim := len(params) / 2
				above := make([]float64, dim)
				for j := range above {
					e := normal(key, li+1, s*dim+j)
					above[j] = params[j] + math.Exp(0.5*params[dim+j])*e
					lw[s] += 0.5*e*e + 0.5*params[dim+j]
				}
				p := mlp(st.Down, above)
				for j, v := range below {
					diff := v - p[j]
					lw[s] -= 0.5*diff*diff*math.Exp(-p[len(below)+j]) + 0.5*p[len(below)+j]
				}
				below = above
			}
			for _, v := range below { // the top layer's N(0, I) prior
				lw[s] -= 0.5 * v * v
			}
			for j, lv := range mlp(m.Decoder, z1) {
				xv := float64(x[i*d+j])
				lw[s] += xv*lv - (math.Max(lv, 0) + math.Log1p(math.Exp(-math.Abs(lv))))
			}
		}
		mx := math.Inf(-1)
		for _, v := range lw {
			mx = math.Max(mx, v)
		}
		sum := 0.0
		for _, v := range lw {
			sum += math.Exp(v - mx)
		}
		out[i] = mx + math.Log(sum/float64(k))
	}
	return out
}

// toyProblem is a small model (latent 5, decoder hidden 24 and 40 tanh /
// relu, 50 binary pixels; with layers, a z2 of 3 and a z3 of 2 above, MLPs of
// 8 hidden units) and n examples with posteriors of varied scale.
func toyProblem(n int, act Activation, layers bool) (m Model, x, mu, logVar []float32) {
	rng := rand.New(rand.NewPCG(7, 8))
	m.Decoder = []Layer{randomLayer(rng, 5, 24, act), randomLayer(rng, 24, 40, act), randomLayer(rng, 40, 50, Identity)}
	for i := range m.Decoder[2].Weights {
		m.Decoder[2].Weights[i] *= 4 // logits of several nats
	}
	if layers {
		for _, dims := range [][2]int{{5, 3}, {3, 2}} {
			m.Upper = append(m.Upper, Stochastic{
				Up:   []Layer{randomLayer(rng, dims[0], 8, act), randomLayer(rng, 8, 2*dims[1], Identity)},
				Down: []Layer{randomLayer(rng, dims[1], 8, act), randomLayer(rng, 8, 2*dims[0], Identity)},
			})
		}
	}
	x, mu, logVar = make([]float32, n*50), make([]float32, n*5), make([]float32, n*5)
	for i := range x {
		x[i] = float32(rng.IntN(2))
	}
	for i := range mu {
		mu[i] = float32(rng.NormFloat64())
		logVar[i] = float32(rng.Float64()*3 - 3)
	}
	return m, x, mu, logVar
}

// TestEstimateEqualsReference checks the fused estimate against the float64
// definition on the same samples, for k that fills chunks and kernel blocks
// and k that does not, with every microkernel, for one stochastic layer and
// for three.
func TestEstimateEqualsReference(t *testing.T) {
	for _, layers := range []bool{false, true} {
		for _, act := range []Activation{Tanh, Relu} {
			m, x, mu, logVar := toyProblem(6, act, layers)
			for _, k := range []int{1, 7, 300} {
				want := referenceEstimate(m, x, mu, logVar, k, 99, 3)
				for _, kn := range kernels() {
					got, err := estimateWith(context.Background(), kn, m, x, mu, logVar, Options{K: k, Seed: 99, First: 3})
					if err != nil {
						t.Fatal(err)
					}
					for i := range want {
						if math.Abs(got[i]-want[i]) > 2e-4*(1+math.Abs(want[i])) {
							t.Errorf("%s, layers %v, act %d, k %d, example %d: %.6f, want %.6f", kn.name, layers, act, k, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestEstimateSplits checks that splitting the examples over calls (First)
// and over workers draws the same samples: bit-for-bit the same estimates.
func TestEstimateSplits(t *testing.T) {
	m, x, mu, logVar := toyProblem(10, Tanh, true)
	all, err := Estimate(context.Background(), m, x, mu, logVar, Options{K: 200, Seed: 5, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	parallel, err := Estimate(context.Background(), m, x, mu, logVar, Options{K: 200, Seed: 5, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	tail, err := Estimate(context.Background(), m, x[4*50:], mu[4*5:], logVar[4*5:], Options{K: 200, Seed: 5, First: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if parallel[i] != all[i] || (i >= 4 && tail[i-4] != all[i]) {
			t.Errorf("example %d: %v (1 worker), %v (4 workers), %v (second call)", i, all[i], parallel[i], tail)
		}
	}
	other, _ := Estimate(context.Background(), m, x, mu, logVar, Options{K: 200, Seed: 6})
	if other[0] == all[0] {
		t.Errorf("seeds 5 and 6 give the same estimate %v", other[0])
	}
}

func TestEstimateRejectsBadInput(t *testing.T) {
	m, x, mu, logVar := toyProblem(2, Tanh, true)
	squashed := m
	squashed.Decoder = append([]Layer(nil), m.Decoder...)
	squashed.Decoder[2].Act = Tanh
	noDecoder := m
	noDecoder.Decoder = nil
	narrow := m
	narrow.Decoder = m.Decoder[1:]
	badUp := m
	badUp.Upper = []Stochastic{{Up: m.Upper[1].Up, Down: m.Upper[0].Down}}
	for name, err := range map[string]error{
		"k = 0": func() error { _, err := Estimate(context.Background(), m, x, mu, logVar, Options{K: 0}); return err }(),
		"short x": func() error {
			_, err := Estimate(context.Background(), m, x[1:], mu, logVar, Options{K: 1})
			return err
		}(),
		"squashed out": func() error {
			_, err := Estimate(context.Background(), squashed, x, mu, logVar, Options{K: 1})
			return err
		}(),
		"no layers": func() error {
			_, err := Estimate(context.Background(), noDecoder, x, mu, logVar, Options{K: 1})
			return err
		}(),
		"widths differ": func() error {
			_, err := Estimate(context.Background(), narrow, x, mu, logVar, Options{K: 1})
			return err
		}(),
		"q of z2 wrong": func() error {
			_, err := Estimate(context.Background(), badUp, x, mu, logVar, Options{K: 1})
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestEstimateStopsWhenCancelled: a cancelled estimate returns the context's
// error, after at most the examples in progress, instead of estimates.
func TestEstimateStopsWhenCancelled(t *testing.T) {
	m, x, mu, logVar := toyProblem(200, Tanh, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := Estimate(ctx, m, x, mu, logVar, Options{K: 100, Seed: 1})
	if !errors.Is(err, context.Canceled) || got != nil {
		t.Fatalf("cancelled estimate: %d estimates, error %v; want none and context.Canceled", len(got), err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if got, err := Estimate(ctx, m, x, mu, logVar, Options{K: 100, Seed: 1}); err != nil || len(got) != 200 {
		t.Fatalf("live context: %d estimates, error %v", len(got), err)
	}
}
