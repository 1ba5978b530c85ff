#!/usr/bin/env bash
# disentangle.sh: disentanglement_lib's protocol on the shapes data, as far as 2 cores allow.
#
#   bench/disentangle.sh                                         # the four models below
#   MODELS="vae vq-vae ladder-vae aae" bench/disentangle.sh      # any of the names below
#   STEPS=300000 DATA=shapes ARCH=conv SEEDS=5 bench/disentangle.sh  # closer to the paper (weeks here)
#
# disentanglement_lib (Locatello et al. 2019): 10 latents, Bernoulli likelihood, Adam 1e-4,
# batch 64, 300000 steps of a 4-layer conv net on 64×64 dSprites; β-VAE β∈{1,2,4,6,8,16},
# FactorVAE γ∈{10,...,100}, β-TCVAE β∈{1,...,10}, 50 seeds each. Here: one value of each
# (the papers' own dSprites choices), SEEDS seeds, STEPS steps on DATA (default shapes-32, the
# same factor grid at 32×32) with the MLP networks (Chen et al. also used an MLP on dSprites).
# A model whose family is not registered is skipped; a family without an encoder is refused
# by `vaexp eval`. Every run and score is recorded in $DB, the score's version as its tag, the
# evaluation's wall time as tag time/eval_disentanglement; the scores end in
# $RESULTS/disentangle-<data>.csv. A run that has its scores is not evaluated again unless FORCE=1.
set -uo pipefail
BIN_NAME=vaexp-disentangle
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DATA="${DATA:-shapes-32}"
ARCH="${ARCH:-mlp}"
STEPS="${STEPS:-50000}"
SEEDS="${SEEDS:-1}"
MODELS="${MODELS:-vae beta-vae-4 factor-vae-40 beta-tcvae-6}"
METRICS="${METRICS:-betavae,factorvae,mig,sap,dci}"

# family and settings of each model name
model() {
  case $1 in
    vae) echo "beta-vae --set beta=1" ;;
    beta-vae-4) echo "beta-vae --set beta=4" ;;
    factor-vae-40) echo "factor-vae --set gamma=40" ;;  # Kim & Mnih's dSprites setting
    beta-tcvae-6) echo "beta-tcvae --set beta=6" ;;     # mid-range of Chen et al.'s sweep
    vq-vae) echo "vq-vae --set embedding_dim=1" ;;      # 10 scalar code vectors: 10 quantized latents
    *) echo "$1" ;;                                     # any family with its defaults
  esac
}

for seed in $(seq 1 "$SEEDS"); do
  for name in $MODELS; do
    read -r family sets <<<"$(model "$name")"
    if ! "$BIN" models "$family" >/dev/null 2>&1; then
      echo "==> skip $name: family $family is not registered"
      continue
    fi
    id=$(finished_run "experiment = 'disentangle-$DATA' AND name = '$name' AND seed = $seed AND params.train.steps = $STEPS")
    if [ -n "$id" ]; then
      echo "==> reuse run $id ($name, seed $seed)"
    else
      echo "==> train $name seed $seed: $STEPS steps on $DATA"
      # shellcheck disable=SC2086
      train_run "$name-$DATA-$seed.train.log" --experiment "disentangle-$DATA" --name "$name" --model "$family" $sets \
        --data "$DATA" --set arch="$ARCH" --latent-dim 10 --lr 1e-4 --batch-size 64 \
        --steps "$STEPS" --checkpoint-every 5000 --seed "$seed" --test-limit 2000 --samples 64 || continue
    fi
    if evaluated "$id" eval/dci_completeness; then
      echo "    run $id already has its scores (FORCE=1 evaluates again)"
      continue
    fi
    timed_eval "$id" eval_disentanglement --metrics "$METRICS"
  done
done
"$BIN" --db "$DB" runs export --filter "experiment = 'disentangle-$DATA' AND status = 'finished'" --order-by 'id' \
  --columns "id,name,family,seed,params.data.name,params.train.steps,params.train.batch_size,params.train.lr,params.latent_dim,params.beta,params.gamma,metrics.test/nelbo,metrics.time/train_seconds,metrics.eval/betavae,metrics.eval/factorvae,metrics.eval/mig,metrics.eval/sap,metrics.eval/dci_disentanglement,metrics.eval/dci_completeness,metrics.eval/dci_informativeness,tags.eval/mig,tags.time/eval_disentanglement" \
  --out "$RESULTS/disentangle-$DATA.csv"
