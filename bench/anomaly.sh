#!/usr/bin/env bash
# anomaly.sh: the seed's application. Train on every MNIST digit but one, then score the
# held-out digit and corrupted test images (Gaussian noise, occlusion, rotation) as anomalies,
# by negative ELBO, IWAE bound and reconstruction error (AUROC, `vaexp eval --metrics anomaly`).
#
#   bench/anomaly.sh                          # digits 1 4 9, vae and ae, 10 epochs each
#   DIGITS="0 1 2 3 4 5 6 7 8 9" EPOCHS=30 bench/anomaly.sh
#
# Runs are reused when a finished one with the same name and budget exists; every AUROC is
# recorded in $DB with its version and settings (tag eval/anomaly/<case>/<score>).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
DB="${DB:-/work/runs-evalapps/vaexp.db}"
OUT="${OUT:-$(dirname "$DB")/runs}"
DIGITS="${DIGITS:-1 4 9}"
MODELS="${MODELS:-vae ae}"
EPOCHS="${EPOCHS:-10}"
N="${N:-10000}"
K="${K:-100}"
BIN="$(dirname "$DB")/bin/vaexp-anomaly"
(cd "$ROOT" && go build -o "$BIN" ./cmd/vaexp)

for d in $DIGITS; do
  for m in $MODELS; do
    name="$m-without-$d"
    id=$("$BIN" --db "$DB" runs list --format csv --limit 1 --columns id --order-by 'id desc' \
      --filter "experiment = 'anomaly' AND name = '$name' AND status = 'finished' AND params.train.epochs = $EPOCHS" | tail -n +2)
    if [ -z "$id" ]; then
      echo "==> train $name ($EPOCHS epochs)"
      log="$OUT/$name.train.log"
      mkdir -p "$OUT"
      "$BIN" --db "$DB" --out "$OUT" train --experiment anomaly --name "$name" --model "$m" --exclude-classes "$d" \
        --epochs "$EPOCHS" --quiet | tee "$log"
      last=$(tail -1 "$log")
      [[ $last =~ ^run\ ([0-9]+)\ finished$ ]] || { echo "training $name failed: $last" >&2; exit 1; }
      id=${BASH_REMATCH[1]}
    else
      echo "==> reuse run $id ($name)"
    fi
    start=$SECONDS
    "$BIN" --db "$DB" --out "$OUT" eval "$id" --metrics anomaly -n "$N" --anomaly-k "$K"
    echo "anomaly eval of run $id took $((SECONDS - start)) s"
  done
done
cols=id,name
for c in heldout noise occlusion rotation; do
  for s in nelbo iwae recon; do cols="$cols,metrics.eval/anomaly/$c/$s"; done
done
"$BIN" --db "$DB" runs list --filter "experiment = 'anomaly'" --order-by 'name' --limit 0 --columns "$cols"
