#!/usr/bin/env bash
# Issue 10's closing table: sample quality of every family that generates MNIST digits at ONE matched
# budget (same epochs, batch 128, full MNIST, seed 1, each family's default hyperparameters and
# optimizer), one after the other on the same machine, plus the real test set.
#
#   bench/gan_vs_vae.sh [EPOCHS] [QUALITY_N] [DB]     # defaults: 3, 1000, /work/runs-nb04/gan_vs_vae.db
#
# Each family trains with `vaexp train --quality N`: FID-LeNet and IS of N fixed-noise samples against
# MNIST's 10,000 test images at every epoch end and at the end (eval/fid, eval/is, with their metric
# versions as tags). The real test set's figures come from experiments/eval's own tests on the same
# cached classifier: FID-LeNet between two random halves of the test set (5,000 each) and the IS of
# 5,000 real test images. Prints one table: family, epochs, steps, FID-LeNet, IS, sample diversity,
# wall time, median step, collapse/alarm tag. Budget: 3 epochs took 34 minutes on a shared 2-core
# machine (load 6-12), dcgan 28 of them at ~1 s a step (0.5 s a step when the machine is quiet), the
# other six families 5 minutes together; pick the epochs from `bin/vaexp runs list` of a first run.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
epochs=${1:-3}
quality=${2:-1000}
db=${3:-/work/runs-nb04/gan_vs_vae.db}
out="$(dirname "$db")/runs-gan-vs-vae"
experiment="gan-vs-vae-${epochs}ep"
mkdir -p "$(dirname "$db")" bin
go build -o bin/vaexp ./cmd/vaexp

# name|family|extra flags
runs=(
  "vae|vae|"
  "conv-vae|vae|--set arch=conv"
  "cvae|cvae|"
  "vq-vae|vq-vae|"
  "aae|aae|"
  "gan|gan|"
  "dcgan|dcgan|"
)
for r in "${runs[@]}"; do
  IFS='|' read -r name family extra <<<"$r"
  began=$SECONDS
  # shellcheck disable=SC2086 # extra holds separate flags
  bin/vaexp --db "$db" --out "$out" train --model "$family" $extra --epochs "$epochs" --batch-size 128 \
    --seed 1 --quality "$quality" --iwae-k 0 --experiment "$experiment" --name "$name" --quiet >/dev/null
  echo "trained $name in $((SECONDS - began)) s" >&2
done

echo "== $experiment: $epochs epochs of full MNIST, batch 128, seed 1; FID-LeNet and IS of $quality fixed-noise samples vs the 10,000 test images"
bin/vaexp --db "$db" runs list --filter "experiment = '$experiment' AND status = 'finished'" --order-by 'metrics.eval/fid asc' --limit 0 \
  --columns 'id,name,family,params.arch,params.train.epochs,metrics.eval/fid,metrics.eval/is,metrics.samples/diversity,metrics.time/train_seconds,metrics.time/median_step_ms,tags.collapse'

echo "== real MNIST test set (experiments/eval tests, same classifier)"
go test -count=1 -run 'TestFIDOnMNIST$|TestISAndPrecisionRecallOnMNIST$' -v ./experiments/eval/ 2>&1 |
  grep -E 'FID-LeNet of two random halves|IS of [0-9]+ real test images|^(ok|FAIL|---)' | sed 's/^ *//'
