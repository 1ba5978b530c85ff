#!/usr/bin/env bash
# Sweep measurements, each configuration alternated with the others in one run
# so that load from other processes falls on all of them alike. Prints every
# measurement, the median ratios, and the load average before and after.
#
#   bench/sweep.sh split   [ROUNDS]  default split of the 2 cores: 1 worker × 2 backend threads
#                                    vs 2 workers × 1 thread, on 6 one-epoch MLP VAE trials
#   bench/sweep.sh pytorch [ROUNDS]  12 one-epoch MLP VAE trials: `vaexp sweep run` (default workers)
#                                    vs the same 12 trials as PyTorch processes, 2 at a time
#                                    (bench/pytorch/run.sh: OpenBLAS, one BLAS thread)
#   bench/sweep.sh beta              experiments/sweeps/beta.yaml on full MNIST with --workers 1 and
#                                    --workers 2 (each once, 18 trials × 3 epochs), then its plots
#   bench/sweep.sh halving           experiments/sweeps/halving.yaml and its --full-budget baseline
#                                    (the same 27 configurations, 9 epochs each): steps trained, wall
#                                    time, best val/nelbo and that trial's test/nelbo
#
# Results, databases and figures go to out/bench-sweep/ (OUT=DIR to change).
# Needs: Go 1.27.3 (fetched by the go command); for pytorch: apt-get install -y
# python3-torch libopenblas0-pthread.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
OUT=${OUT:-out/bench-sweep}
mkdir -p "$OUT" bin
go build -o bin/vaexp ./cmd/vaexp
VAEXP=$PWD/bin/vaexp
what=${1:-split}
rounds=${2:-2}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores" >&2

# secs CMD...: runs CMD (its output to $OUT/last.log) and prints its wall time in seconds.
secs() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$OUT/last.log" 2>&1 || { echo "failed: $* (see $OUT/last.log)" >&2; tail -n 20 "$OUT/last.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  python3 -c "print('%.1f' % ($t1 - $t0))"
}

# oneEpochSpec NAME TRIALS: a grid of TRIALS one-epoch reference VAE trials (seeds 1..TRIALS), no sample grids.
oneEpochSpec() {
  cat >"$OUT/$1.yaml" <<EOF
name: $1
model: vae
train: {epochs: 1}
eval: {samples: 0}
method: grid
space:
  latent_dim: [20]
seeds: $2
metric: test/nelbo
EOF
}

# sweepRun TAG ARGS...: a fresh database per run, so nothing is reused.
sweepRun() {
  local tag=$1
  shift
  rm -rf "$OUT/$tag.db"* "$OUT/runs-$tag"
  secs "$VAEXP" --db "$OUT/$tag.db" --out "$OUT/runs-$tag" sweep run "$@" --quiet
}

ratios() { # reads "round config seconds" lines; prints medians and ratio of $1 to $2
  python3 -c '
import sys, statistics as st
a, b = sys.argv[1], sys.argv[2]
by = {}
for l in sys.stdin:
    f = l.split()
    if len(f) == 3 and f[0].isdigit():
        by.setdefault(f[1], []).append(float(f[2]))
med = {k: st.median(v) for k, v in by.items()}
print("median wall seconds:", {k: round(v, 1) for k, v in med.items()})
pairs = [x / y for x, y in zip(by[a], by[b])]
print("%s / %s: per round %s, median %.2f" % (a, b, ["%.2f" % p for p in pairs], st.median(pairs)))
' "$1" "$2"
}

case "$what" in
split)
  oneEpochSpec split 6
  for r in $(seq "$rounds"); do
    printf "%s %s %s\n" "$r" 1x2 "$(sweepRun split-1x2 "$OUT/split.yaml" --workers 1 --threads 2)"
    printf "%s %s %s\n" "$r" 2x1 "$(sweepRun split-2x1 "$OUT/split.yaml" --workers 2 --threads 1)"
  done | tee "$OUT/split.txt" >&2
  ratios 1x2 2x1 <"$OUT/split.txt"
  ;;
pytorch)
  oneEpochSpec twelve 12
  torch12() { seq 1 12 | xargs -P 2 -I{} bench/pytorch/run.sh --epochs 1 --seed {} --json; }
  for r in $(seq "$rounds"); do
    printf "%s %s %s\n" "$r" vaexp "$(sweepRun twelve "$OUT/twelve.yaml")"
    printf "%s %s %s\n" "$r" pytorch "$(secs torch12)"
  done | tee "$OUT/pytorch.txt" >&2
  ratios vaexp pytorch <"$OUT/pytorch.txt"
  ;;
beta)
  for w in 1 2; do
    printf "1 workers=%s %s\n" "$w" "$(sweepRun beta-w$w experiments/sweeps/beta.yaml --workers "$w")"
  done | tee "$OUT/beta.txt" >&2
  ratios workers=1 workers=2 <"$OUT/beta.txt"
  "$VAEXP" --db "$OUT/beta-w2.db" sweep best beta --by-mean-over-seeds
  "$VAEXP" --db "$OUT/beta-w2.db" sweep plot beta --out "$OUT/beta-plots"
  ;;
halving)
  printf "1 halving %s\n" "$(sweepRun halving experiments/sweeps/halving.yaml)" | tee "$OUT/halving.txt"
  printf "1 full %s\n" "$(sweepRun halving-full experiments/sweeps/halving.yaml --full-budget)" | tee -a "$OUT/halving.txt"
  "$VAEXP" --db "$OUT/halving.db" sweep plot halving --out "$OUT/halving-plots"
  # Steps trained: each run's last global step (train/loss is logged every step).
  steps() { sqlite3 "$1" "SELECT sum(step) FROM latest_metrics WHERE key = 'train/loss'"; }
  best() { # "val/nelbo test/nelbo trial" of the sweep's best trial
    sqlite3 -separator ' ' "$1" "SELECT t.value, (SELECT value FROM latest_metrics WHERE run_id = t.run_id AND key = 'test/nelbo'), t.idx
      FROM sweep_trials t WHERE t.state = 'finished' ORDER BY t.value LIMIT 1"
  }
  hs=$(steps "$OUT/halving.db"); fs=$(steps "$OUT/halving-full.db")
  read -r hv ht hi < <(best "$OUT/halving.db"); read -r fv ft fi < <(best "$OUT/halving-full.db")
  echo "steps trained: halving $hs, full budget $fs: halving used $(python3 -c "print('%.1f%%' % (100 * $hs / $fs))") of the compute"
  echo "best trial: halving trial $hi val/nelbo $hv (test/nelbo $ht); full budget trial $fi val/nelbo $fv (test/nelbo $ft)"
  ratios halving full <"$OUT/halving.txt"
  ;;
*)
  echo "usage: bench/sweep.sh split|pytorch|beta|halving [ROUNDS]" >&2
  exit 2
  ;;
esac
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
