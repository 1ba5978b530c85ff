#!/usr/bin/env bash
# install.sh sets up the `gonb` Jupyter kernel for vaexp's notebooks.
#
#   notebooks/install.sh              # tools into bin/notebook/, kernel into Jupyter's user data dir
#   notebooks/install.sh --apt        # also apt-get the Jupyter packages (Debian/Ubuntu, needs root)
#   notebooks/install.sh --raw-error  # plain-text compile errors (what CI uses)
#
# It builds GoNB from the version pinned as a `tool` in go.mod, installs gopls
# and goimports at versions that work with the project's Go, and registers the
# kernel with an explicit environment: PATH (those tools and the `go` used
# here), GOTOOLCHAIN and GOEXPERIMENT, and `-go_work` pointing at this
# checkout so that a cell's `import "github.com/vaexp/vaexp/vae"` uses the
# code on disk. Running it again rebuilds what is missing or stale and
# rewrites kernel.json, so it also repairs a broken kernel.
#
# Environment: JUPYTER_DATA_DIR (where kernels/gonb/ goes; default
# ~/.local/share/jupyter), VAEXP_NOTEBOOK_BIN (where the tools go; default
# <checkout>/bin/notebook).
set -euo pipefail

GONB_FLAGS=()
WITH_APT=0
for arg in "$@"; do
  case "$arg" in
    --apt) WITH_APT=1 ;;
    --raw-error) GONB_FLAGS+=(-raw_error) ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${VAEXP_NOTEBOOK_BIN:-$ROOT/bin/notebook}"
GOPLS_VERSION=v0.24.0
GOIMPORTS_VERSION=v0.52.0

export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
cd "$ROOT"

say() { printf '==> %s\n' "$*"; }

# Jupyter itself. Debian 12 packages the classic Notebook server, nbconvert,
# nbclient and jupyter_kernel_test (not JupyterLab: bring your own).
APT_PACKAGES=(jupyter-client jupyter-nbconvert python3-nbclient python3-notebook python3-jupyter-kernel-test)
if [[ $WITH_APT == 1 ]]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

GO="$(command -v go || true)"
if [[ -z $GO ]]; then
  echo "install.sh: no go on PATH; install Go (any version >= 1.21 fetches go1.27.3 itself)" >&2
  exit 1
fi
GODIR="$(dirname "$GO")"
mkdir -p "$BIN"

# version_of BINARY prints the module version a Go binary was built from ("" if none).
version_of() { [[ -x $1 ]] && go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'; }

say "gonb: building the version pinned in go.mod"
go build -o "$BIN/gonb" github.com/janpfeifer/gonb

if [[ "$(version_of "$BIN/gopls")" != "$GOPLS_VERSION" ]]; then
  say "gopls $GOPLS_VERSION (a few minutes on 2 cores)"
  (cd "$BIN" && GOBIN="$BIN" go install "golang.org/x/tools/gopls@$GOPLS_VERSION")
fi
if [[ "$(version_of "$BIN/goimports")" != "$GOIMPORTS_VERSION" ]]; then
  say "goimports $GOIMPORTS_VERSION"
  (cd "$BIN" && GOBIN="$BIN" go install "golang.org/x/tools/cmd/goimports@$GOIMPORTS_VERSION")
fi

KERNEL_PATH="$BIN:$GODIR:/usr/local/bin:/usr/bin:/bin"
# gonb copies itself into the kernel folder when started by a path under /tmp;
# started by a relative path it registers $BIN/gonb itself, so a rebuild takes effect.
say "registering the gonb kernel (-go_work=$ROOT ${GONB_FLAGS[*]:-})"
(cd "$BIN" && PATH="$KERNEL_PATH" ./gonb --install "${GONB_FLAGS[@]}" -go_work="$ROOT")

# gonb --install leaves "env" empty: write the environment the kernel needs.
DATA_DIR="${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}"
KERNEL_JSON="$DATA_DIR/kernels/gonb/kernel.json"
PYTHON=/usr/bin/python3; [[ -x $PYTHON ]] || PYTHON=python3
KERNEL_JSON="$KERNEL_JSON" KERNEL_PATH="$KERNEL_PATH" "$PYTHON" - <<'EOF'
import json, os
path = os.environ["KERNEL_JSON"]
with open(path) as f:
    spec = json.load(f)
spec["display_name"] = "Go (gonb, vaexp)"
spec["env"] = {
    "PATH": os.environ["KERNEL_PATH"],
    "GOTOOLCHAIN": os.environ["GOTOOLCHAIN"],
    "GOEXPERIMENT": os.environ["GOEXPERIMENT"],
}
with open(path, "w") as f:
    json.dump(spec, f, indent=2)
    f.write("\n")
EOF

say "kernel: $KERNEL_JSON"
cat <<EOF

The gonb kernel is installed. Start Jupyter from the checkout and open notebooks/:

  jupyter lab notebooks/         # JupyterLab, if you have it (pip install jupyterlab)
  jupyter notebook notebooks/    # the classic Notebook (Debian: apt-get install python3-notebook)

Pick the kernel "Go (gonb, vaexp)". VAEXP_SMOKE=1 in Jupyter's environment shrinks every
training budget to seconds; VAEXP_DB chooses the tracker database (default notebooks/vaexp.db).
EOF
