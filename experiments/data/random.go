package data

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
)

// NewRand returns a random generator determined by (seed, purpose, index), so
// one run seed can feed independent streams: NewRand(seed, "binarize", epoch)
// for Binarized, NewRand(seed, "noise", step), and so on. Different purposes or
// indices give unrelated streams (the triple is hashed into the PCG state), and
// the same triple gives the same stream on every platform and Go version
// (PCG-DXSM is a fixed algorithm).
func NewRand(seed int64, purpose string, index int) *rand.Rand {
	return rand.New(newPCG(seed, purpose, index))
}

// newPCG hashes (seed, purpose, index) into a PCG state: nearby seeds of a bare
// LCG give correlated streams, a hash does not.
func newPCG(seed int64, purpose string, index int) *rand.PCG {
	h := sha256.New()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], uint64(index))
	h.Write(b[:])
	h.Write([]byte(purpose))
	sum := h.Sum(nil)
	return rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16]))
}

// Permutation returns a permutation of 0..n-1 determined by (seed, epoch):
// the order in which epoch `epoch` visits the training set. The same arguments
// give the same permutation everywhere, so a resumed run replays its epochs.
func Permutation(n int, seed int64, epoch int) []int {
	return permute(n, newPCG(seed, "epoch", epoch))
}

// permute is a Fisher-Yates shuffle written here, not rand.Perm, so the order
// depends only on the PCG output and this code, never on how a Go release
// implements Perm or Shuffle.
func permute(n int, src *rand.PCG) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(uniform(src, uint64(i)+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// uniform returns a uniform integer in [0, n) by Lemire's multiply-and-reject
// method (unbiased).
func uniform(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// Shuffler hands out one reproducible permutation of 0..N-1 per epoch, from
// Permutation(N, Seed, Epoch). Set Epoch to resume at a given epoch.
type Shuffler struct {
	N     int   // Size of the set to shuffle.
	Seed  int64 // The run's seed.
	Epoch int   // The epoch Next returns next.
}

// Next returns the permutation for the current epoch and advances Epoch.
func (s *Shuffler) Next() []int {
	p := Permutation(s.N, s.Seed, s.Epoch)
	s.Epoch++
	return p
}

// stream is a PCG source with the few draws the generated data sets need.
// They are written here, not taken from rand.Rand, for the same reason as
// permute: a generated example then depends only on the PCG output and this
// code, never on how a Go release implements Float64 or NormFloat64.
type stream struct {
	src   *rand.PCG
	spare float64 // the second normal of the last Box–Muller pair
	has   bool    // whether spare holds an unused normal
}

// newStream returns the stream determined by (seed, purpose, index), as NewRand.
func newStream(seed int64, purpose string, index int) *stream {
	return &stream{src: newPCG(seed, purpose, index)}
}

// float returns a uniform number in [0, 1) with 53 random bits.
func (s *stream) float() float64 { return float64(s.src.Uint64()>>11) / (1 << 53) }

// between returns a uniform number in [lo, hi).
func (s *stream) between(lo, hi float64) float64 { return lo + (hi-lo)*s.float() }

// logUniform returns a number in [lo, hi) whose logarithm is uniform: each
// octave of periods or volatilities is equally likely.
func (s *stream) logUniform(lo, hi float64) float64 {
	return math.Exp(s.between(math.Log(lo), math.Log(hi)))
}

// intn returns a uniform integer in [0, n); n must be positive.
func (s *stream) intn(n int) int { return int(uniform(s.src, uint64(n))) }

// sign returns −1 or +1 with equal probability.
func (s *stream) sign() float64 {
	if s.src.Uint64()>>63 == 0 {
		return -1
	}
	return 1
}

// normal returns a standard normal number by the Box–Muller transform, which
// turns two uniforms into two independent normals (the second is kept for the
// next call).
func (s *stream) normal() float64 {
	if s.has {
		s.has = false
		return s.spare
	}
	u1 := 1 - s.float() // in (0, 1]: the logarithm stays finite
	u2 := s.float()
	r := math.Sqrt(-2 * math.Log(u1))
	sin, cos := math.Sincos(2 * math.Pi * u2)
	s.spare, s.has = r*sin, true
	return r * cos
}
