package data

import (
	"fmt"
	"slices"

	"github.com/vaexp/vaexp/vae"
)

// Labeler is implemented by splits that read an example's label without
// rendering the example (MNIST's stored labels, the shapes' factor grid).
type Labeler interface {
	// Label returns example i's class.
	Label(i int) int
}

// Label implements Labeler.
func (im *Images) Label(i int) int { return int(im.Labels[i]) }

// Label implements Labeler: the shape (the first factor).
func (s *ShapesSplit) Label(i int) int {
	var f [5]int
	s.FactorIndices(i, f[:])
	return f[0]
}

// Labels returns every example's class: read directly from a [Labeler],
// otherwise from Fill in chunks (which renders the examples).
func Labels(s Split, shape vae.Shape) []int {
	out := make([]int, s.Len())
	if l, ok := s.(Labeler); ok {
		for i := range out {
			out[i] = l.Label(i)
		}
		return out
	}
	const chunk = 256
	x := make([]float32, chunk*shape.Size())
	y := make([]int32, chunk)
	idx := make([]int, 0, chunk)
	for start := 0; start < len(out); start += chunk {
		idx = idx[:0]
		for i := start; i < min(start+chunk, len(out)); i++ {
			idx = append(idx, i)
		}
		s.Fill(x[:len(idx)*shape.Size()], y[:len(idx)], idx)
		for k, i := range idx {
			out[i] = int(y[k])
		}
	}
	return out
}

// CheckClasses reports a bad class list for a data set with `classes`
// labels: each class must be in 0..classes−1, listed once, and at least one
// class must be left.
func CheckClasses(exclude []int, classes int, name string) error {
	if len(exclude) == 0 {
		return nil
	}
	if classes == 0 {
		return fmt.Errorf("exclude_classes %v: data %s has no classes; use a labelled data set such as mnist", exclude, name)
	}
	for i, c := range exclude {
		if c < 0 || c >= classes {
			return fmt.Errorf("exclude_classes %v: class %d is not one of data %s's classes 0..%d", exclude, c, name, classes-1)
		}
		if slices.Contains(exclude[:i], c) {
			return fmt.Errorf("exclude_classes %v: class %d is listed twice", exclude, c)
		}
	}
	if len(exclude) >= classes {
		return fmt.Errorf("exclude_classes %v: excludes all %d classes of data %s; leave at least one to train on", exclude, classes, name)
	}
	return nil
}

// WithoutClasses is the view of s without the examples whose label is in
// exclude, in their original order (s itself when exclude is empty). labels
// are the examples' classes (see [Labels]), read from s or from the split s
// wraps (a static binarization keeps the labels).
func WithoutClasses(s Split, labels []int, exclude []int) Split {
	if len(exclude) == 0 {
		return s
	}
	if len(labels) != s.Len() {
		panic(fmt.Sprintf("data: WithoutClasses: %d labels for %d examples", len(labels), s.Len()))
	}
	keep := make([]int, 0, len(labels))
	for i, l := range labels {
		if !slices.Contains(exclude, l) {
			keep = append(keep, i)
		}
	}
	return Subset(s, keep)
}
