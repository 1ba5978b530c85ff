#!/usr/bin/python3
"""PyTorch reference for vaexp's k-sample IWAE estimate of log p(x).

The model is the IWAE paper's one-stochastic-layer MNIST VAE (Burda et al.
2016): encoder 784-200-200-(50 means, 50 log-variances), decoder 50-200-200-784,
tanh, Bernoulli pixels; the estimate is

    log p(x) ~ log (1/k) sum_s p(x|z_s) p(z_s) / q(z_s|x),  z_s ~ q(z|x),

averaged over the (dynamically binarized) MNIST test images, k = 5000 by
default: what `vaexp eval RUN --metrics nll --iwae-k 5000` computes.

Weights: `--checkpoint DIR` reads a vaexp run's GoMLX checkpoint (the newest
checkpoint-*.json/.bin pair in DIR, e.g. runs/7/checkpoint) so both programs
score the same model; without it the weights are nn.Linear's random init (the
time does not depend on the values).

The computation is written as a PyTorch user would write it at its fastest:
inference mode, one [B*c, 50] x [50, 200] ... [200, 784] chain per chunk of c
samples of B examples, binary_cross_entropy_with_logits summed over pixels,
logsumexp over the k log-weights. --batch and --chunk set B and c (default 20
images x 50 samples: 1000 decodes per forward, whose [1000, 784] logits stay in
cache, the fastest of the shapes tried on a 2-core AVX-512 machine, 35 GFLOP
per CPU second against 19-20 with 5000-20000 decodes per forward; see
README.md).

Run it through run.sh, which sets the BLAS environment (see README.md):
    bench/pytorch/run.sh iwae_estimate.py --n 10000 --k 5000 --threads 1 --json
"""
import argparse
import glob
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vae_mnist import blas_config, find_data_dir, read_idx_images

LATENT = 50


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def load_checkpoint(enc, dec, folder):
    """Copies a vaexp checkpoint's encoder/decoder variables into enc and dec."""
    index = sorted(glob.glob(os.path.join(folder, "checkpoint-*.json")))
    if not index:
        sys.exit("no checkpoint-*.json in %s" % folder)
    meta = json.load(open(index[-1]))
    raw = open(index[-1][:-len(".json")] + ".bin", "rb").read()
    header = b"gomlx_checkpointss"  # then a length byte and the compression name (GoMLX checkpoint.go)
    if raw.startswith(header):
        n = raw[len(header)]
        fmt = raw[len(header) + 1:len(header) + 1 + n].decode()
        raw = raw[len(header) + 1 + n:]
        if fmt == "gzip":
            raw = gzip.decompress(raw)
        elif fmt not in ("", "none", "raw"):
            sys.exit("checkpoint %s: unknown compression %r" % (index[-1], fmt))
    values = {}
    for v in meta["Variables"]:
        if v["DType"] == "Float32":
            a = np.frombuffer(raw, dtype="<f4", count=v["Length"] // 4, offset=v["Pos"])
            values[v["ParameterName"][len("var:"):]] = torch.from_numpy(a.reshape(v["Dimensions"]).copy())
    for name, net in (("encoder", enc), ("decoder", dec)):
        linears = [m for m in net if isinstance(m, nn.Linear)]
        for i, lin in enumerate(linears):
            w = values["/model/%s/layer_%d/weights" % (name, i)]  # [out, in], as nn.Linear
            b = values["/model/%s/layer_%d/biases" % (name, i)]
            if tuple(w.shape) != tuple(lin.weight.shape):
                sys.exit("%s layer %d: checkpoint weights %s, model %s" % (name, i, tuple(w.shape), tuple(lin.weight.shape)))
            lin.weight.copy_(w)
            lin.bias.copy_(b)
    return index[-1]


@torch.inference_mode()
def estimate(enc, dec, x, k, batch, chunk, gen):
    """Mean k-sample IWAE estimate of log p(x) over the rows of x, in nats."""
    total = 0.0
    for b0 in range(0, x.shape[0], batch):
        xb = x[b0:b0 + batch]
        nb = xb.shape[0]
        h = enc(xb)
        mu, logvar = h[:, :LATENT], h[:, LATENT:]
        std = torch.exp(0.5 * logvar)
        lws = []
        for s0 in range(0, k, chunk):
            c = min(chunk, k - s0)
            eps = torch.randn(c, nb, LATENT, generator=gen)
            z = mu + std * eps
            logits = dec(z.reshape(c * nb, LATENT)).reshape(c, nb, -1)
            logpx = -F.binary_cross_entropy_with_logits(logits, xb.expand(c, nb, -1), reduction="none").sum(-1)
            # log p(z) - log q(z|x); the 2*pi constants cancel.
            lws.append(logpx + (-0.5 * z * z).sum(-1) + (0.5 * eps * eps + 0.5 * logvar).sum(-1))
        lw = torch.cat(lws)
        total += (torch.logsumexp(lw, 0) - math.log(k)).sum().item()
    return total / x.shape[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k", type=int, default=5000, help="importance samples per image")
    p.add_argument("--n", type=int, default=10000, help="test images scored (the first n)")
    p.add_argument("--batch", type=int, default=20, help="images per forward pass")
    p.add_argument("--chunk", type=int, default=50, help="samples per image per forward pass")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--checkpoint", help="a vaexp run's checkpoint folder (runs/ID/checkpoint)")
    p.add_argument("--data-dir")
    p.add_argument("--json", action="store_true", help="print one JSON line")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    enc, dec = mlp([784, 200, 200, 2 * LATENT]), mlp([LATENT, 200, 200, 784])
    ckpt = None
    if a.checkpoint:
        with torch.no_grad():
            ckpt = load_checkpoint(enc, dec, a.checkpoint)
    data_dir = a.data_dir or find_data_dir()
    x = read_idx_images(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))[:a.n]
    gen = torch.Generator().manual_seed(a.seed)
    x = torch.bernoulli(x, generator=gen)  # dynamic binarization, one draw

    t0, c0 = time.perf_counter(), time.process_time()
    ll = estimate(enc, dec, x, a.k, a.batch, a.chunk, gen)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0

    flops = 2.0 * (LATENT * 200 + 200 * 200 + 200 * 784) * a.k * x.shape[0]
    out = {"nll": -ll, "k": a.k, "n": x.shape[0], "batch": a.batch, "chunk": a.chunk,
           "threads": a.threads, "seconds": wall, "cpu_seconds": cpu,
           "decoder_gflop": flops / 1e9, "gflop_per_s": flops / wall / 1e9,
           "checkpoint": ckpt, "torch_version": torch.__version__, "blas": blas_config(),
           "load_avg_at_end": os.getloadavg()}
    if a.json:
        print(json.dumps(out))
    else:
        print("NLL %.3f nats (k=%d, %d images) in %.1f s (%.1f CPU s), %.1f GFLOP/s on the decoder"
              % (-ll, a.k, x.shape[0], wall, cpu, flops / wall / 1e9))


if __name__ == "__main__":
    main()
