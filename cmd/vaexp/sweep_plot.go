package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments/sweep"
	"github.com/vaexp/vaexp/tracker"
)

func newSweepPlotCmd(a *app) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "plot SWEEP --out DIR",
		Short: "Draw what a sweep found: metric against each parameter, parallel coordinates, halving rungs, rate–distortion",
		Long: "plot writes PNG figures into DIR: metric-vs-<param>.png (mean ± std over seeds),\n" +
			"parallel.png (parallel coordinates of the finished trials), rungs.png (halving sweeps:\n" +
			"metric against budget, pruned trials grey) and rate-distortion.png (β sweeps whose runs\n" +
			"record test/kl and test/recon: KL against reconstruction, coloured by β).",
		Example: "  vaexp sweep plot beta --out beta-plots",
		Args:    sweepIDArgs,
		RunE: a.onSweep(func(c *cobra.Command, db *tracker.DB, sw tracker.Sweep) error {
			if dir == "" {
				return usagef("sweep plot needs --out DIR, the folder for the figures")
			}
			files, err := sweep.Plot(db, sw.ID, dir)
			for _, f := range files {
				fmt.Fprintf(c.OutOrStdout(), "wrote %s\n", f)
			}
			return err
		}),
	}
	// Its own --out shadows the global runs folder, as plot and samples do.
	c.Flags().StringVarP(&dir, "out", "o", "", "`DIR` for the figures (created if needed)")
	return c
}
