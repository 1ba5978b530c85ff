#!/usr/bin/env bash
# anomaly.sh: the seed's application. Train on every MNIST digit but one, then score the
# held-out digit and corrupted test images (Gaussian noise, occlusion, rotation) as anomalies,
# by negative ELBO, IWAE bound and reconstruction error (AUROC, `vaexp eval --metrics anomaly`).
#
#   bench/anomaly.sh                          # digits 1 4 9, vae and ae, 10 epochs each
#   DIGITS="0 1 2 3 4 5 6 7 8 9" EPOCHS=30 bench/anomaly.sh
#
# Runs are reused when a finished one with the same name and budget exists, and evaluated only
# when they have no anomaly figures yet (FORCE=1: again); every AUROC is recorded in $DB with its
# version and settings (tag eval/anomaly/<case>/<score>), the evaluation's wall time as tag
# time/eval_anomaly, and all of them end in $RESULTS/anomaly-mnist.csv.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
DB="${DB:-/work/runs-evalapps/vaexp.db}"
OUT="${OUT:-$(dirname "$DB")/runs}"
DIGITS="${DIGITS:-1 4 9}"
MODELS="${MODELS:-vae ae}"
EPOCHS="${EPOCHS:-10}"
N="${N:-10000}"
RESULTS="${RESULTS:-$ROOT/bench/results}"
FORCE="${FORCE:-0}"
K="${K:-100}"
BIN="$(dirname "$DB")/bin/vaexp-anomaly"
mkdir -p "$OUT" "$RESULTS"
(cd "$ROOT" && go build -o "$BIN" ./cmd/vaexp) || exit 1

for d in $DIGITS; do
  for m in $MODELS; do
    name="$m-without-$d"
    id=$("$BIN" --db "$DB" runs list --format csv --limit 1 --columns id --order-by 'id desc' \
      --filter "experiment = 'anomaly' AND name = '$name' AND status = 'finished' AND params.train.epochs = $EPOCHS" | tail -n +2)
    if [ -z "$id" ]; then
      echo "==> train $name ($EPOCHS epochs)"
      log="$OUT/$name.train.log"
      "$BIN" --db "$DB" --out "$OUT" train --experiment anomaly --name "$name" --model "$m" --exclude-classes "$d" \
        --epochs "$EPOCHS" --quiet | tee "$log"
      last=$(tail -1 "$log")
      if ! [[ $last =~ ^run\ ([0-9]+)\ finished$ ]]; then
        echo "==> training $name failed: $last" >&2
        continue
      fi
      id=${BASH_REMATCH[1]}
    else
      echo "==> reuse run $id ($name)"
    fi
    if [ "$FORCE" != 1 ] && "$BIN" --db "$DB" runs show "$id" | grep -q "eval/anomaly/"; then
      echo "    run $id already has its anomaly figures (FORCE=1 evaluates again)"
      continue
    fi
    start=$SECONDS
    if "$BIN" --db "$DB" --out "$OUT" eval "$id" --metrics anomaly -n "$N" --anomaly-k "$K"; then
      "$BIN" --db "$DB" runs tag "$id" "time/eval_anomaly=$((SECONDS - start))" >/dev/null
      echo "anomaly eval of run $id took $((SECONDS - start)) s"
    fi
  done
done
cols=id,name,family,params.data.exclude_classes,params.train.epochs,metrics.test/loss,metrics.time/train_seconds
for c in heldout noise occlusion rotation; do
  for s in nelbo iwae recon; do cols="$cols,metrics.eval/anomaly/$c/$s"; done
done
cols="$cols,tags.eval/anomaly/noise/recon,tags.time/eval_anomaly"
"$BIN" --db "$DB" runs export --filter "experiment = 'anomaly' AND status = 'finished'" --order-by 'name' --columns "$cols" \
  --out "$RESULTS/anomaly-mnist.csv"
