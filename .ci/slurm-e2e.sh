#!/usr/bin/env bash
# End-to-end test of `vaexp sweep emit --slurm` on a real single-node Slurm
# cluster (Debian's slurmctld, slurmd, slurm-client and munge), following
# the measured recipe in ../shared/notes/slurm.md:
#
#   1. installs the packages if missing (apt), as root;
#   2. starts munged, slurmctld and slurmd with their own config, keys'
#      socket, state and logs in a private folder (on free ports, so a
#      cluster already on this machine is left alone);
#   3. emits the sbatch script of a tiny grid sweep, submits it with
#      `sbatch --wait` (every array task runs one trial into its own
#      database), merges the per-task databases (twice: merging is
#      idempotent) and checks that `vaexp sweep status` shows every trial
#      finished;
#   4. stops only the daemons it started, by their pids (trap on exit).
#
# Usage: .ci/slurm-e2e.sh   (root; about 30 s with the packages installed)
# VAEXP_SLURM_KEEP=1 keeps the private folder (logs, databases) for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3 GOEXPERIMENT=simd

if [ "$(id -u)" != 0 ]; then
  echo "slurm-e2e: needs root (munge and the Slurm daemons run as root here); skipped" >&2
  exit 0
fi
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-e2e: installing slurmctld slurmd slurm-client munge" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

WORK=$(mktemp -d /tmp/vaexp-slurm.XXXXXX)
chmod 0755 "$WORK" # munged (its own user) must reach its folder inside
PIDS=()
cleanup() {
  local code=$?
  # Newest first: slurmd, slurmctld, then munged (by its own pid, so that
  # runuser, its parent here, reaps it and exits).
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    p=${PIDS[i]}
    kill "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "$code" != 0 ]; then
    echo "slurm-e2e: FAILED (exit $code); logs:" >&2
    for f in "$WORK"/*.log "$WORK"/*.out "$WORK"/munge/munged.log "$WORK"/results/slurm-*.out; do
      [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }
    done
  fi
  if [ -z "${VAEXP_SLURM_KEEP:-}" ]; then rm -rf "$WORK"; else echo "slurm-e2e: kept $WORK" >&2; fi
  exit "$code"
}
trap cleanup EXIT

# munge, with its own socket, pid, seed and log files (it refuses to run as
# root, and insists its files belong to its user).
install -d -o munge -g munge -m 0755 "$WORK/munge" # its socket folder must be searchable by all
chown munge:munge /etc/munge/munge.key && chmod 0600 /etc/munge/munge.key
runuser -u munge -- /usr/sbin/munged -F --socket="$WORK/munge/munge.socket" --pid-file="$WORK/munge/munged.pid" \
  --seed-file="$WORK/munge/munged.seed" --log-file="$WORK/munge/munged.log" >"$WORK/munged.out" 2>&1 &
PIDS+=($!) # runuser
for _ in $(seq 50); do [ -S "$WORK/munge/munge.socket" ] && [ -s "$WORK/munge/munged.pid" ] && break; sleep 0.1; done
PIDS+=("$(cat "$WORK/munge/munged.pid")")
munge --socket="$WORK/munge/munge.socket" -n | unmunge --socket="$WORK/munge/munge.socket" >/dev/null

# slurm.conf in the private folder; clients find it through SLURM_CONF.
HOST=$(hostname -s)
PORT=$((20000 + RANDOM % 20000))
mkdir -p "$WORK/state" "$WORK/spool/slurmd-$HOST" "$WORK/results"
NODE=$(slurmd -C | head -n 1)
export SLURM_CONF="$WORK/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=vaexpci
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
AuthInfo=socket=$WORK/munge/munge.socket
MpiDefault=none
MailProg=/bin/true
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool/slurmd-%n
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge=600
$NODE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
setsid slurmctld -D -f "$SLURM_CONF" >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
setsid slurmd -D -f "$SLURM_CONF" >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 150); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -n 1 || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || { echo "slurm-e2e: the node is '$state', not idle, after 30 s" >&2; exit 1; }
echo "slurm-e2e: cluster up (node $HOST idle, slurmctld port $PORT)" >&2

# A tiny grid sweep, emitted as a job array and submitted.
go build -o "$WORK/vaexp" ./cmd/vaexp
cat >"$WORK/tiny.yaml" <<'EOF'
name: slurm-tiny
model: vae
data: {limit: 512, test_limit: 200}
train: {steps: 20, batch_size: 64}
eval: {samples: 0}
method: grid
space:
  latent_dim: [2, 4, 8]
seeds: 2
EOF
"$WORK/vaexp" sweep emit "$WORK/tiny.yaml" --slurm --dir "$WORK/results" --binary "$WORK/vaexp" >"$WORK/tiny.sbatch"
grep -q '^#SBATCH --array=0-5$' "$WORK/tiny.sbatch"
start=$(date +%s)
job=$(sbatch --parsable --wait "$WORK/tiny.sbatch")
echo "slurm-e2e: job array $job ended after $(($(date +%s) - start)) s" >&2
ls "$WORK"/results/task-*.db | wc -l | grep -qx 6

# Merge (twice: the second must add nothing) and check the sweep.
"$WORK/vaexp" tracker merge -q "$WORK"/results/task-*.db --into "$WORK/sweep.db"
again=$("$WORK/vaexp" tracker merge -q "$WORK"/results/task-*.db --into "$WORK/sweep.db")
echo "$again" | grep -q "0 runs added, 0 updated, 6 already there" || { echo "slurm-e2e: second merge: $again" >&2; exit 1; }
status=$("$WORK/vaexp" --db "$WORK/sweep.db" sweep status slurm-tiny)
echo "$status"
echo "$status" | head -n 1 | grep -q "grid, finished; 6 trials: 6 finished"
[ "$(echo "$status" | awk 'NR > 2 && $4 == "finished"' | wc -l)" = 6 ] || { echo "slurm-e2e: not every trial row is finished" >&2; exit 1; }
runs=$("$WORK/vaexp" --db "$WORK/sweep.db" runs list --filter "sweep = 'slurm-tiny' AND status = 'finished'" --format csv --limit 0 | tail -n +2 | wc -l)
[ "$runs" = 6 ] || { echo "slurm-e2e: $runs finished runs in the merged database, want 6" >&2; exit 1; }
echo "slurm-e2e: ok: 6 array tasks, 6 trials finished, merged without duplicates" >&2
