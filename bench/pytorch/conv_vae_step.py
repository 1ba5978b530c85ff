#!/usr/bin/python3
"""PyTorch side of BenchmarkConvStep (vae/conv_bench_test.go): one training
step of the small conv VAE, for a side-by-side figure.

Model (the same as vaexp's default ConvNet, PyTorch default init):
  encoder: conv 3x3 s2 p1 (1->32) + ReLU, conv 3x3 s2 p1 (32->64) + ReLU,
           flatten, Linear(7*7*64 -> 2*20)
  decoder: Linear(20 -> 7*7*64) + ReLU, nearest 2x upsample + conv 3x3 p1
           (64->32) + ReLU, nearest 2x upsample + conv 3x3 p1 (32->1) (logits)
  loss:    summed BCE-with-logits + analytic KL, mean over the batch; Adam lr 1e-3.
Input: batch 128 of 28x28x1 uniform in [0, 1] (fixed), as in the Go benchmark.

Fair-baseline environment (/work/shared/notes/gomlx.md): run with Debian's
torch under /usr/bin/python3, OPENBLAS_NUM_THREADS=1 and OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE unset, e.g.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
      /usr/bin/python3 bench/pytorch/conv_vae_step.py --threads 1 2

It prints, per thread count, the median and min wall time per step and the
CPU time per step (all threads), over --rounds rounds of --steps steps.
"""
import argparse
import json
import resource
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F


class ConvVAE(nn.Module):
    def __init__(self, latent=20, c=1, w1=32, w2=64):
        super().__init__()
        self.w2 = w2
        self.enc0 = nn.Conv2d(c, w1, 3, stride=2, padding=1)
        self.enc1 = nn.Conv2d(w1, w2, 3, stride=2, padding=1)
        self.enc_dense = nn.Linear(7 * 7 * w2, 2 * latent)
        self.dec_dense = nn.Linear(latent, 7 * 7 * w2)
        self.dec0 = nn.Conv2d(w2, w1, 3, padding=1)
        self.dec1 = nn.Conv2d(w1, c, 3, padding=1)

    def forward(self, x):
        h = F.relu(self.enc0(x))
        h = F.relu(self.enc1(h))
        mu, logvar = self.enc_dense(h.flatten(1)).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        y = F.relu(self.dec_dense(z)).view(-1, self.w2, 7, 7)
        y = F.relu(self.dec0(F.interpolate(y, scale_factor=2, mode="nearest")))
        logits = self.dec1(F.interpolate(y, scale_factor=2, mode="nearest"))
        return logits, mu, logvar


def loss_fn(x, logits, mu, logvar):
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (bce + kld) / x.shape[0]


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def time_steps(step, steps, rounds, warmup):
    """Runs step() warmup times, then rounds rounds of steps steps; returns
    the median and min wall time and the median CPU time (all threads) per
    step over the rounds, in ms."""
    for _ in range(warmup):
        step()
    walls, cpus = [], []
    for _ in range(rounds):
        c0, t0 = cpu_seconds(), time.perf_counter()
        for _ in range(steps):
            step()
        walls.append((time.perf_counter() - t0) / steps)
        cpus.append((cpu_seconds() - c0) / steps)
    return {"median_ms": 1e3 * statistics.median(walls), "min_ms": 1e3 * min(walls), "cpu_ms": 1e3 * statistics.median(cpus)}


def bench(threads, batch, steps, rounds, warmup, channels_last):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = ConvVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(batch, 1, 28, 28)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)

    def step():
        opt.zero_grad()
        logits, mu, logvar = model(x)
        loss = loss_fn(x, logits, mu, logvar)
        loss.backward()
        opt.step()
        return loss

    return {"threads": threads, "channels_last": channels_last, **time_steps(step, steps, rounds, warmup)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--channels-last", action="store_true", help="NHWC tensors (as vaexp) instead of NCHW")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    for t in a.threads:
        r = bench(t, a.batch, a.steps, a.rounds, a.warmup, a.channels_last)
        if a.json:
            print(json.dumps(r))
        else:
            print("torch %s threads=%d channels_last=%s: median %.1f ms/step, min %.1f ms, cpu %.1f ms/step" % (
                torch.__version__, t, a.channels_last, r["median_ms"], r["min_ms"], r["cpu_ms"]))


if __name__ == "__main__":
    main()
