// Package vae holds the mathematics every vaexp family shares and the contract
// every family implements.
//
// The contract is [Model]: a family builds its loss for one [Batch] as named
// [Term]s (each per example, in nats unless its doc says otherwise), generates,
// reconstructs and encodes. Families that train extra networks with their own
// optimizers (discriminators) return [AuxObjective]s instead of special-casing
// the training loop.
//
// The shared pieces are the diagonal Gaussian posterior with the
// reparameterization trick ([Gaussian]), likelihoods ([BernoulliLogLik],
// [GaussianLogLik]), analytic KL divergences ([KLStdNormal], [KLGaussians]),
// the importance-weighted bound ([LogMeanExp]) and small layer builders ([Dense],
// [MLP], convolutions, an [LSTM] cell) whose initialization is a documented
// choice ([Init]).
//
// Sequences fit the same contract: a batch has a time axis ([Shape.Frames]),
// and sequence families offer [Continuer] (sample the continuation of a
// prefix) and [StepScorer] (the negative ELBO of each step).
//
// The package knows nothing of the tracker, the CLI or files.
package vae
