#!/usr/bin/python3
"""PyTorch side of BenchmarkTrainStep/seq-vae (experiments/bench_test.go):
one training step of vaexp's seq-vae (variants/seqvae.go) with the same
architecture, for a side-by-side figure (bench/seq_steps.sh runs both,
alternating).

Model, defaults of `vaexp models seq-vae` (latent_dim 4, content_dim 32,
state 128, features 128, hidden 256), after Li & Mandt 2018:
  phi_x(x_t) for all frames at once (seqbench.FrameEncoder, mlp or conv)
  q(f | x_1:T): forward and backward LSTM(128 -> 128) over phi_x, their final
                hidden states -> Linear(256 -> 64) -> Gaussian of f (32)
  q(z_t | x_t):  Linear(128 -> 256) + ReLU, Linear(256 -> 8) per frame
  p(z_t | z_<t): LSTM(4 -> 128) over z_1..z_T, outputs shifted by one step
                 (zeros for z_1), Linear(128 -> 8)
  decoder p(x_t | z_t, f) of [z_t, f] per frame (seqbench.FrameDecoder)
  loss = BCE-with-logits summed over frames and pixels + KL(q(f) || N(0, I))
         + sum over steps of KL(q(z_t) || p(z_t | z_<t)), mean over the
         batch; Adam lr 1e-3.
Input and environment as vrnn_step.py:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
      /usr/bin/python3 bench/pytorch/seqvae_step.py --threads 1 2
"""
import torch
from torch import nn

import seqbench as sb


class SeqVAE(nn.Module):
    def __init__(self, arch, frames, side, latent=4, content=32, state=128, features=128, hidden=256):
        super().__init__()
        self.side, self.state = side, state
        self.phi_x = sb.FrameEncoder(arch, side, hidden, features)
        self.content_fwd = nn.LSTM(features, state, batch_first=True)
        self.content_bwd = nn.LSTM(features, state, batch_first=True)
        self.content = nn.Linear(2 * state, 2 * content)
        self.dynamics = sb.mlp(features, hidden, 2 * latent)
        self.prior_rnn = nn.LSTM(latent, state, batch_first=True)
        self.prior = nn.Linear(state, 2 * latent)
        self.decoder = sb.FrameDecoder(arch, side, latent + content, hidden)

    def forward(self, x):
        b, t = x.shape[0], x.shape[1]
        fx = self.phi_x(x.reshape(b * t, 1, self.side, self.side)).view(b, t, -1)
        _, (hf, _) = self.content_fwd(fx)
        _, (hb, _) = self.content_bwd(torch.flip(fx, [1]))
        mf, lf = sb.gaussian(self.content(torch.cat([hf[0], hb[0]], -1)))
        mq, lq = sb.gaussian(self.dynamics(fx))
        f, z = sb.sample(mf, lf), sb.sample(mq, lq)
        states, _ = self.prior_rnn(z)
        shifted = torch.cat([x.new_zeros(b, 1, self.state), states[:, :-1]], 1)
        mp, lp = sb.gaussian(self.prior(shifted))
        kl_z = sb.kl_gaussians(mq, lq, mp, lp).sum(1)
        kl_f = 0.5 * torch.sum(lf.exp() + mf ** 2 - 1 - lf, -1)
        cond = torch.cat([z, f.unsqueeze(1).expand(b, t, f.shape[-1])], -1).reshape(b * t, -1)
        recon = sb.bce_per_step(self.decoder(cond), x.reshape(b * t, 1, self.side, self.side)).view(b, t).sum(1)
        return (recon + kl_f + kl_z).mean()


if __name__ == "__main__":
    sb.main(__doc__.split("\n")[0], "seq-vae", lambda arch, frames, side: SeqVAE(arch, frames, side))
