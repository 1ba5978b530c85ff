package data

import (
	"fmt"
	"math/rand/v2"
)

// Images is a set of grey-level images with labels, pixels stored row-major as
// uint8 (0..255) to keep memory small: MNIST's training set is 47 MB this way,
// 188 MB as float32. Example i occupies Pixels[i*Height*Width : (i+1)*Height*Width].
// This package never modifies an Images once built, so concurrent readers may
// share one.
type Images struct {
	N, Height, Width int
	Pixels           []uint8 // N·Height·Width grey levels, 0 (background) to 255 (ink).
	Labels           []uint8 // N class labels, 0..9 for MNIST.
	Name             string  // Where the set came from, e.g. "mnist-train/val".
}

// Dim returns the number of pixels of one example, Height·Width.
func (im *Images) Dim() int { return im.Height * im.Width }

// Subset returns a copy of the examples idx, in that order (repeats allowed).
// It panics if an index is out of range, like a slice index.
func (im *Images) Subset(idx []int) *Images {
	d := im.Dim()
	out := &Images{
		N: len(idx), Height: im.Height, Width: im.Width,
		Pixels: make([]uint8, len(idx)*d),
		Labels: make([]uint8, len(idx)),
		Name:   im.Name + "/subset",
	}
	for k, i := range idx {
		if i < 0 || i >= im.N {
			panic(fmt.Sprintf("data: Subset index %d out of range [0,%d) of %s", i, im.N, im.Name))
		}
		copy(out.Pixels[k*d:(k+1)*d], im.Pixels[i*d:(i+1)*d])
		out.Labels[k] = im.Labels[i]
	}
	return out
}

// Head returns the first n examples (n clamped to 0..N), to cap the data of a
// quick run. It shares memory with im rather than copying.
func (im *Images) Head(n int) *Images {
	n = max(0, min(n, im.N))
	if n == im.N {
		return im
	}
	d := im.Dim()
	return &Images{
		N: n, Height: im.Height, Width: im.Width,
		Pixels: im.Pixels[: n*d : n*d],
		Labels: im.Labels[:n:n],
		Name:   fmt.Sprintf("%s/head%d", im.Name, n),
	}
}

// greyLevels maps a pixel to its grey level in [0,1].
var greyLevels = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// checkBatch panics unless dst holds exactly len(idx) examples: a mismatch is a
// programming error, like an out-of-range index.
func (im *Images) checkBatch(method string, dst []float32, idx []int) {
	if want := len(idx) * im.Dim(); len(dst) != want {
		panic(fmt.Sprintf("data: %s: len(dst) = %d, want len(idx)·%d·%d = %d",
			method, len(dst), im.Height, im.Width, want))
	}
}

// Float32 fills dst (len(idx)·Height·Width) with the grey levels in [0,1]
// (pixel/255) of the examples idx, one after another. It panics if len(dst) is
// wrong or an index is out of range.
func (im *Images) Float32(dst []float32, idx []int) {
	im.checkBatch("Float32", dst, idx)
	d := im.Dim()
	for k, i := range idx {
		src := im.Pixels[i*d : (i+1)*d]
		out := dst[k*d : (k+1)*d]
		for j, p := range src {
			out[j] = greyLevels[p]
		}
	}
}

// Binarized fills dst like Float32 but with a dynamic binarization: each pixel
// is 1 with probability pixel/255, else 0, drawn afresh from rng on every call,
// so each epoch sees a new sample (as in the IWAE paper's setting). Use
// NewRand(seed, "binarize", epoch) for a reproducible rng.
func (im *Images) Binarized(dst []float32, idx []int, rng *rand.Rand) {
	im.checkBatch("Binarized", dst, idx)
	d := im.Dim()
	for k, i := range idx {
		src := im.Pixels[i*d : (i+1)*d]
		out := dst[k*d : (k+1)*d]
		j := 0
		for ; j+1 < len(src); j += 2 {
			u := rng.Uint64()
			out[j] = float32(bernoulli(src[j], uint32(u)))
			out[j+1] = float32(bernoulli(src[j+1], uint32(u>>32)))
		}
		if j < len(src) {
			out[j] = float32(bernoulli(src[j], uint32(rng.Uint64())))
		}
	}
}

// bernoulli returns 1 with probability p/255 given 32 uniform random bits u:
// u·255/2³² is uniform on 0..254 (bias below 2⁻²⁴), and is below p for exactly
// p of those 255 values, so 0 never and 255 always gives 1.
func bernoulli(p uint8, u uint32) uint8 {
	r := (uint64(u) * 255) >> 32
	return uint8((r - uint64(p)) >> 63) // 1 iff r < p.
}
