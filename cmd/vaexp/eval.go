package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/vaexp/vaexp/experiments"
)

func newEvalCmd(a *app) *cobra.Command {
	var metrics, split string
	var n, k, iwaeK, anomalyK int
	c := &cobra.Command{
		Use:   "eval RUN_ID --metrics fid,is,pr,au,kl,nll,anomaly,...",
		Short: "Add evaluation figures (FID-LeNet, IS, precision/recall, active units, KL, NLL, anomaly AUROC, disentanglement) to a trained run",
		Long: "eval restores the run's model from its last checkpoint, computes the metrics and adds\n" +
			"them to the run as eval/<name> at its last step, each with its metric version and\n" +
			"settings as the tag of the same name (see `vaexp runs show RUN_ID`). The rows the run\n" +
			"already has are left untouched; evaluating again replaces only the eval/ figures.\n\n" +
			"  fid  FID-LeNet: Fréchet distance of the features of an in-project MNIST classifier\n" +
			"       (trained once, ~2.5 min, and cached) between -n samples and -n real images\n" +
			"  is   MNIST Inception Score of -n samples (10 at best)\n" +
			"  pr   precision and recall of generative models (Kynkäänniemi et al. 2019), --k\n" +
			"  au   active units (Burda et al.: Cov_x(E_q[z]) > 0.01) over -n real examples\n" +
			"  kl   KL per latent dimension (eval/kl_dim/<d>) and in total, over -n real examples\n" +
			"  nll  negative log-likelihood, --iwae-k-sample IWAE estimate over -n real examples\n" +
			"  anomaly  AUROC of anomaly scores over the first -n test examples: the classes the run\n" +
			"       left out of training (train --exclude-classes) against the others, and Gaussian\n" +
			"       noise (σ 0.2), occlusion (a black square over the centre of mass) and a 90°\n" +
			"       rotation of the others against the originals, each by every score the family\n" +
			"       has: negative ELBO, --anomaly-k-sample IWAE bound, reconstruction error\n" +
			"       (eval/anomaly/<case>/<score>)\n" +
			"  betavae, factorvae, mig, sap, dci  disentanglement on the data's ground-truth\n" +
			"       factors (runs trained on shapes or shapes-32)\n\n" +
			"A metric the run's family cannot provide (nll for an autoencoder, au for a model\n" +
			"without an encoder) is refused before any work, naming what the family lacks.",
		Example: "  vaexp eval last --metrics fid,is\n" +
			"  vaexp eval 3 --metrics nll --iwae-k 5000 -n 10000\n" +
			"  vaexp eval 3 --metrics fid,is,pr,au -n 2000 --split val\n" +
			"  vaexp eval 4 --metrics anomaly --anomaly-k 100   # run 4: train --exclude-classes 3",
		Args: runIDArgs,
		RunE: func(c *cobra.Command, args []string) error {
			list, err := experiments.ParseEvalMetrics(metrics)
			if err != nil {
				return usagef("--metrics: %v", err)
			}
			if n < 2 || k < 1 || iwaeK < 1 || anomalyK < 1 {
				return usagef("-n %d --k %d --iwae-k %d --anomaly-k %d: -n must be at least 2, --k, --iwae-k and --anomaly-k at least 1", n, k, iwaeK, anomalyK)
			}
			if split != "test" && split != "train" && split != "val" {
				return usagef("--split %q: use test, train or val", split)
			}
			return a.eval(c, args[0], experiments.EvalOptions{Metrics: list, Split: split, Samples: n, K: k, IWAEK: iwaeK, AnomalyK: anomalyK})
		},
	}
	fl := c.Flags()
	fl.StringVar(&metrics, "metrics", "fid,is", "comma-separated metrics: "+strings.Join(experiments.EvalMetrics, ","))
	fl.IntVarP(&n, "n", "n", 10000, "generated samples and real examples per metric")
	fl.StringVar(&split, "split", "test", "real data: test, train or val")
	fl.IntVar(&k, "k", 3, "neighbours of precision/recall")
	fl.IntVar(&iwaeK, "iwae-k", 5000, "importance samples of nll")
	fl.IntVar(&anomalyK, "anomaly-k", experiments.DefaultAnomalyK, "importance samples of anomaly's iwae score")
	return c
}

func (a *app) eval(c *cobra.Command, arg string, opts experiments.EvalOptions) error {
	db, r, err := a.openRun(arg)
	if err != nil {
		return err
	}
	defer db.Close()
	opts.Progress = func(s string) { fmt.Fprintln(c.ErrOrStderr(), s) }
	values, step, err := experiments.Evaluate(db, r.ID, opts)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "metric\tvalue\tversion and settings")
	for _, v := range values {
		fmt.Fprintf(w, "eval/%s\t%.6g\t%s\n", v.Name, v.Value, v.Describe())
	}
	if err := w.Flush(); err != nil {
		return err
	}
	plural := "s"
	if len(values) == 1 {
		plural = ""
	}
	fmt.Fprintf(c.OutOrStdout(), "recorded %d figure%s in run %d at step %d\n", len(values), plural, r.ID, step)
	return nil
}
