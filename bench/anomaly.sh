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
BIN_NAME=vaexp-anomaly
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DIGITS="${DIGITS:-1 4 9}"
MODELS="${MODELS:-vae ae}"
EPOCHS="${EPOCHS:-10}"
N="${N:-10000}"
K="${K:-100}"

for d in $DIGITS; do
  for m in $MODELS; do
    name="$m-without-$d"
    id=$(finished_run "experiment = 'anomaly' AND name = '$name' AND params.train.epochs = $EPOCHS")
    if [ -n "$id" ]; then
      echo "==> reuse run $id ($name)"
    else
      echo "==> train $name ($EPOCHS epochs)"
      train_run "$name.train.log" --experiment anomaly --name "$name" --model "$m" --exclude-classes "$d" \
        --epochs "$EPOCHS" || continue
    fi
    if evaluated "$id" eval/anomaly/; then
      echo "    run $id already has its anomaly figures (FORCE=1 evaluates again)"
      continue
    fi
    timed_eval "$id" eval_anomaly --metrics anomaly -n "$N" --anomaly-k "$K"
  done
done
cols=id,name,family,params.data.exclude_classes,params.train.epochs,metrics.test/loss,metrics.time/train_seconds
for c in heldout noise occlusion rotation; do
  for s in nelbo iwae recon; do cols="$cols,metrics.eval/anomaly/$c/$s"; done
done
cols="$cols,tags.eval/anomaly/noise/recon,tags.time/eval_anomaly"
"$BIN" --db "$DB" runs export --filter "experiment = 'anomaly' AND status = 'finished'" --order-by 'name' --columns "$cols" \
  --out "$RESULTS/anomaly-mnist.csv"
