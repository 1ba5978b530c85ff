package experiments

import (
	"github.com/vaexp/vaexp/experiments/data"
)

// The data side of a run: its data set loaded, binarized, split and capped as its spec says.

func (r *runner) loadData() error {
	d := r.spec.Data
	ds, err := data.Get(d.Name)
	if err != nil {
		return &SpecError{Err: err}
	}
	desc := ds.Describe()
	splits, err := ds.Load(data.LoadOptions{Dir: d.Dir, Seed: d.Seed})
	if err != nil {
		return dataDirError(d.Dir, err)
	}
	train, test := splits.Train, splits.Test
	binarize := d.Binarize
	if binarize == "static" {
		// Each example's draw is fixed by its index in the full split, so
		// the validation split and --limit see the same binarized examples.
		train, test = data.StaticBinarized(train, r.spec.Seed), data.StaticBinarized(test, r.spec.Seed+1)
		binarize = "none"
	}
	if len(d.ExcludeClasses) > 0 {
		// Before the validation split, so neither split holds an excluded
		// class; labels are read from the split as stored (a static
		// binarization keeps its order and labels).
		train = data.WithoutClasses(train, data.Labels(splits.Train, desc.Shape), d.ExcludeClasses)
	}
	train, val, err := data.Holdout(train, d.Val, r.spec.Seed)
	if err != nil {
		return &SpecError{Err: err}
	}
	if d.Limit > 0 {
		train = data.Head(train, d.Limit)
	}
	if d.TestLimit > 0 {
		test = data.Head(test, d.TestLimit)
	}
	mk := func(s data.Split) *exampleSet {
		if s == nil {
			return nil
		}
		return &exampleSet{split: s, binarize: binarize, seed: r.spec.Seed, shape: desc.Shape}
	}
	r.desc = desc
	r.train_, r.val, r.test = mk(train), mk(val), mk(test)
	return nil
}
