package data

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// loadTest loads the test split from dir with the cache root, failing on error.
func loadTest(t *testing.T, dir, root string) (*Images, loadInfo) {
	t.Helper()
	im, info, err := loadMNIST(dir, "test", root)
	if err != nil {
		t.Fatal(err)
	}
	return im, info
}

// checkLoad checks a load's cache outcome and whether it rewrote the cache.
func checkLoad(t *testing.T, info loadInfo, cache string, written bool) {
	t.Helper()
	if info.cache != cache || info.written != written {
		t.Fatalf("cache %s, written %v; want %s, written %v", info.cache, info.written, cache, written)
	}
}

// TestCacheStaleSource changes the source labels after caching and checks
// that the cache is found stale, rebuilt from the new source, then used.
func TestCacheStaleSource(t *testing.T) {
	t.Parallel()
	dir, root := copySplit(t, "test"), t.TempDir()
	_, info := loadTest(t, dir, root)
	checkLoad(t, info, cacheMiss, true)

	path := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
	raw := gunzipFile(t, path)
	raw[8] = 1 // First label 7 -> 1: still valid, but different.
	writeFile(t, path, gzipBytes(t, raw))

	im, info := loadTest(t, dir, root)
	checkLoad(t, info, cacheStale, true)
	if im.Labels[0] != 1 {
		t.Fatalf("first label %d after the source changed, want 1", im.Labels[0])
	}
	im, info = loadTest(t, dir, root)
	checkLoad(t, info, cacheHit, false)
	if im.Labels[0] != 1 {
		t.Fatalf("first label %d from the rebuilt cache, want 1", im.Labels[0])
	}
}

// TestCacheCorruptRebuilt damages the cache file in several ways and checks
// each time that it is detected, the data are right, and the cache is rebuilt.
func TestCacheCorruptRebuilt(t *testing.T) {
	t.Parallel()
	dir := realMNISTDir(t)
	want := realTest(t)
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		cache  string
	}{
		{"pixel flipped", func(b []byte) []byte { b[cacheHeaderLen+1000] ^= 1; return b }, cacheCorrupt},
		{"label flipped", func(b []byte) []byte { b[len(b)-1] ^= 1; return b }, cacheCorrupt},
		{"checksum flipped", func(b []byte) []byte { b[cacheSumAt] ^= 1; return b }, cacheCorrupt},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, cacheCorrupt},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, cacheCorrupt},
		{"header only", func(b []byte) []byte { return b[:cacheHeaderLen] }, cacheCorrupt},
		{"empty", func(b []byte) []byte { return nil }, cacheCorrupt},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, cacheCorrupt},
		{"other version", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], cacheVersion+1); return b }, cacheStale},
		{"other source", func(b []byte) []byte { b[40] ^= 1; return b }, cacheStale},
		{"label 11 with a valid checksum", func(b []byte) []byte {
			b[len(b)-1] = 11
			binary.LittleEndian.PutUint32(b[cacheSumAt:], cacheSum(b[:cacheHeaderLen], b[cacheHeaderLen:]))
			return b
		}, cacheCorrupt},
	}
	_, info := loadTest(t, dir, t.TempDir())
	checkLoad(t, info, cacheMiss, true)
	pristine, err := os.ReadFile(info.cachePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			path := cachePath(root, dir, "test")
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, tc.damage(bytes.Clone(pristine)))

			im, info := loadTest(t, dir, root)
			checkLoad(t, info, tc.cache, true)
			if !sameImages(im, want) {
				t.Fatal("data differ after rebuilding")
			}
			im, info = loadTest(t, dir, root)
			checkLoad(t, info, cacheHit, false)
			if !sameImages(im, want) {
				t.Fatal("rebuilt cache holds other data")
			}
		})
	}
}

// TestCacheUnwritable points the cache under a regular file (unwritable even
// for root) and checks that loading still works, silently without a cache.
func TestCacheUnwritable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, []byte("x"))
	im, info := loadTest(t, realMNISTDir(t), filepath.Join(file, "cache"))
	checkLoad(t, info, cacheMiss, false)
	if !sameImages(im, realTest(t)) {
		t.Fatal("data differ")
	}
	entries, _ := os.ReadDir(filepath.Dir(file))
	if len(entries) != 1 {
		t.Fatalf("stray files left: %v", entries)
	}
}

// TestCacheAtomicWriteLeavesNoTemp checks that a written cache directory holds
// only the cache file.
func TestCacheAtomicWriteLeavesNoTemp(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	_, info := loadTest(t, realMNISTDir(t), root)
	entries, err := os.ReadDir(filepath.Dir(info.cachePath))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(info.cachePath) {
		t.Fatalf("cache directory holds %v", entries)
	}
}

// TestCacheDirEnv checks VAEXP_CACHE_DIR: a directory, "off", and unset.
func TestCacheDirEnv(t *testing.T) {
	root := t.TempDir()
	t.Setenv(CacheDirEnv, root)
	if got := cacheRoot(); got != root {
		t.Fatalf("cacheRoot() = %q, want %q", got, root)
	}
	dir := realMNISTDir(t)
	if _, err := LoadMNIST(dir, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cachePath(root, dir, "test")); err != nil {
		t.Fatalf("LoadMNIST wrote no cache under %s: %v", root, err)
	}
	if filepath.Dir(cachePath(root, dir, "test")) != filepath.Join(root, "mnist") {
		t.Fatalf("cache file %s not in %s/mnist", cachePath(root, dir, "test"), root)
	}

	t.Setenv(CacheDirEnv, "off")
	if got := cacheRoot(); got != "" {
		t.Fatalf("cacheRoot() = %q with %s=off, want \"\"", got, CacheDirEnv)
	}

	t.Setenv(CacheDirEnv, "")
	if d, err := os.UserCacheDir(); err == nil {
		if got, want := cacheRoot(), filepath.Join(d, "vaexp"); got != want {
			t.Fatalf("cacheRoot() = %q, want %q", got, want)
		}
	}
}
