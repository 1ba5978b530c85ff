package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments"
	"github.com/vaexp/vaexp/experiments/data"
)

func newDatasetsCmd() *cobra.Command {
	var preview, dataDir string
	var n int
	var seed int64
	c := &cobra.Command{
		Use:   "datasets [NAME [--preview FILE]]",
		Short: "List the data sets, describe one (shape, labels, factors, sizes), or preview its examples",
		Long: "datasets lists the data sets, or describes one: its shape, labels, ground-truth factors\n" +
			"and how it is generated. With --preview FILE it draws the first training examples:\n" +
			"a grid of images (.png), a frame strip (.png) or an animation (.gif) of sequences,\n" +
			"a line plot of series (.png, .svg, .pdf).",
		Example: "  vaexp datasets\n" +
			"  vaexp datasets shapes\n" +
			"  vaexp datasets moving-mnist --preview moving.gif\n" +
			"  vaexp datasets regimes --preview regimes.png -n 6 --seed 3",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("datasets takes at most one NAME, got %d arguments", len(args))
			}
			if len(args) == 0 && preview != "" {
				return usagef("--preview needs a data set NAME, e.g. `vaexp datasets shapes --preview shapes.png`")
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if preview != "" {
				return previewDataset(c, args[0], preview, n, data.LoadOptions{Dir: dataDir, Seed: seed})
			}
			if len(args) == 0 {
				t := newTable(c.OutOrStdout())
				t.row("NAME", "EXAMPLE", "CLASSES", "TRAIN", "TEST", "SUMMARY")
				for _, ds := range data.All() {
					d := ds.Describe()
					t.row(d.Name, d.Shape, d.Classes, d.Train, d.Test, d.Summary)
				}
				return t.flush()
			}
			ds, err := data.Get(args[0])
			if err != nil {
				return usageError{err}
			}
			d := ds.Describe()
			w := c.OutOrStdout()
			fmt.Fprintf(w, "%s: %s\nsource: %s\n", d.Name, d.Summary, d.Source)
			values := "intensities in [0, 1] (binarizable)"
			if d.Real {
				values = "real numbers"
			}
			fmt.Fprintf(w, "example: %s, %s\nclasses: %d\nexamples: %d train, %d test\n", d.Shape, values, d.Classes, d.Train, d.Test)
			if len(d.Factors) > 0 {
				t := newTable(w)
				t.row("FACTOR", "VALUES", "RANGE")
				for _, f := range d.Factors {
					t.row(f.Name, len(f.Values), valueRange(f.Values))
				}
				fmt.Fprintln(w, "ground-truth factors:")
				if err := t.flush(); err != nil {
					return err
				}
			}
			if len(d.Details) > 0 {
				fmt.Fprintln(w, "generation:")
				for _, line := range d.Details {
					fmt.Fprintf(w, "  %s\n", line)
				}
			}
			fmt.Fprintf(w, "\npreview it with `vaexp datasets %s --preview FILE.png`; train on it with `vaexp train --data %s`\n", d.Name, d.Name)
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&preview, "preview", "", "draw the first training examples to `FILE` (.png; .gif for sequences; .svg or .pdf for series)")
	fl.IntVarP(&n, "n", "n", 0, "number of examples to preview (0: 32 images, 6 sequences in a strip, 4 in a GIF, 4 series)")
	fl.Int64Var(&seed, "seed", experiments.DefaultSpec().Data.Seed, "seed of a generated data set (a run's data.seed)")
	fl.StringVar(&dataDir, "data-dir", "", "`DIR` holding the MNIST files (default: found automatically)")
	return c
}

// previewDataset writes the preview of data set name to path.
func previewDataset(c *cobra.Command, name, path string, n int, opts data.LoadOptions) error {
	if _, err := data.Get(name); err != nil {
		return usageError{err}
	}
	if n < 0 {
		return usagef("-n %d: preview at least 1 example (0: the default)", n)
	}
	out, err := experiments.Preview(name, opts, n, path)
	if err != nil {
		return fmt.Errorf("preview %s: %w", name, err)
	}
	if err := writeBytesAtomic(path, out); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s (%s, training examples, seed %d)\n", path, name, opts.Seed)
	return nil
}

// valueRange prints a factor's grid compactly: its first and last values.
func valueRange(v []float64) string {
	switch len(v) {
	case 0:
		return "-"
	case 1, 2, 3:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = formatValue(x)
		}
		return strings.Join(parts, ", ")
	}
	return formatValue(v[0]) + " … " + formatValue(v[len(v)-1])
}
