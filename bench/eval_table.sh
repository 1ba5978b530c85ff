#!/usr/bin/env bash
# eval_table.sh: every family at one budget, every metric where it applies, each evaluation timed.
#
#   bench/eval_table.sh                         # 10 MNIST epochs per family, NLL k=5000 on 10000 test images
#   NLL_N=1000 bench/eval_table.sh              # NLL on the first 1000 test images (what 2 shared cores allow)
#   FAMILIES="vae gan" EPOCHS=3 bench/eval_table.sh
#
# MNIST part (experiment eval-table): each family of FAMILIES that is registered trains for
# EPOCHS epochs (batch 128, grey-level MNIST, the family's own learning rate; β-VAE with β = 4),
# then `vaexp eval` adds NLL (k = K over NLL_N test images), active units, FID-LeNet, IS and
# precision/recall (N samples). A metric the family cannot provide is refused by `vaexp eval`
# (its capability check) and left empty. Each evaluation's wall time is the run's tag
# time/eval_<metric>, in seconds; a run that has it is not evaluated again unless FORCE=1.
# Shapes part: bench/disentangle.sh with the families that have an encoder (disentanglement
# scores on shapes-32, disentanglement_lib's protocol at SHAPES_STEPS steps).
# Both tables end in $RESULTS as CSV (read by notebooks/08_reproductions.ipynb).
set -uo pipefail
BIN_NAME=vaexp-table
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
FAMILIES="${FAMILIES:-vae beta-vae factor-vae beta-tcvae vq-vae ladder-vae aae gan dcgan}"
EPOCHS="${EPOCHS:-10}"
K="${K:-5000}"
NLL_N="${NLL_N:-10000}"
N="${N:-10000}"
SHAPES="${SHAPES:-1}"
SHAPES_STEPS="${SHAPES_STEPS:-50000}"

# evaluate ID GROUP METRICS FLAGS...: one timed `vaexp eval` (tag time/eval_GROUP); a refusal
# (the family lacks what the metric needs) is reported and skipped.
evaluate() {
  local run=$1 group=$2 metrics=$3 err
  shift 3
  if evaluated "$run" "time/eval_$group"; then
    echo "    run $run already has its $group figures (FORCE=1 evaluates again)"
    return
  fi
  err=$(mktemp)
  if ! timed_eval "$run" "eval_$group" --metrics "$metrics" "$@" 2> >(tee "$err" >&2); then
    if grep -q "does not provide\|needs MNIST-like" "$err"; then
      echo "    $group: not for this family"
    else
      echo "    $group of run $run failed" >&2
    fi
  fi
  rm -f "$err"
}

encoders=()
for family in $FAMILIES; do
  if ! "$BIN" models "$family" >/dev/null 2>&1; then
    echo "==> skip $family: not registered in this build"
    continue
  fi
  sets=()
  [ "$family" = beta-vae ] && sets=(--set beta=4)
  id=$(finished_run "experiment = 'eval-table' AND name = '$family' AND params.train.epochs = $EPOCHS")
  if [ -n "$id" ]; then
    echo "==> reuse run $id ($family)"
  else
    echo "==> train $family: $EPOCHS epochs on MNIST"
    train_run "$family-eval-table.train.log" --experiment eval-table --name "$family" --model "$family" "${sets[@]}" \
      --epochs "$EPOCHS" || continue
  fi
  evaluate "$id" nll nll --iwae-k "$K" -n "$NLL_N"
  evaluate "$id" au au -n "$N"
  evaluate "$id" quality fid,is,pr -n "$N"
  if "$BIN" --db "$DB" runs show "$id" | grep -q "eval/active_units"; then
    encoders+=("$family")
  fi
done
"$BIN" --db "$DB" runs export --filter "experiment = 'eval-table' AND status = 'finished'" --order-by 'id' \
  --columns "id,name,family,params.train.epochs,params.beta,metrics.test/nelbo,metrics.test/loss,metrics.time/train_seconds,metrics.eval/nll,metrics.eval/active_units,metrics.eval/fid,metrics.eval/is,metrics.eval/precision,metrics.eval/recall,tags.eval/nll,tags.eval/fid,tags.time/eval_nll,tags.time/eval_au,tags.time/eval_quality" \
  --out "$RESULTS/eval-table-mnist.csv"

if [ "$SHAPES" = 1 ] && [ ${#encoders[@]} -gt 0 ]; then
  names=()
  for f in "${encoders[@]}"; do
    case $f in
      beta-vae) names+=(beta-vae-4) ;;
      factor-vae) names+=(factor-vae-40) ;;
      beta-tcvae) names+=(beta-tcvae-6) ;;
      *) names+=("$f") ;;
    esac
  done
  echo "==> disentanglement on shapes-32: ${names[*]}"
  DB="$DB" OUT="$OUT" RESULTS="$RESULTS" STEPS="$SHAPES_STEPS" MODELS="${names[*]}" "$ROOT/bench/disentangle.sh"
fi
