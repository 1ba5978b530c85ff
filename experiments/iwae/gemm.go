package iwae

import "unsafe"

// kernel is a GEMM microkernel: fn computes C[mr, nr] = bias[nr] + A[mr, k]·B[k, nr]
// for one packed panel B (row p at b[p·nr:]), A's rows lda floats apart and
// C's rows ldc floats apart.
type kernel struct {
	name   string
	mr, nr int
	fn     func(k int, a *float32, lda int, b *float32, bias *float32, c *float32, ldc int)
}

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

// packed is a dense layer y = act(W·x + b) laid out for a kernel: the output
// columns padded to a multiple of nr with zero weights and biases, in panels
// of nr columns, panel j holding W[j·nr + c, p] at panels[(j·in + p)·nr + c].
type packed struct {
	in, out, outPad int
	panels          []float32
	bias            []float32
	act             Activation
}

// pack lays out a layer (weights [out, in], output-major) for kernel kn.
func pack(l Layer, kn kernel) packed {
	outPad := (l.Out + kn.nr - 1) / kn.nr * kn.nr
	p := packed{in: l.In, out: l.Out, outPad: outPad, act: l.Act,
		panels: make([]float32, outPad*l.In), bias: make([]float32, outPad)}
	copy(p.bias, l.Biases)
	for j := 0; j < outPad/kn.nr; j++ {
		for q := 0; q < l.In; q++ {
			dst := p.panels[(j*l.In+q)*kn.nr : (j*l.In+q+1)*kn.nr]
			for c := range dst {
				if o := j*kn.nr + c; o < l.Out {
					dst[c] = l.Weights[o*l.In+q]
				}
			}
		}
	}
	return p
}

// gemm computes C[rows, outPad] = bias + A[rows, in]·Wᵀ for rows a multiple of
// the kernel's mr; A's rows are lda floats apart, C's ldc.
func (kn kernel) gemm(p *packed, rows int, a []float32, lda int, c []float32, ldc int) {
	panels := p.outPad / kn.nr
	for r := 0; r < rows; r += kn.mr {
		ar := &a[r*lda]
		for j := 0; j < panels; j++ {
			kn.fn(p.in, ar, lda, &p.panels[j*p.in*kn.nr], &p.bias[j*kn.nr], &c[r*ldc+j*kn.nr], ldc)
		}
	}
}
