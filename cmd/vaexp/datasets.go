package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments/data"
)

func newDatasetsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "datasets [NAME]",
		Short: "List the data sets, or describe one (shape, labels, factors, sizes)",
		Example: "  vaexp datasets\n" +
			"  vaexp datasets mnist",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("datasets takes at most one NAME, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
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
			fmt.Fprintf(w, "\ntrain on it with `vaexp train --data %s`\n", d.Name)
			return nil
		},
	}
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
