package iwae

import "unsafe"

// kernel is a GEMM microkernel: fn computes C[mr, nr] = bias[nr] + A[mr, k]·B[k, nr]
// for one packed panel B (row p at b[p·nr:]), A's rows lda floats apart and
// C's rows ldc floats apart; half, when not nil, does the same for a panel
// of nr/2 columns, so that a width such as 784 = 24·32 + 16 needs no padding.
type kernel struct {
	name   string
	mr, nr int
	fn     gemmFunc
	half   gemmFunc
}

// gemmFunc is a microkernel's signature.
type gemmFunc func(k int, a *float32, lda int, b *float32, bias *float32, c *float32, ldc int)

// goKernel is the portable fallback: plain Go, 4×8 blocks.
var goKernel = kernel{name: "go", mr: 4, nr: 8, fn: gemmGo}

func gemmGo(k int, a *float32, lda int, b *float32, bias *float32, c *float32, ldc int) {
	const mr, nr = 4, 8
	A := unsafe.Slice(a, (mr-1)*lda+k)
	B := unsafe.Slice(b, k*nr)
	C := unsafe.Slice(c, (mr-1)*ldc+nr)
	bs := unsafe.Slice(bias, nr)
	for i := 0; i < mr; i++ {
		var acc [nr]float32
		copy(acc[:], bs)
		row := A[i*lda : i*lda+k]
		for p, av := range row {
			bp := B[p*nr : p*nr+nr]
			for j := range acc {
				acc[j] += av * bp[j]
			}
		}
		copy(C[i*ldc:i*ldc+nr], acc[:])
	}
}

// packed is a dense layer y = act(W·x + b) laid out for a kernel: full
// panels of nr output columns, then, if the width needs it, one panel of
// nr/2 (or a last full panel, zero-padded); panel j holds W[j·nr + c, p] at
// panels[j·in·nr + p·w + c], w its width. outPad is the padded width.
type packed struct {
	in, out, outPad int
	full            int  // full panels
	half            bool // a last half-width panel
	panels          []float32
	bias            []float32
	act             Activation
}

// pack lays out a layer (weights [out, in], output-major) for kernel kn.
func pack(l Layer, kn kernel) packed {
	p := packed{in: l.In, out: l.Out, act: l.Act, full: l.Out / kn.nr}
	switch rem := l.Out - p.full*kn.nr; {
	case rem == 0:
	case rem <= kn.nr/2 && kn.half != nil:
		p.half = true
	default:
		p.full++
	}
	p.outPad = p.full * kn.nr
	if p.half {
		p.outPad += kn.nr / 2
	}
	p.panels, p.bias = make([]float32, p.outPad*l.In), make([]float32, p.outPad)
	copy(p.bias, l.Biases)
	for o := 0; o < l.Out; o++ {
		j, c, w := o/kn.nr, o%kn.nr, kn.nr
		if j == p.full { // the half panel
			w = kn.nr / 2
		}
		base := j * l.In * kn.nr
		for q := 0; q < l.In; q++ {
			p.panels[base+q*w+c] = l.Weights[o*l.In+q]
		}
	}
	return p
}

// rowBlock computes the mr rows of C = bias + A·Wᵀ starting at a (row
// stride lda) into c (row stride ldc), every panel.
func (kn kernel) rowBlock(p *packed, a *float32, lda int, c []float32, ldc int) {
	for j := 0; j < p.full; j++ {
		kn.fn(p.in, a, lda, &p.panels[j*p.in*kn.nr], &p.bias[j*kn.nr], &c[j*kn.nr], ldc)
	}
	if p.half {
		j := p.full
		kn.half(p.in, a, lda, &p.panels[j*p.in*kn.nr], &p.bias[j*kn.nr], &c[j*kn.nr], ldc)
	}
}

// gemm computes C[rows, outPad] = bias + A[rows, in]·Wᵀ for rows a multiple of
// the kernel's mr; A's rows are lda floats apart, C's ldc.
func (kn kernel) gemm(p *packed, rows int, a []float32, lda int, c []float32, ldc int) {
	for r := 0; r < rows; r += kn.mr {
		kn.rowBlock(p, &a[r*lda], lda, c[r*ldc:], ldc)
	}
}
