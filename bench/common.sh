# common.sh: what bench/disentangle.sh, anomaly.sh and eval_table.sh share. Source it with
# BIN_NAME set; it sets ROOT, DB, OUT, RESULTS, FORCE and builds $BIN, a binary of the script's
# own (so rebuilding the checkout's bin/vaexp mid-run changes nothing in a running script).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd
DB="${DB:-/work/runs-evalapps/vaexp.db}"
OUT="${OUT:-$(dirname "$DB")/runs}"
RESULTS="${RESULTS:-$ROOT/bench/results}"
FORCE="${FORCE:-0}"
BIN="$(dirname "$DB")/bin/$BIN_NAME"
mkdir -p "$OUT" "$RESULTS"
(cd "$ROOT" && go build -o "$BIN" ./cmd/vaexp) || exit 1

# finished_run FILTER: the id of the newest finished run matching FILTER, or nothing.
finished_run() {
  "$BIN" --db "$DB" runs list --format csv --limit 1 --columns id --order-by 'id desc' \
    --filter "status = 'finished' AND $1" | tail -n +2
}

# train_run LOG ARGS...: `vaexp train ARGS --quiet`, its output also in $OUT/LOG; sets $id to the
# new run's id, or returns 1 when the run did not finish.
train_run() {
  local log="$OUT/$1" last
  shift
  "$BIN" --db "$DB" --out "$OUT" train "$@" --quiet | tee "$log"
  last=$(tail -1 "$log") # "run <id> <status>"
  if ! [[ $last =~ ^run\ ([0-9]+)\ finished$ ]]; then
    echo "==> training failed: $last" >&2
    return 1
  fi
  id=${BASH_REMATCH[1]}
}

# evaluated ID KEY: whether run ID already has KEY (a metric or tag) and FORCE is not 1.
evaluated() {
  [ "$FORCE" != 1 ] && "$BIN" --db "$DB" runs show "$1" | grep -q "$2"
}

# timed_eval ID TAG ARGS...: `vaexp eval ID ARGS`, its wall time recorded as tag time/TAG.
timed_eval() {
  local run=$1 tag=$2 start=$SECONDS
  shift 2
  "$BIN" --db "$DB" --out "$OUT" eval "$run" "$@" || return 1
  "$BIN" --db "$DB" runs tag "$run" "time/$tag=$((SECONDS - start))" >/dev/null
  echo "    $tag of run $run took $((SECONDS - start)) s"
}
