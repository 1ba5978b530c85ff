// Package data provides vaexp's data sets behind one interface ([Dataset],
// [Split]) and a registry: MNIST (locating the files, reading and checking
// them, caching the decoded bytes) and the sets generated from a seed —
// dSprites-style shapes, Moving MNIST, sequential MNIST and synthetic time
// series — which render each example when it is read. Examples become
// float32 batches (grey levels, dynamic or static binarization) in an order
// fixed by the run's seed. Random numbers are math/rand/v2 PCG streams
// derived from that one seed (see NewRand). It is plain Go, without GoMLX,
// so it builds and tests fast.
package data

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// LoadMNIST loads the MNIST split "train" (60000 examples) or "test" (10000)
// from dir (the CLI's --data-dir), or from MNISTDir() when dir is "". It
// checks the files fully (magic numbers, 28×28 sizes, counts, exact lengths,
// gzip checksums, labels 0..9) and keeps a decoded copy in the cache (see
// CacheDirEnv), so
// later loads skip the gzip decoding; a stale or damaged cache is rebuilt, and
// a cache directory that cannot be written is skipped.
func LoadMNIST(dir, split string) (*Images, error) {
	im, _, err := loadMNIST(dir, split, cacheRoot())
	return im, err
}

// loadInfo tells how loadMNIST got its data, for tests and benchmarks.
type loadInfo struct {
	cache     string // One of the cache* outcomes.
	cachePath string // The cache file, "" when disabled.
	written   bool   // Whether the cache file was (re)written.
}

// loadMNIST is LoadMNIST with the cache root given ("" disables the cache).
func loadMNIST(dir, split, cacheRoot string) (*Images, loadInfo, error) {
	info := loadInfo{cache: cacheDisabled}
	files, ok := mnistFiles[split]
	if !ok {
		return nil, info, fmt.Errorf("MNIST split %q: want \"train\" or \"test\"", split)
	}
	if dir == "" {
		var err error
		if dir, err = MNISTDir(); err != nil {
			return nil, info, err
		}
	}
	imagesPath, labelsPath := filepath.Join(dir, files[0]), filepath.Join(dir, files[1])

	key := cacheKey{n: mnistSizes[split], height: mnistSide, width: mnistSide}
	name := "mnist-" + split
	if cacheRoot != "" {
		// The sources are fingerprinted before they are decoded, so a file
		// replaced in between leaves a cache whose key is older than its
		// content: it is found stale and rebuilt next time, never served as
		// current.
		var err error
		if key.images, err = fingerprint(imagesPath); err != nil {
			return nil, info, fmt.Errorf("MNIST %s: %w; %s", split, err, fixHint)
		}
		if key.labels, err = fingerprint(labelsPath); err != nil {
			return nil, info, fmt.Errorf("MNIST %s: %w; %s", split, err, fixHint)
		}
		info.cachePath = cachePath(cacheRoot, dir, split)
		var im *Images
		if im, info.cache = readCache(info.cachePath, key); im != nil {
			im.Name = name
			return im, info, nil
		}
	}

	im, err := decodeMNIST(imagesPath, labelsPath, key.n)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, info, fmt.Errorf("MNIST %s: %w; %s", split, err, fixHint)
	}
	if err != nil {
		return nil, info, err
	}
	im.Name = name
	if info.cachePath != "" {
		// Caching is an optimisation: an unwritable directory only costs the
		// decoding again next time, so its error is dropped.
		info.written = writeCache(info.cachePath, key, im) == nil
	}
	return im, info, nil
}

// decodeMNIST reads and checks an MNIST image file and label file of n
// examples. Labels go first: they are small, so a bad label file fails fast.
func decodeMNIST(imagesPath, labelsPath string, n int) (*Images, error) {
	labels, err := idxLabels(labelsPath, n)
	if err != nil {
		return nil, err
	}
	pixels, err := idxImages(imagesPath, n, mnistSide, mnistSide)
	if err != nil {
		return nil, err
	}
	return &Images{N: n, Height: mnistSide, Width: mnistSide, Pixels: pixels, Labels: labels}, nil
}
