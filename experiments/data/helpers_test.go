package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// realMNISTDir returns the directory of the real MNIST files; tests need them.
func realMNISTDir(tb testing.TB) string {
	tb.Helper()
	d, err := MNISTDir()
	if err != nil {
		tb.Fatalf("MNISTDir: %v", err)
	}
	return d
}

var (
	testSplitOnce sync.Once
	testSplit     *Images
	testSplitErr  error
)

// realTest returns the real MNIST test split, decoded once per test binary.
func realTest(tb testing.TB) *Images {
	tb.Helper()
	dir := realMNISTDir(tb)
	testSplitOnce.Do(func() { testSplit, _, testSplitErr = loadMNIST(dir, "test", "") })
	if testSplitErr != nil {
		tb.Fatal(testSplitErr)
	}
	return testSplit
}

// copySplit copies the real .gz files of split into a new temporary directory.
func copySplit(t *testing.T, split string) string {
	t.Helper()
	src, dst := realMNISTDir(t), t.TempDir()
	for _, name := range mnistFiles[split] {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dst, name), b)
	}
	return dst
}

// writeFile writes b at path or fails the test.
func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// gzipBytes returns b compressed with gzip.
func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gunzipFile returns the decompressed content of the .gz file at path.
func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encodeIDX returns a plain IDX file with the given magic, sizes and data.
func encodeIDX(magic uint32, sizes []int, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, s := range sizes {
		b = binary.BigEndian.AppendUint32(b, uint32(s))
	}
	return append(b, data...)
}

// sameImages reports whether a and b hold the same examples.
func sameImages(a, b *Images) bool {
	return a.N == b.N && a.Height == b.Height && a.Width == b.Width &&
		bytes.Equal(a.Pixels, b.Pixels) && bytes.Equal(a.Labels, b.Labels)
}
