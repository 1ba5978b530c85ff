#!/usr/bin/python3
"""PyTorch side of BenchmarkTrainStep/vrnn (experiments/bench_test.go): one
training step of vaexp's vrnn (variants/vrnn.go) with the same architecture,
for a side-by-side figure (bench/seq_steps.sh runs both, alternating).

Model, defaults of `vaexp models vrnn` (latent_dim 16, state 128, features
128, hidden 256), Chung et al. 2015:
  phi_x(x_t) for all frames at once (seqbench.FrameEncoder, mlp or conv)
  loop t = 1..T, h_0 = c_0 = 0:
    q(z_t | x_t, h_{t-1}) = Gaussian(Linear(256 -> 256) + ReLU, Linear(256 -> 32)) of [phi_x, h]
    z_t = mu + sigma * eps;  phi_z = Linear(16 -> 128) + ReLU
    h_t = LSTMCell(256 -> 128)([phi_x, phi_z], (h, c))
  prior p(z_t | h_{t-1}) = Gaussian(Linear(128 -> 256) + ReLU, Linear(256 -> 32)) for all steps at once
  decoder p(x_t | z_t, h_{t-1}) of [phi_z, h_{t-1}] for all steps at once (seqbench.FrameDecoder)
  loss = sum over steps and pixels of BCE-with-logits + sum over steps of KL(q || p),
         mean over the batch; Adam lr 1e-3.
Input: batch 32 of uniform [0, 1] sequences of the data set's shape
(moving-mnist-1: 10 frames of 32x32 with --arch mlp; moving-mnist: 20 frames
of 64x64 with --arch conv), fixed.

Fair-baseline environment (/work/shared/notes/gomlx.md):
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
      /usr/bin/python3 bench/pytorch/vrnn_step.py --threads 1 2
"""
import torch
from torch import nn

import seqbench as sb


class VRNN(nn.Module):
    def __init__(self, arch, frames, side, latent=16, state=128, features=128, hidden=256):
        super().__init__()
        self.frames, self.side = frames, side
        self.phi_x = sb.FrameEncoder(arch, side, hidden, features)
        self.encoder = sb.mlp(features + state, hidden, 2 * latent)
        self.phi_z = nn.Sequential(nn.Linear(latent, features), nn.ReLU())
        self.prior = sb.mlp(state, hidden, 2 * latent)
        self.decoder = sb.FrameDecoder(arch, side, features + state, hidden)
        self.cell = nn.LSTMCell(2 * features, state)
        self.state = state

    def forward(self, x):
        b, t = x.shape[0], x.shape[1]
        fx = self.phi_x(x.reshape(b * t, 1, self.side, self.side)).view(b, t, -1)
        h = x.new_zeros(b, self.state)
        c = x.new_zeros(b, self.state)
        hs, qs, fzs = [], [], []
        for i in range(t):
            mu, logvar = sb.gaussian(self.encoder(torch.cat([fx[:, i], h], -1)))
            fz = self.phi_z(sb.sample(mu, logvar))
            hs.append(h)
            qs.append((mu, logvar))
            fzs.append(fz)
            h, c = self.cell(torch.cat([fx[:, i], fz], -1), (h, c))
        hprev = torch.stack(hs, 1)
        fz = torch.stack(fzs, 1)
        mq = torch.stack([q[0] for q in qs], 1)
        lq = torch.stack([q[1] for q in qs], 1)
        mp, lp = sb.gaussian(self.prior(hprev))
        kl = sb.kl_gaussians(mq, lq, mp, lp).sum(1)
        logits = self.decoder(torch.cat([fz, hprev], -1).reshape(b * t, -1))
        recon = sb.bce_per_step(logits, x.reshape(b * t, 1, self.side, self.side)).view(b, t).sum(1)
        return (recon + kl).mean()


if __name__ == "__main__":
    sb.main(__doc__.split("\n")[0], "vrnn", lambda arch, frames, side: VRNN(arch, frames, side))
