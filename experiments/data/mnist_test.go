package data

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadMNISTReal loads the real splits, through an empty cache and then
// from it, and checks them against known facts about MNIST.
func TestLoadMNISTReal(t *testing.T) {
	dir := realMNISTDir(t)
	tests := []struct {
		split      string
		n          int
		firstLabel uint8
		mean       float64 // Mean grey level in [0,1].
		counts     [10]int // Examples per class.
	}{
		{"train", 60000, 5, 0.1306605, [10]int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}},
		{"test", 10000, 7, 0.1325146, [10]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}},
	}
	for _, tc := range tests {
		t.Run(tc.split, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			im, info, err := loadMNIST(dir, tc.split, root)
			if err != nil {
				t.Fatal(err)
			}
			if info.cache != cacheMiss || !info.written {
				t.Errorf("first load: cache %s, written %v; want miss, written", info.cache, info.written)
			}
			if im.N != tc.n || im.Height != 28 || im.Width != 28 || len(im.Pixels) != tc.n*784 || len(im.Labels) != tc.n {
				t.Fatalf("shape N=%d %d×%d, %d pixels, %d labels", im.N, im.Height, im.Width, len(im.Pixels), len(im.Labels))
			}
			if im.Labels[0] != tc.firstLabel {
				t.Errorf("first label %d, want %d", im.Labels[0], tc.firstLabel)
			}
			if im.Name != "mnist-"+tc.split {
				t.Errorf("name %q", im.Name)
			}
			var sum, lo, hi = 0, 255, 0
			for _, p := range im.Pixels {
				sum += int(p)
				lo, hi = min(lo, int(p)), max(hi, int(p))
			}
			if lo != 0 || hi != 255 {
				t.Errorf("pixel range %d..%d, want 0..255", lo, hi)
			}
			if mean := float64(sum) / 255 / float64(len(im.Pixels)); mean < tc.mean-1e-6 || mean > tc.mean+1e-6 {
				t.Errorf("mean grey level %.7f, want %.7f", mean, tc.mean)
			}
			var counts [10]int
			for _, l := range im.Labels {
				counts[l]++
			}
			if counts != tc.counts {
				t.Errorf("class counts %v, want %v", counts, tc.counts)
			}

			again, info, err := loadMNIST(dir, tc.split, root)
			if err != nil {
				t.Fatal(err)
			}
			if info.cache != cacheHit || info.written {
				t.Errorf("second load: cache %s, written %v; want hit, not written", info.cache, info.written)
			}
			if !sameImages(im, again) || again.Name != im.Name {
				t.Error("cached copy differs from the decoded one")
			}
		})
	}
}

// TestLoadMNISTLabelOutOfRange puts label 11 at index 42 of a copy of the
// real test labels and checks the exact message.
func TestLoadMNISTLabelOutOfRange(t *testing.T) {
	dir := copySplit(t, "test")
	path := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
	raw := gunzipFile(t, path)
	raw[8+42] = 11
	writeFile(t, path, gzipBytes(t, raw))
	_, err := LoadMNIST(dir, "test")
	want := path + ": label 11 at index 42 out of range 0..9"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestLoadMNISTTruncatedImages cuts a copy of the real test images in half.
func TestLoadMNISTTruncatedImages(t *testing.T) {
	dir := copySplit(t, "test")
	path := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
	raw := gunzipFile(t, path)
	writeFile(t, path, gzipBytes(t, raw[:len(raw)/2]))
	_, _, err := loadMNIST(dir, "test", t.TempDir())
	want := path + ": short data: 3919992 of 7840000 bytes for 10000 images (truncated file?)"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestLoadMNISTBadArguments checks the errors for a bad split or directory.
func TestLoadMNISTBadArguments(t *testing.T) {
	if _, err := LoadMNIST(t.TempDir(), "validation"); err == nil || !strings.Contains(err.Error(), `"validation"`) {
		t.Errorf("bad split: %v", err)
	}
	empty := t.TempDir()
	for _, root := range []string{"", t.TempDir()} { // Without and with a cache.
		_, _, err := loadMNIST(empty, "train", root)
		if err == nil {
			t.Fatal("no error for an empty directory")
		}
		for _, want := range []string{filepath.Join(empty, "train-"), "--data-dir", MNISTDirEnv} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	}
}
