#!/usr/bin/env bash
# Times one training step of the sequence families in vaexp and in PyTorch,
# side by side on this machine, alternating so both see the same load:
# vaexp's BenchmarkTrainStep/<family>/<arch>/<data> (experiments/bench_test.go)
# against bench/pytorch/vrnn_step.py and seqvae_step.py, the same
# architectures in PyTorch, batch 32, Adam 1e-3. PyTorch runs in the fair
# environment of /work/shared/notes/gomlx.md (Debian's torch, OpenBLAS on one
# thread, OPENBLAS_CORETYPE/L2_SIZE unset) with 1 and 2 intra-op threads;
# its better one is the baseline. Prints every measurement, then per family
# the medians over rounds and the ratio vaexp / PyTorch (below 1: vaexp faster).
#
# Usage: bench/seq_steps.sh [ROUNDS [ARCH]]   (defaults 3, mlp)
#   ARCH mlp: 1-digit Moving MNIST (10 frames of 32x32); conv: Moving MNIST (20 frames of 64x64)
# Prerequisite: apt-get install -y python3-torch libopenblas0-pthread
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
rounds=${1:-3}
arch=${2:-mlp}
data=moving-mnist-1
steps=20
if [ "$arch" = conv ]; then data=moving-mnist; steps=5; fi
mkdir -p bin
go test -c -o bin/experiments.test ./experiments
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for round in $(seq "$rounds"); do
	for family in vrnn seq-vae; do
		script=vrnn_step.py
		[ "$family" = seq-vae ] && script=seqvae_step.py
		bin/experiments.test -test.run xxx -test.bench "TrainStep/$family/$arch/$data\$" -test.benchtime "${steps}x" |
			grep '^Benchmark' | sed "s/^/round $round go /" | tee -a "$log"
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
			/usr/bin/python3 bench/pytorch/$script --arch "$arch" --threads 1 2 --rounds 3 --steps $((steps / 2)) --json |
			sed "s/^/round $round torch /" | tee -a "$log"
	done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$log" <<'PY'
import json, re, statistics, sys
go, torch = {}, {}
for line in open(sys.argv[1]):
    _, rnd, side, rest = line.split(" ", 3)
    if side == "go":
        m = re.match(r"BenchmarkTrainStep/([^/]+)/\S+\s+\d+\s+(\d+) ns/op\s+([\d.]+) cpu-ms/op", rest)
        go.setdefault(m.group(1), []).append((int(m.group(2)) / 1e6, float(m.group(3))))
    else:
        r = json.loads(rest)
        best = torch.setdefault(r["family"], {}).get(rnd)
        if best is None or r["median_ms"] < best[0]:
            torch[r["family"]][rnd] = (r["median_ms"], r["cpu_ms"], r["threads"])
print("%-8s %14s %14s %16s %16s %8s %8s" % ("family", "vaexp ms/step", "vaexp cpu-ms", "torch ms/step", "torch cpu-ms", "ratio", "cpu"))
for fam in go:
    gw = statistics.median(w for w, _ in go[fam])
    gc = statistics.median(c for _, c in go[fam])
    tw = statistics.median(v[0] for v in torch[fam].values())
    tc = statistics.median(v[1] for v in torch[fam].values())
    threads = sorted(set(v[2] for v in torch[fam].values()))
    print("%-8s %14.1f %14.1f %16s %16.1f %8.2f %8.2f" % (fam, gw, gc, "%.1f (%s thr)" % (tw, ",".join(map(str, threads))), tc, gw / tw, gc / tc))
PY
