package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// CacheDirEnv names the environment variable that overrides the root of
// vaexp's caches (default os.UserCacheDir()/vaexp); decoded MNIST goes in its
// mnist/ subdirectory. The value "off" disables the cache.
const CacheDirEnv = "VAEXP_CACHE_DIR"

// Decoding MNIST's gzip costs 0.4-0.8 s for the training set on every run; the
// decoded bytes in one flat file load more than ten times faster. The cache is never
// trusted blindly: its header names the source files (size and CRC-32C of the
// .gz bytes) and carries a CRC-32C of itself and the content, and any mismatch
// rebuilds it. The source is identified by content, not mtime, because copies
// and module-cache extraction change mtimes while the bytes stay the same.
//
// Layout (little-endian), cacheHeaderLen bytes then the content:
//
//	0  magic "VAEXPMNI"      24 images .gz size   u64
//	8  version          u32  32 labels .gz size   u64
//	12 N                u32  40 images .gz CRC-32C u32
//	16 Height           u32  44 labels .gz CRC-32C u32
//	20 Width            u32  48 CRC-32C of bytes 0..47 then the content
//	                         52 reserved, 0
//	56 Pixels (N·Height·Width bytes), then Labels (N bytes)
const (
	cacheMagic     = "VAEXPMNI"
	cacheVersion   = 1
	cacheHeaderLen = 56
	cacheSumAt     = 48
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli) // Hardware-accelerated on amd64 and arm64.

// sourceID identifies a source file by its size and the CRC-32C of its bytes.
type sourceID struct {
	size uint64
	crc  uint32
}

// fingerprint reads the file at path and returns its sourceID.
func fingerprint(path string) (sourceID, error) {
	f, err := os.Open(path)
	if err != nil {
		return sourceID{}, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.CopyBuffer(h, f, make([]byte, 1<<20))
	if err != nil {
		return sourceID{}, err
	}
	return sourceID{uint64(n), h.Sum32()}, nil
}

// cacheKey is what a cache file must match to be used.
type cacheKey struct {
	n, height, width int
	images, labels   sourceID
}

// Cache outcomes, reported by loadMNIST for tests and benchmarks.
const (
	cacheDisabled = "disabled" // No cache directory (VAEXP_CACHE_DIR=off or no user cache dir).
	cacheHit      = "hit"      // Loaded from a valid cache file.
	cacheMiss     = "miss"     // No cache file yet.
	cacheStale    = "stale"    // The cache file is valid but for other source files or another format version.
	cacheCorrupt  = "corrupt"  // The cache file is damaged (size, magic, checksum or labels).
)

// CacheRoot returns the root of vaexp's caches (see CacheDirEnv), or "" when
// caching is off. Other caches (e.g. the evaluation classifier) live in their
// own subdirectory of it, next to mnist/.
func CacheRoot() string { return cacheRoot() }

// cacheRoot returns the root of vaexp's caches, or "" when caching is off.
func cacheRoot() string {
	if d := os.Getenv(CacheDirEnv); d != "" {
		if d == "off" {
			return ""
		}
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "vaexp")
}

// cachePath is the cache file of split from the MNIST files in dir: one file
// per (directory, split), so two data directories do not evict each other.
func cachePath(root, dir, split string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(root, "mnist", split+"-"+hex.EncodeToString(sum[:8])+".bin")
}

// encodeCacheHeader returns the header for key, checksum not yet set.
func encodeCacheHeader(key cacheKey) []byte {
	h := make([]byte, cacheHeaderLen)
	copy(h, cacheMagic)
	le := binary.LittleEndian
	le.PutUint32(h[8:], cacheVersion)
	le.PutUint32(h[12:], uint32(key.n))
	le.PutUint32(h[16:], uint32(key.height))
	le.PutUint32(h[20:], uint32(key.width))
	le.PutUint64(h[24:], key.images.size)
	le.PutUint64(h[32:], key.labels.size)
	le.PutUint32(h[40:], key.images.crc)
	le.PutUint32(h[44:], key.labels.crc)
	return h
}

// cacheSum is the checksum of a cache file: its header up to the checksum, then its content.
func cacheSum(header []byte, content ...[]byte) uint32 {
	s := crc32.Checksum(header[:cacheSumAt], castagnoli)
	for _, c := range content {
		s = crc32.Update(s, castagnoli, c)
	}
	return s
}

// readCache loads the cache file at path if it matches key and is intact; the
// outcome says why not otherwise. The returned slices alias one buffer.
func readCache(path string, key cacheKey) (*Images, string) {
	dim := key.height * key.width
	size := int64(cacheHeaderLen + key.n*dim + key.n)
	st, err := os.Stat(path)
	if err != nil {
		return nil, cacheMiss
	}
	if st.Size() < cacheHeaderLen {
		return nil, cacheCorrupt
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, cacheMiss
	}
	defer f.Close()
	hdr := make([]byte, cacheHeaderLen)
	if _, err := io.ReadFull(f, hdr); err != nil || string(hdr[:8]) != cacheMagic {
		return nil, cacheCorrupt
	}
	want := encodeCacheHeader(key)
	if string(hdr[8:cacheSumAt]) != string(want[8:cacheSumAt]) {
		return nil, cacheStale // Another version or other sources (a size mismatch is caught below).
	}
	if st.Size() != size {
		return nil, cacheCorrupt
	}
	content := make([]byte, size-cacheHeaderLen)
	if _, err := io.ReadFull(f, content); err != nil {
		return nil, cacheCorrupt
	}
	if cacheSum(hdr, content) != binary.LittleEndian.Uint32(hdr[cacheSumAt:]) {
		return nil, cacheCorrupt
	}
	np := key.n * dim
	labels := content[np:]
	if i, _ := badLabel(labels); i >= 0 {
		return nil, cacheCorrupt
	}
	return &Images{
		N: key.n, Height: key.height, Width: key.width,
		Pixels: content[:np:np],
		Labels: labels,
	}, cacheHit
}

// writeCache writes im as the cache file at path, atomically (see
// WriteFileAtomic). It does not fsync: a file torn by a crash fails its
// checksum and is rebuilt, which is cheaper than syncing 47 MB on every rebuild.
func writeCache(path string, key cacheKey, im *Images) error {
	hdr := encodeCacheHeader(key)
	binary.LittleEndian.PutUint32(hdr[cacheSumAt:], cacheSum(hdr, im.Pixels, im.Labels))
	return WriteFileAtomic(path, false, hdr, im.Pixels, im.Labels)
}

// WriteFileAtomic writes the chunks, in order, as the file at path (creating
// its directory), atomically: a temporary file in the same directory renamed
// over path, so a reader sees the old file or the whole new one, and two
// writers each rename a whole file. With sync the data reaches the disk
// before the rename. The caches of vaexp (decoded MNIST, the evaluation
// classifier) are written this way.
func WriteFileAtomic(path string, sync bool, chunks ...[]byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for _, b := range chunks {
		if _, err := tmp.Write(b); err != nil {
			return err
		}
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
