#!/usr/bin/env bash
# One DCGAN training step (discriminator + generator update, batch 128, 28×28 MNIST, vaexp's default
# dcgan), side by side in one run, alternating each round: vaexp (BenchmarkTrainStep/dcgan, built with
# GOEXPERIMENT=simd) and PyTorch at its best on this machine (bench/pytorch/dcgan_step.py: the same
# architecture and step; OpenBLAS one thread; torch 1 and 2 threads × NCHW and channels_last, the
# fastest of the four each round). Prints each measurement, the per-round ratio and the median and
# range of the ratios. Usage: bench/dcgan_step.sh [ROUNDS] (default 5) [STEPS per measurement] (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
rounds=${1:-5}
steps=${2:-10}
mkdir -p bin
GOEXPERIMENT=simd go test -c -o bin/bench-simd.test ./experiments/

# Prints "<wall ms/step> <cpu ms/step>" for vaexp's step (the compiling first step is not timed).
vaexp_step() {
  (cd experiments && ../bin/bench-simd.test -test.run xxx -test.bench 'BenchmarkTrainStep/dcgan$' -test.benchtime "${steps}x") 2>&1 |
    awk '/BenchmarkTrainStep\/dcgan/ { for (i = 1; i <= NF; i++) { if ($i == "ns/op") ns = $(i-1); if ($i == "cpu-ms/op") cpu = $(i-1) } }
         END { printf "%.1f %.1f\n", ns / 1e6, cpu }'
}
# Prints "<wall ms/step> <cpu ms/step> <config>" for PyTorch's fastest configuration this round.
torch_step() {
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/pytorch/dcgan_step.py \
    --threads 1 2 --layouts nchw channels_last --steps "$steps" --rounds 1 --warmup 2 --json |
    python3 -c 'import json,sys; rs=[json.loads(l) for l in sys.stdin]; b=min(rs, key=lambda r: r["median_ms"])
print("%.1f %.1f threads=%d,%s" % (b["median_ms"], b["cpu_ms"], b["threads"], b["layout"]))'
}

rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
printf "%-6s %-6s %12s %12s %s\n" round impl wall_ms cpu_ms config
for r in $(seq "$rounds"); do
  read -r ms cpu < <(vaexp_step)
  printf "%-6s %-6s %12s %12s %s\n" "$r" vaexp "$ms" "$cpu" "load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$rows"
  read -r ms cpu cfg < <(torch_step)
  printf "%-6s %-6s %12s %12s %s\n" "$r" torch "$ms" "$cpu" "$cfg,load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$rows"
done
python3 - "$rows" <<'PY'
import sys, statistics as st
by = {}
for line in open(sys.argv[1]):
    r, impl, ms, cpu, _ = line.split()
    by.setdefault(r, {})[impl] = (float(ms), float(cpu))
wall = [v["vaexp"][0] / v["torch"][0] for v in by.values() if len(v) == 2]
cpu = [v["vaexp"][1] / v["torch"][1] for v in by.values() if len(v) == 2]
print("vaexp/pytorch per step, per round: wall", " ".join("%.2f" % x for x in wall), "| cpu", " ".join("%.2f" % x for x in cpu))
print("wall: median %.2fx (range %.2f-%.2f); CPU time: median %.2fx (range %.2f-%.2f)" % (
    st.median(wall), min(wall), max(wall), st.median(cpu), min(cpu), max(cpu)))
PY
