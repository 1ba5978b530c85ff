package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments"
)

func newSamplesCmd(a *app) *cobra.Command {
	var out, artifact string
	var n, cols int
	c := &cobra.Command{
		Use:   "samples RUN_ID --out FILE.png|FILE.gif",
		Short: "Draw samples from a run's checkpoint, or export a stored image artifact",
		Long: "samples restores the run's model from its last checkpoint and writes a grid of n\n" +
			"generated images. A sequence family's samples are drawn by the file extension: a\n" +
			"frame strip (.png, one sequence per row) or an animated GIF (.gif); series as panels.\n" +
			"With --artifact NAME it instead exports an artifact stored in the database (see\n" +
			"`vaexp runs show RUN_ID`), e.g. reconstructions.png.",
		Example: "  vaexp samples last --out samples.png -n 100 --cols 10\n" +
			"  vaexp samples 3 --out samples.gif -n 8     # a sequence family: an animation\n" +
			"  vaexp samples 3 --artifact reconstructions.png --out recon.png",
		Args: runIDArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return usagef("samples needs --out FILE, e.g. `vaexp samples %s --out samples.png`", args[0])
			}
			if artifact != "" {
				if c.Flags().Changed("n") || c.Flags().Changed("cols") {
					return usagef("--artifact exports a stored image as it is: drop -n and --cols")
				}
				return a.exportArtifact(c, args[0], artifact, out)
			}
			if n < 1 || cols < 1 || n > maxSamples || cols > maxSamples {
				return usagef("-n %d --cols %d: both must be in 1..%d", n, cols, maxSamples)
			}
			return a.samples(c, args[0], out, n, cols)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&out, "out", "o", "", "PNG file to write (or GIF for sequences)")
	fl.IntVarP(&n, "n", "n", 64, "number of samples")
	fl.IntVar(&cols, "cols", 8, "columns of the grid")
	fl.StringVar(&artifact, "artifact", "", "export this stored artifact instead of sampling (e.g. samples.png, reconstructions.png)")
	return c
}

// maxSamples bounds -n and --cols: the grid is one image, unreadable (and
// soon too large to encode) beyond this; train's --samples has the same bound.
const maxSamples = 1024

func (a *app) samples(c *cobra.Command, arg, out string, n, cols int) error {
	if ext := strings.ToLower(filepath.Ext(out)); ext != ".png" && ext != ".gif" {
		return usagef("--out %q: samples are written as PNG (or, for sequences, GIF); use a file name ending in .png or .gif", out)
	}
	db, r, err := a.openRun(arg)
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := experiments.Load(db, r.ID)
	if err != nil {
		return err
	}
	raw, err := t.DrawSamples(n, cols, out)
	if err != nil {
		return fmt.Errorf("sample run %d: %w", r.ID, err)
	}
	if err := writeBytesAtomic(out, raw); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s (%d samples of run %d)\n", out, n, r.ID)
	return nil
}

func (a *app) exportArtifact(c *cobra.Command, arg, name, out string) error {
	db, r, err := a.openRun(arg)
	if err != nil {
		return err
	}
	defer db.Close()
	data, info, err := db.Artifact(r.ID, name)
	if err != nil {
		return err
	}
	if err := writeBytesAtomic(out, data); err != nil {
		return err
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s (%s of run %d, step %d, %s, %s)\n", out, name, r.ID, info.Step, info.MIME, formatSize(info.Size))
	return nil
}
