#!/usr/bin/env bash
# ci.sh: what CI runs for the notebooks, on a fresh machine or an old one.
#
#   notebooks/ci.sh                 # install what is missing, test the kernel, execute every notebook
#   notebooks/ci.sh 01_train_vae    # only the named notebooks (the kernel test still runs)
#
# 1. installs the Debian packages Jupyter needs and the gonb kernel (install.sh
#    --apt --raw-error) into a kernel folder of its own, $VAEXP_JUPYTER_DATA_DIR
#    (default bin/notebook/jupyter), so a user's own kernel is never touched;
# 2. warms the Go build cache (the notebooks' first cells compile the project);
# 3. drives the kernel as a Jupyter client would (kernel_test.py);
# 4. executes every notebook headless with nbclient, VAEXP_SMOKE=1, a per-cell
#    timeout ($VAEXP_CELL_TIMEOUT, default 600 s), a fresh database per notebook
#    (run_all.py); executed copies and HTML exports go to out/notebooks/.
# Any failure exits non-zero. Needs root for apt-get on a machine without the packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
export JUPYTER_DATA_DIR="${VAEXP_JUPYTER_DATA_DIR:-$ROOT/bin/notebook/jupyter}"
OUT="${VAEXP_NOTEBOOK_OUT:-$ROOT/out/notebooks}"
# Debian's python3 has nbclient and nbformat; a pyenv python3 earlier on PATH does not.
PY=/usr/bin/python3
mkdir -p "$OUT"

began=$SECONDS
notebooks/install.sh --apt --raw-error

echo "==> warming the build cache"
go build ./...

echo "==> kernel test (log: $OUT/kernel_test.log)"
VAEXP_KERNEL_LOG="$OUT/kernel_test.log" "$PY" notebooks/kernel_test.py

echo "==> executing notebooks (VAEXP_SMOKE=1)"
args=()
for nb in "$@"; do args+=("notebooks/${nb%.ipynb}.ipynb"); done
"$PY" notebooks/run_all.py --html --out "$OUT" "${args[@]}"
echo "notebooks CI passed in $((SECONDS - began)) s"
