package eval

import (
	"testing"

	"github.com/gomlx/compute/gobackend"
)

func TestTrainTiming(t *testing.T) {
	backend, err := gobackend.New("")
	if err != nil {
		t.Fatal(err)
	}
	c, how, err := LoadClassifier(backend, ClassifierOptions{CacheDir: t.TempDir(), Progress: func(s, n int) {
		if s%200 == 0 {
			t.Logf("step %d/%d", s, n)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s %s acc %.4f", how, c.Version(), c.TestAccuracy())
}
