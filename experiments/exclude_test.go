package experiments

import (
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// TestExcludedClassesNeverTrain walks every training batch of an epoch, and
// the validation split, as the driver builds them, for each binarization.
func TestExcludedClassesNeverTrain(t *testing.T) {
	for _, binarize := range Binarizations {
		spec := DefaultSpec()
		spec.Data.Binarize = binarize
		spec.Data.ExcludeClasses = []int{3, 7}
		spec.Data.Val = 1000
		spec.Train.BatchSize = 500
		if _, err := spec.Validate(); err != nil {
			t.Fatal(err)
		}
		r := &runner{spec: spec}
		if err := r.loadData(); err != nil {
			t.Fatal(err)
		}
		sched, err := newSchedule(r.train_.len(), spec.Train.BatchSize, spec.Seed)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int32]int{}
		done := make(chan struct{})
		for b := range prefetch(r.train_, sched, 0, sched.stepsPerEpoch, done) {
			for _, l := range tensors.MustCopyFlatData[int32](b.Inputs[1]) {
				seen[l]++
			}
		}
		close(done)
		for _, c := range spec.Data.ExcludeClasses {
			if seen[int32(c)] > 0 {
				t.Errorf("binarize %s: class %d appeared %d times in training batches", binarize, c, seen[int32(c)])
			}
		}
		if len(seen) != 8 {
			t.Errorf("binarize %s: training batches hold classes %v, want the 8 others", binarize, seen)
		}
		val := r.val.batch(seq(r.val.len()), "v", 0)
		if ls := tensors.MustCopyFlatData[int32](val.Inputs[1]); slices.Contains(ls, 3) || slices.Contains(ls, 7) {
			t.Errorf("binarize %s: the validation split holds an excluded class", binarize)
		}
		test := r.test.batch(seq(r.test.len()), "t", 0)
		if ls := tensors.MustCopyFlatData[int32](test.Inputs[1]); !slices.Contains(ls, 3) || !slices.Contains(ls, 7) {
			t.Errorf("binarize %s: the test split lost the excluded classes (anomaly detection scores them)", binarize)
		}
		// 60000 MNIST training images, 6131 threes and 6265 sevens, 1000 of the rest held out.
		if got, want := r.train_.len(), 60000-6131-6265-1000; got != want {
			t.Errorf("binarize %s: %d training examples, want %d", binarize, got, want)
		}
	}
}

func TestExcludeClassesSpec(t *testing.T) {
	spec := DefaultSpec()
	spec.Data.ExcludeClasses = []int{4}
	cfg, err := spec.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if got := spec.Values(cfg)["data.exclude_classes"]; got != "4" {
		t.Errorf("param data.exclude_classes = %v, want \"4\"", got)
	}
	all := DefaultSpec()
	if _, ok := all.Values(cfg)["data.exclude_classes"]; ok {
		t.Error("a run on every class records data.exclude_classes")
	}
	parsed, err := ParseSpec("s.yaml", []byte("data:\n  exclude_classes: [1, 2]\n"))
	if err != nil || !slices.Equal(parsed.Data.ExcludeClasses, []int{1, 2}) {
		t.Fatalf("parse exclude_classes: %v, %v", parsed.Data.ExcludeClasses, err)
	}
	for _, c := range []struct {
		data    string
		exclude []int
		want    string
	}{
		{"mnist", []int{10}, "0..9"},
		{"sines", []int{0}, "no classes"},
		{"shapes-32", []int{0, 1, 2}, "at least one"},
	} {
		s := DefaultSpec()
		s.Data.Name, s.Data.ExcludeClasses = c.data, c.exclude
		if _, err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s exclude %v: %v, want an error with %q", c.data, c.exclude, err, c.want)
		}
	}
	if cls, err := ParseClasses(" 3, 5 "); err != nil || !slices.Equal(cls, []int{3, 5}) || FormatClasses(cls) != "3,5" {
		t.Errorf("ParseClasses/FormatClasses: %v, %v", cls, err)
	}
	if _, err := ParseClasses("3,x"); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Errorf("ParseClasses(3,x) = %v, want an error naming x", err)
	}
}

// seq is 0..n−1.
func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
