package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/variants"
)

func newModelsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "models [NAME]",
		Short: "List the model families, or describe one and its hyperparameters",
		Example: "  vaexp models\n" +
			"  vaexp models vae",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("models takes at most one NAME, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				t := newTable(c.OutOrStdout())
				for _, f := range variants.All() {
					t.row(f.Name, f.Summary)
				}
				return t.flush()
			}
			return describeModel(c, args[0])
		},
	}
}

func describeModel(c *cobra.Command, name string) error {
	f, err := variants.Get(name)
	if err != nil {
		return usageError{err}
	}
	w := c.OutOrStdout()
	fmt.Fprintf(w, "%s: %s\npaper: %s\n", f.Name, f.Summary, f.Paper)
	tr := f.NewConfig().Training()
	fmt.Fprintf(w, "training: Adam lr %g, betas %g/%g", tr.LR, tr.Beta1, tr.Beta2)
	if tr.Epsilon > 0 {
		fmt.Fprintf(w, ", epsilon %g", tr.Epsilon)
	}
	if tr.LRSchedule != "" && tr.LRSchedule != "constant" {
		fmt.Fprintf(w, ", learning-rate schedule %s", tr.LRSchedule)
	}
	if tr.AuxSteps > 1 {
		fmt.Fprintf(w, ", %d discriminator updates per generator update", tr.AuxSteps)
	}
	if archs := f.Architectures(); archs != nil {
		fmt.Fprintf(w, "; architectures: %s", strings.Join(archs, ", "))
	}
	fmt.Fprint(w, "\n\n")
	t := newTable(w)
	t.row("HYPERPARAMETER", "DEFAULT", "RANGE", "HELP")
	for _, p := range variants.Describe(f.NewConfig()) {
		t.row(p.Name, orDash(p.Default), orDash(p.Range), p.Help)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nset with `vaexp train --model %s --set NAME=VALUE` (latent_dim, hidden and init also have flags)\n", f.Name)
	return nil
}
