package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments"
)

func newLatentCmd(a *app) *cobra.Command {
	var o experiments.LatentOptions
	c := &cobra.Command{
		Use:   "latent RUN_ID",
		Short: "Draw a run's latent space: traversals, interpolations, conditional grid, PCA of the codes",
		Long: "latent restores the run's model from its last checkpoint and draws what its family allows,\n" +
			"each written to the run's folder and stored as an artifact of the run (replacing an\n" +
			"earlier drawing; export one with `vaexp samples RUN_ID --artifact NAME --out FILE`):\n\n" +
			"  traversals.png      one row per latent dimension: z_d over ±--span standard deviations\n" +
			"                      (the prior's for Gaussian-posterior families, the codes' otherwise),\n" +
			"                      the other dimensions at test example 0's code; each row is labelled\n" +
			"                      with the dimension's activity Cov_x(E_q[z_d]) (> 0.01: active)\n" +
			"  interpolations.png  --pairs rows: two real test examples of different classes at the\n" +
			"                      ends, --steps decoded points of the segment between their codes\n" +
			"  conditional.png     one row per class, --per-class codes from N(0, I), the same code down\n" +
			"                      each column (families whose decoder takes the label, e.g. cvae)\n" +
			"  latent_pca.png      -n test codes on their first two principal components, by class\n\n" +
			"t-SNE and UMAP are not offered: no maintained Go package implements them.",
		Example: "  vaexp latent last\n" +
			"  vaexp latent 3 --steps 11 --span 3 -n 5000",
		Args: runIDArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Check(); err != nil {
				return usagef("%v", err)
			}
			return a.latent(c, args[0], o)
		},
	}
	fl := c.Flags()
	fl.IntVar(&o.Steps, "steps", 9, "columns of traversals and interpolations")
	fl.Float64Var(&o.Span, "span", 2, "traversal range each way, in standard deviations")
	fl.IntVar(&o.Pairs, "pairs", 5, "interpolation rows")
	fl.IntVar(&o.PerClass, "per-class", 8, "columns of the conditional grid")
	fl.IntVarP(&o.N, "n", "n", 2000, "test examples encoded for the projection and the traversal range")
	fl.Int64Var(&o.Seed, "seed", 0, "seed of the conditional grid's codes (0: the run's seed)")
	return c
}

func (a *app) latent(c *cobra.Command, arg string, o experiments.LatentOptions) error {
	db, r, err := a.openRun(arg)
	if err != nil {
		return err
	}
	defer db.Close()
	figs, dir, err := experiments.RecordLatent(db, r.ID, o)
	if err != nil {
		return err
	}
	for _, f := range figs {
		fmt.Fprintf(c.OutOrStdout(), "%-19s %s\n", f.Name, f.Caption)
	}
	where := "stored as artifacts of run %d"
	if dir != "" {
		where += " and written to " + dir
	}
	fmt.Fprintf(c.OutOrStdout(), where+"\n", r.ID)
	return nil
}
