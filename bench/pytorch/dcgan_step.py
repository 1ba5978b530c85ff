#!/usr/bin/python3
"""PyTorch side of BenchmarkTrainStep/dcgan (experiments/bench_test.go): one
training step (discriminator + generator update) of vaexp's default DCGAN,
for a side-by-side figure (bench/dcgan_step.sh runs both, alternating).

Model: exactly vaexp's `dcgan` defaults on 28x28x1 (variants/dcgan.go),
weights N(0, 0.02^2), biases 0, batch norm scale 1 / offset 0, eps 1e-5,
momentum 0.1, 100-d z ~ N(0, I):
  G: Linear(100 -> 7*7*128) -> BatchNorm2d(128) -> ReLU
     -> nearest 2x upsample -> Conv2d(128 -> 64, 5x5, pad 2) -> BatchNorm2d(64) -> ReLU
     -> nearest 2x upsample -> Conv2d(64 -> 1, 5x5, pad 2) -> sigmoid
  D: 2x - 1 -> Conv2d(1 -> 64, 5x5, stride 2, pad 2) -> LeakyReLU(0.2)
     -> Conv2d(64 -> 128, 5x5, stride 2, pad 2) -> BatchNorm2d(128) -> LeakyReLU(0.2)
     -> flatten -> Linear(7*7*128 -> 1) (logit)
  losses: D: mean of BCE(D(x), 1) and BCE(D(G(z)), 0); G: BCE(D(G(z)), 1)
  (non-saturating); Adam(2e-4, betas (0.5, 0.999)) for each player.
Every convolution and linear layer has a bias, as in vaexp (the ones before a
batch norm are redundant but cost next to nothing).

--recipe simultaneous (default) is vaexp's step: one generator pass, the
discriminator on the real and on the generated batch (each normalized by its
own batch statistics), and both players' gradients taken from those same
passes, with each Adam updating only its own player.
--recipe alternating is the pytorch/examples DCGAN step: a discriminator
update on x and G(z).detach(), then a third discriminator pass on G(z) for
the generator's update (one more discriminator forward and backward).

Input: batch 128 of 28x28x1 uniform in [0, 1] (fixed): the values do not
change the time of dense kernels.

Fair-baseline environment (/work/shared/notes/gomlx.md): Debian's torch under
/usr/bin/python3, OPENBLAS_NUM_THREADS=1 and OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE unset, e.g.

  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \\
      /usr/bin/python3 bench/pytorch/dcgan_step.py --threads 1 2 --layouts nchw channels_last

It prints, per thread count and layout, the median and min wall time per
step and the CPU time per step (all threads), over --rounds rounds of
--steps steps, and with --json one JSON object per line.
"""
import argparse
import json

import torch
from torch import nn
from torch.nn import functional as F

from conv_vae_step import time_steps


def init_paper(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, latent=100, w=(128, 64), c=1, hw=28):
        super().__init__()
        self.w0, self.s0 = w[0], hw // 4
        self.project = nn.Linear(latent, self.s0 * self.s0 * w[0])
        self.bn0 = nn.BatchNorm2d(w[0], eps=1e-5, momentum=0.1)
        self.conv0 = nn.Conv2d(w[0], w[1], 5, padding=2)
        self.bn1 = nn.BatchNorm2d(w[1], eps=1e-5, momentum=0.1)
        self.conv1 = nn.Conv2d(w[1], c, 5, padding=2)

    def forward(self, z, memory_format):
        y = self.project(z).view(-1, self.w0, self.s0, self.s0).contiguous(memory_format=memory_format)
        y = F.relu(self.bn0(y))
        y = F.relu(self.bn1(self.conv0(F.interpolate(y, scale_factor=2, mode="nearest"))))
        return torch.sigmoid(self.conv1(F.interpolate(y, scale_factor=2, mode="nearest")))


class Discriminator(nn.Module):
    def __init__(self, w=(64, 128), c=1, hw=28):
        super().__init__()
        self.conv0 = nn.Conv2d(c, w[0], 5, stride=2, padding=2)
        self.conv1 = nn.Conv2d(w[0], w[1], 5, stride=2, padding=2)
        self.bn1 = nn.BatchNorm2d(w[1], eps=1e-5, momentum=0.1)
        s = (hw + 3) // 4
        self.logit = nn.Linear(s * s * w[1], 1)

    def forward(self, x):
        h = F.leaky_relu(self.conv0(2 * x - 1), 0.2)
        h = F.leaky_relu(self.bn1(self.conv1(h)), 0.2)
        return self.logit(h.flatten(1)).view(-1)


def bench(threads, layout, recipe, batch, steps, rounds, warmup):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    mf = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    G, D = Generator(), Discriminator()
    G.apply(init_paper)
    D.apply(init_paper)
    G, D = G.to(memory_format=mf), D.to(memory_format=mf)
    optG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    x = torch.rand(batch, 1, 28, 28).contiguous(memory_format=mf)
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    bce = F.binary_cross_entropy_with_logits
    d_params, g_params = list(D.parameters()), list(G.parameters())

    def simultaneous():
        fake = G(torch.randn(batch, 100), mf)
        real_logits, fake_logits = D(x), D(fake)
        loss_d = 0.5 * (bce(real_logits, ones) + bce(fake_logits, zeros))
        loss_g = bce(fake_logits, ones)
        grads_d = torch.autograd.grad(loss_d, d_params, retain_graph=True)
        grads_g = torch.autograd.grad(loss_g, g_params)
        for p, g in zip(d_params, grads_d):
            p.grad = g
        for p, g in zip(g_params, grads_g):
            p.grad = g
        optD.step()
        optG.step()
        return loss_d.item(), loss_g.item()

    def alternating():
        fake = G(torch.randn(batch, 100), mf)
        optD.zero_grad()
        loss_d = 0.5 * (bce(D(x), ones) + bce(D(fake.detach()), zeros))
        loss_d.backward()
        optD.step()
        optG.zero_grad()
        loss_g = bce(D(fake), ones)
        loss_g.backward()
        optG.step()
        return loss_d.item(), loss_g.item()

    step = simultaneous if recipe == "simultaneous" else alternating
    return {"torch": torch.__version__, "threads": threads, "layout": layout, "recipe": recipe, "batch": batch,
            **time_steps(step, steps, rounds, warmup)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--layouts", nargs="+", default=["nchw", "channels_last"], choices=["nchw", "channels_last"])
    p.add_argument("--recipe", nargs="+", default=["simultaneous"], choices=["simultaneous", "alternating"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    for recipe in a.recipe:
        for layout in a.layouts:
            for t in a.threads:
                r = bench(t, layout, recipe, a.batch, a.steps, a.rounds, a.warmup)
                if a.json:
                    print(json.dumps(r), flush=True)
                else:
                    print("torch %s %s threads=%d %s: median %.1f ms/step, min %.1f ms, cpu %.1f ms/step" % (
                        r["torch"], recipe, t, layout, r["median_ms"], r["min_ms"], r["cpu_ms"]), flush=True)


if __name__ == "__main__":
    main()
