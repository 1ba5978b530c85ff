// Package eval holds vaexp's evaluation metrics, as plain Go on float64
// matrices (gonum): Fréchet distance and Inception Score on the features and
// outputs of an in-project MNIST classifier (FID-LeNet, IS), precision and
// recall of generative models, AUROC, posterior-collapse diagnostics (per-
// dimension KL, active units), disentanglement scores over a ground-truth
// interface (BetaVAE, FactorVAE, MIG, SAP, DCI) and a 2-D PCA projection.
//
// Only the classifier uses GoMLX. The package knows nothing of runs, the
// tracker or families: callers (experiments, the CLI) hand it images, codes or
// functions, and record each Value with its Version and Settings.
package eval
