package data

import (
	"slices"
	"strings"
	"testing"

	"github.com/vaexp/vaexp/vae"
)

func TestLabelsWithAndWithoutLabeler(t *testing.T) {
	test := realTest(t).Head(3000)
	direct := Labels(test, mnistShape)
	// A subset hides the Labeler, so its labels come from Fill.
	all := make([]int, test.Len())
	for i := range all {
		all[i] = i
	}
	filled := Labels(Subset(test, all), mnistShape)
	if !slices.Equal(direct, filled) {
		t.Fatal("labels read directly and through Fill differ")
	}
	for i, l := range direct {
		if l != int(test.Labels[i]) {
			t.Fatalf("label %d = %d, stored %d", i, l, test.Labels[i])
		}
	}
	shapes, err := Shapes{Name: "shapes-32", Side: 32}.Load(LoadOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	head := Head(shapes.Test, 500)
	if got, want := Labels(shapes.Test.(*ShapesSplit), vae.Shape{Height: 32, Width: 32, Channels: 1})[:500],
		Labels(head, vae.Shape{Height: 32, Width: 32, Channels: 1}); !slices.Equal(got, want) {
		t.Fatal("shapes: labels from the factor grid and from rendering differ")
	}
}

func TestWithoutClasses(t *testing.T) {
	test := realTest(t).Head(2000)
	labels := Labels(test, mnistShape)
	for _, exclude := range [][]int{{3}, {0, 9}, nil} {
		s := WithoutClasses(test, labels, exclude)
		want := 0
		for _, l := range labels {
			if !slices.Contains(exclude, l) {
				want++
			}
		}
		if s.Len() != want {
			t.Errorf("exclude %v: %d examples, want %d", exclude, s.Len(), want)
		}
		got := Labels(s, mnistShape)
		for _, l := range got {
			if slices.Contains(exclude, l) {
				t.Fatalf("exclude %v: class %d still present", exclude, l)
			}
		}
	}
}

func TestCheckClasses(t *testing.T) {
	for _, c := range []struct {
		exclude []int
		classes int
		want    string // "" = valid
	}{
		{nil, 0, ""},
		{[]int{3}, 10, ""},
		{[]int{0, 9}, 10, ""},
		{[]int{3}, 0, "no classes"},
		{[]int{10}, 10, "0..9"},
		{[]int{-1}, 10, "0..9"},
		{[]int{3, 3}, 10, "twice"},
		{[]int{0, 1, 2}, 3, "at least one"},
	} {
		err := CheckClasses(c.exclude, c.classes, "d")
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("CheckClasses(%v, %d) = %v, want %q", c.exclude, c.classes, err, c.want)
		}
	}
}

var mnistShape = vae.Shape{Height: 28, Width: 28, Channels: 1}
