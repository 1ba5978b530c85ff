#!/usr/bin/env bash
# One epoch of the reference MNIST VAE (784-400-20-400-784, batch 128, Adam 1e-3, 468 steps),
# side by side in one run, alternating: vaexp built with GOEXPERIMENT=simd, vaexp built without it,
# and PyTorch at its best on this machine (bench/pytorch/run.sh: OpenBLAS, one BLAS thread).
# Prints each measurement and the median ratios. Usage: bench/epoch.sh [ROUNDS] (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
rounds=${1:-3}
mkdir -p bin
GOEXPERIMENT=simd go test -c -o bin/bench-simd.test ./experiments/
GOEXPERIMENT= go test -c -o bin/bench-plain.test ./experiments/

# Prints "<median step ms> <epoch seconds>" for one vaexp epoch (tracked, every step recorded).
vaexp_epoch() {
  "$1" -test.run xxx -test.bench 'BenchmarkEpoch/tracked' -test.benchtime 1x 2>&1 |
    awk '/BenchmarkEpoch/ { for (i = 1; i <= NF; i++) { if ($i == "ns/op") ns = $(i-1); if ($i == "ms/median-step") ms = $(i-1); if ($i == "s/train-loop") s = $(i-1) } }
         END { printf "%s %s\n", ms, s }'
}
torch_epoch() {
  bench/pytorch/run.sh --epochs 1 --json 2>/dev/null | python3 -c 'import json,sys; r=json.loads(sys.stdin.readlines()[-1]); print(r["median_step_ms"], r["epoch_seconds"][0])'
}

# The CPU class the figures belong to: the Go backend's AVX-512 and AVX2 kernels differ a lot in speed.
bin/bench-simd.test -test.run xxx -test.bench NONE 2>/dev/null | grep -E '^(simd|cpu):' >&2 || true
printf "%-8s %-6s %14s %10s\n" round impl median_step_ms epoch_s
for r in $(seq "$rounds"); do
  read -r ms s < <(vaexp_epoch bin/bench-simd.test);  printf "%-8s %-6s %14s %10s\n" "$r" simd "$ms" "$s"
  read -r ms s < <(torch_epoch);                       printf "%-8s %-6s %14s %10s\n" "$r" torch "$ms" "$s"
  if [ "$r" = 1 ]; then # the plain build takes a minute an epoch: once is enough for the ratio
    read -r ms s < <(vaexp_epoch bin/bench-plain.test); printf "%-8s %-6s %14s %10s\n" "$r" plain "$ms" "$s"
  fi
done | tee /dev/stderr | python3 -c '
import sys, statistics as st
rows = [l.split() for l in sys.stdin if l[0].isdigit()]
by = {}
for _, impl, ms, s in rows: by.setdefault(impl, []).append((float(ms), float(s)))
med = {k: (st.median(x for x, _ in v), st.median(y for _, y in v)) for k, v in by.items()}
print("medians:", {k: "%.2f ms/step, %.2f s/epoch" % v for k, v in med.items()})
if "plain" in med: print("plain/simd epoch ratio: %.1fx" % (med["plain"][1] / med["simd"][1]))
print("vaexp-simd/pytorch: step %.2fx, epoch %.2fx" % (med["simd"][0] / med["torch"][0], med["simd"][1] / med["torch"][1]))
'
