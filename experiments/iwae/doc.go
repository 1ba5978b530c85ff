// Package iwae computes the k-sample importance-weighted estimate of
// log p(x) (Burda et al. 2016) for a VAE with a diagonal Gaussian posterior,
// an N(0, I) prior and an MLP decoder with Bernoulli pixels, on the CPU, with
// every step fused so that no per-sample intermediate leaves the caches.
package iwae
