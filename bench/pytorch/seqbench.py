"""Shared parts of the PyTorch references of vaexp's sequence families
(vrnn_step.py, seqvae_step.py): the frame networks with the same layers,
widths and initialization as variants/sequence.go, the likelihood, and the
timing loop, so that each script holds only its family's model.

Frame networks, per frame of H x W x 1 (NHWC in vaexp, NCHW here):
  mlp:  phi_x = Linear(H*W -> hidden) + ReLU, Linear(hidden -> features) + ReLU
        decoder = Linear(cond -> hidden) + ReLU, Linear(hidden -> H*W) (logits)
  conv: phi_x = conv 3x3 s2 p1 (1 -> 32) + ReLU, conv 3x3 s2 p1 (32 -> 64) + ReLU,
              flatten, Linear(-> features) + ReLU
        decoder = Linear(cond -> H/4*W/4*64) + ReLU, nearest 2x upsample +
              conv 3x3 p1 (64 -> 32) + ReLU, nearest 2x upsample + conv 3x3 p1 (32 -> 1)
Every layer keeps PyTorch's default initialization (vaexp's init=pytorch).
"""
import argparse
import json
import resource
import statistics
import time

import torch
from torch import nn
from torch.nn import functional as F

# The data sets of vaexp's BenchmarkTrainStep: name -> (frames, side).
DATA = {"moving-mnist-1": (10, 32), "moving-mnist": (20, 64)}


class FrameEncoder(nn.Module):
    """phi_x: one frame [N, 1, H, W] -> [N, features], ReLU outputs."""

    def __init__(self, arch, side, hidden, features):
        super().__init__()
        self.arch = arch
        if arch == "mlp":
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(side * side, hidden), nn.ReLU(), nn.Linear(hidden, features), nn.ReLU())
        else:
            self.net = nn.Sequential(
                nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
                nn.Flatten(), nn.Linear((side // 4) ** 2 * 64, features), nn.ReLU())

    def forward(self, x):
        return self.net(x)


class FrameDecoder(nn.Module):
    """cond [N, K] -> logits [N, 1, H, W]."""

    def __init__(self, arch, side, cond, hidden):
        super().__init__()
        self.arch, self.side = arch, side
        if arch == "mlp":
            self.net = nn.Sequential(nn.Linear(cond, hidden), nn.ReLU(), nn.Linear(hidden, side * side))
        else:
            self.dense = nn.Linear(cond, (side // 4) ** 2 * 64)
            self.conv0 = nn.Conv2d(64, 32, 3, padding=1)
            self.conv1 = nn.Conv2d(32, 1, 3, padding=1)

    def forward(self, c):
        if self.arch == "mlp":
            return self.net(c).view(-1, 1, self.side, self.side)
        y = F.relu(self.dense(c)).view(-1, 64, self.side // 4, self.side // 4)
        y = F.relu(self.conv0(F.interpolate(y, scale_factor=2, mode="nearest")))
        return self.conv1(F.interpolate(y, scale_factor=2, mode="nearest"))


def mlp(i, hidden, o):
    return nn.Sequential(nn.Linear(i, hidden), nn.ReLU(), nn.Linear(hidden, o))


def gaussian(params):
    mu, logvar = params.chunk(2, dim=-1)
    return mu, logvar


def kl_gaussians(mq, lq, mp, lp):
    """KL(q || p) of diagonal Gaussians, summed over the last axis."""
    return 0.5 * torch.sum(lp - lq + (lq.exp() + (mq - mp) ** 2) / lp.exp() - 1, dim=-1)


def sample(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


def bce_per_step(logits, x):
    """-log p(x_t | .) per frame: BCE with logits summed over pixels, [N]."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def time_steps(make_model, x, threads, steps, rounds, warmup):
    """Median and min wall ms per training step (Adam 1e-3, loss.backward),
    and CPU ms per step, over rounds of steps."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = model(x)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    walls, cpus = [], []
    for _ in range(rounds):
        c0, t0 = cpu_seconds(), time.perf_counter()
        for _ in range(steps):
            loss = step()
        walls.append((time.perf_counter() - t0) / steps)
        cpus.append((cpu_seconds() - c0) / steps)
    return {
        "threads": threads,
        "median_ms": 1e3 * statistics.median(walls),
        "min_ms": 1e3 * min(walls),
        "cpu_ms": 1e3 * statistics.median(cpus),
        "loss": float(loss),
    }


def main(description, family, make_model):
    """Parses the flags every script shares, times make_model(arch, frames,
    side) on uniform [0, 1] sequences of the chosen data set's shape, and
    prints one line (or one JSON object) per thread count."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--arch", choices=["mlp", "conv"], default="mlp")
    p.add_argument("--data", choices=sorted(DATA), default=None, help="default: moving-mnist-1 for mlp, moving-mnist for conv (as BenchmarkTrainStep)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    data = a.data or ("moving-mnist-1" if a.arch == "mlp" else "moving-mnist")
    frames, side = DATA[data]
    torch.manual_seed(0)
    x = torch.rand(a.batch, frames, 1, side, side)
    for t in a.threads:
        r = time_steps(lambda: make_model(a.arch, frames, side), x, t, a.steps, a.rounds, a.warmup)
        r.update({"family": family, "arch": a.arch, "data": data, "batch": a.batch, "torch": torch.__version__})
        if a.json:
            print(json.dumps(r), flush=True)
        else:
            print("%s/%s/%s torch %s threads=%d: median %.1f ms/step, min %.1f ms, cpu %.1f ms/step" % (
                family, a.arch, data, torch.__version__, t, r["median_ms"], r["min_ms"], r["cpu_ms"]), flush=True)
