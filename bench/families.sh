#!/usr/bin/env bash
# Trains every registered family for a few epochs on full MNIST (MLP, batch 128, Adam 1e-3, seed 1)
# into one tracker database and prints a table of the test metrics and the time per epoch.
# Usage: bench/families.sh [EPOCHS] [DB] (defaults 3, families.db). Takes ~10-20 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
epochs=${1:-3}
db=${2:-families.db}
go build -o bin/vaexp ./cmd/vaexp
for family in $(bin/vaexp models | awk '{print $1}'); do
  bin/vaexp --db "$db" --out runs-families train --model "$family" --epochs "$epochs" --iwae-k 0 \
    --experiment families --name "$family-${epochs}ep" --quiet > /dev/null
  echo "trained $family" >&2
done
bin/vaexp --db "$db" runs list --filter "experiment = 'families'" --limit 0 \
  --columns 'id,family,status,metrics.test/nelbo,metrics.test/recon,metrics.test/kl,metrics.time/median_step_ms,metrics.time/train_seconds'
