package eval

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
	"gonum.org/v1/gonum/mat"
)

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	backend, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	return backend
}

var (
	sharedOnce sync.Once
	sharedClf  *Classifier
	sharedErr  error
)

// testClassifier returns the real classifier (DefaultTrainConfig) from
// vaexp's cache, training and caching it first if it is missing: about two
// minutes once per machine, what `vaexp eval` does on first use too.
func testClassifier(t testing.TB) *Classifier {
	t.Helper()
	sharedOnce.Do(func() {
		var how string
		sharedClf, how, sharedErr = LoadClassifier(testBackend(t), ClassifierOptions{})
		if sharedErr == nil && how != "cached" {
			fmt.Fprintf(os.Stderr, "trained the classifier (%s): %s, test accuracy %.4f\n", how, sharedClf.Version(), sharedClf.TestAccuracy())
		}
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedClf
}

// tinyConfig trains for a few steps only: enough to exercise the cache.
var tinyConfig = TrainConfig{Epochs: 1, Steps: 5, BatchSize: 32, LearningRate: 1e-3, Seed: 3}

func TestClassifierAccuracy(t *testing.T) {
	c := testClassifier(t)
	if c.TestAccuracy() < 0.99 {
		t.Errorf("test accuracy recorded at training: %.4f, want ≥ 0.99", c.TestAccuracy())
	}
	images, labels, err := MNISTImages("test", 0)
	if err != nil {
		t.Fatal(err)
	}
	feats, probs, err := c.Outputs(images)
	if err != nil {
		t.Fatal(err)
	}
	acc := Accuracy(probs, labels)
	// Another CPU's kernels may flip an image or two: not an exact comparison.
	near(t, "test accuracy of the loaded classifier", acc, c.TestAccuracy(), 0.002)
	if r, cols := feats.Dims(); r != len(images) || cols != FeatureDim {
		t.Errorf("features %d×%d", r, cols)
	}
}

func TestClassifierCache(t *testing.T) {
	backend := testBackend(t)
	dir := t.TempDir()
	opts := ClassifierOptions{CacheDir: dir, Config: tinyConfig}
	first, how, err := LoadClassifier(backend, opts)
	if err != nil {
		t.Fatal(err)
	}
	if how != "missing" {
		t.Errorf("first load: %q, want missing", how)
	}
	path := ClassifierFile(opts)
	images, _, err := MNISTImages("test", 50)
	if err != nil {
		t.Fatal(err)
	}
	f1, p1, err := first.Outputs(images)
	if err != nil {
		t.Fatal(err)
	}
	load := func(want string) *Classifier {
		t.Helper()
		c, how, err := LoadClassifier(backend, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(how, want) {
			t.Errorf("load: %q, want %q", how, want)
		}
		return c
	}
	again := load("cached")
	if again.Version() != first.Version() {
		t.Errorf("version %s after reload, %s before", again.Version(), first.Version())
	}
	f2, p2, err := again.Outputs(images)
	if err != nil {
		t.Fatal(err)
	}
	// Same weights, same computation: bit for bit.
	if !mat.Equal(f1, f2) || !mat.Equal(p1, p2) {
		t.Error("the reloaded classifier's outputs differ from the trained one's")
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"flipped weight byte", flip(raw, len(raw)-100), "damaged: checksum"},
		{"truncated", raw[:len(raw)/2], "damaged"},
		{"not ours", []byte("hello"), "damaged: not a classifier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(path, tc.content, 0o644); err != nil {
				t.Fatal(err)
			}
			c := load(tc.want)
			if c.Version() != first.Version() {
				t.Errorf("rebuilt version %s, want %s (training is deterministic)", c.Version(), first.Version())
			}
			load("cached") // and the rebuilt file is whole again
		})
	}
	t.Run("other recipe", func(t *testing.T) {
		other := opts
		other.Config.Seed = 4
		if _, how, err := LoadClassifier(backend, other); err != nil || !strings.HasPrefix(how, "stale") {
			t.Errorf("load with another seed: %q, %v; want stale", how, err)
		}
	})
}

func flip(b []byte, i int) []byte {
	out := bytes.Clone(b)
	out[i] ^= 0x40
	return out
}

// TestConcurrentFirstUse starts two processes that both find the cache empty
// and build the classifier at once; both must succeed and leave one whole
// file that a third load accepts.
func TestConcurrentFirstUse(t *testing.T) {
	if os.Getenv("VAEXP_EVAL_HELPER") == "1" {
		_, how, err := LoadClassifier(testBackend(t), ClassifierOptions{CacheDir: os.Getenv("VAEXP_EVAL_DIR"), Config: tinyConfig})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println("how:", how)
		return
	}
	dir := t.TempDir()
	var wg sync.WaitGroup
	outs := make([]string, 2)
	errs := make([]error, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^TestConcurrentFirstUse$", "-test.count=1")
			cmd.Env = append(os.Environ(), "VAEXP_EVAL_HELPER=1", "VAEXP_EVAL_DIR="+dir)
			out, err := cmd.CombinedOutput()
			outs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()
	for i := range outs {
		if errs[i] != nil || !strings.Contains(outs[i], "how: ") {
			t.Fatalf("process %d: %v\n%s", i, errs[i], outs[i])
		}
	}
	_, how, err := LoadClassifier(testBackend(t), ClassifierOptions{CacheDir: dir, Config: tinyConfig})
	if err != nil || how != "cached" {
		t.Fatalf("after two concurrent builds: %q, %v; want cached", how, err)
	}
	trained := 0
	for _, out := range outs {
		if strings.Contains(out, "how: missing") {
			trained++
		}
	}
	if trained != 1 {
		t.Errorf("%d processes trained the classifier, want 1 (the other waits for it):\n%s\n%s", trained, outs[0], outs[1])
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"lenet-v1.bin", "lenet-v1.bin.lock"}) {
		t.Errorf("cache dir holds %v, want the classifier and its lock file (no temporary left)", names)
	}
}
