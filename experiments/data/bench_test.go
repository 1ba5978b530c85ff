package data

import (
	"testing"
)

// BenchmarkLoadMNISTFromGz measures loading the training set without a cache:
// gzip decoding and checking.
func BenchmarkLoadMNISTFromGz(b *testing.B) {
	dir := realMNISTDir(b)
	b.SetBytes(60000 * (784 + 1))
	for b.Loop() {
		if _, _, err := loadMNIST(dir, "train", ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadMNISTFromCache measures loading the training set from a warm
// cache, including fingerprinting the source files and checking the checksum.
func BenchmarkLoadMNISTFromCache(b *testing.B) {
	dir, root := realMNISTDir(b), b.TempDir()
	if _, _, err := loadMNIST(dir, "train", root); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(60000 * (784 + 1))
	for b.Loop() {
		_, info, err := loadMNIST(dir, "train", root)
		if err != nil {
			b.Fatal(err)
		}
		if info.cache != cacheHit {
			b.Fatalf("cache %s, want hit", info.cache)
		}
	}
}

// batchBench loads the training set and returns it with 128 spread indices.
func batchBench(b *testing.B) (*Images, []int, []float32) {
	im, _, err := loadMNIST(realMNISTDir(b), "train", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	idx := Permutation(im.N, 1, 0)[:128]
	return im, idx, make([]float32, len(idx)*im.Dim())
}

// BenchmarkFloat32Batch128 measures filling one batch of 128 grey-level images.
func BenchmarkFloat32Batch128(b *testing.B) {
	im, idx, dst := batchBench(b)
	b.SetBytes(int64(len(dst)) * 4)
	for b.Loop() {
		im.Float32(dst, idx)
	}
}

// BenchmarkBinarizedBatch128 measures one dynamically binarized batch of 128.
func BenchmarkBinarizedBatch128(b *testing.B) {
	im, idx, dst := batchBench(b)
	rng := NewRand(1, "binarize", 0)
	b.SetBytes(int64(len(dst)) * 4)
	for b.Loop() {
		im.Binarized(dst, idx, rng)
	}
}

// BenchmarkFill measures filling one batch of 128 examples of every
// registered data set (generated ones render theirs here), as the training
// loop's prefetcher does: at random indices, after loading.
func BenchmarkFill(b *testing.B) {
	for _, ds := range All() {
		d := ds.Describe()
		b.Run(d.Name, func(b *testing.B) {
			sp, err := ds.Load(LoadOptions{Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			idx := Permutation(sp.Train.Len(), 1, 0)[:128]
			x, y := make([]float32, len(idx)*d.Shape.Size()), make([]int32, len(idx))
			b.SetBytes(int64(len(x)) * 4)
			for b.Loop() {
				sp.Train.Fill(x, y, idx)
			}
		})
	}
}
