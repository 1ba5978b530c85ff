#!/bin/sh
# Side by side, in one run: vaexp's k-sample IWAE estimate (vaexp eval RUN
# --metrics nll) against PyTorch's (bench/pytorch/iwae_estimate.py, the same
# checkpoint, 1 and 2 threads), each ROUNDS times, alternating.
#
#   bench/iwae.sh [-n IMAGES] [-k K] [-r ROUNDS] DB RUN
#
# DB and RUN name a vaexp run of the IWAE paper's one-layer model (e.g. a run
# of repro/iwae-paper-1l-vae.yaml); eval adds its figures to that database,
# so point it at a copy. Prints one line per measurement: wall and CPU
# seconds of the whole command (vaexp) or of the estimate alone (PyTorch,
# which excludes its start-up and data loading), the NLL, and the load.
set -e
n=10000 k=5000 rounds=1
while getopts n:k:r: o; do
	case $o in
	n) n=$OPTARG ;;
	k) k=$OPTARG ;;
	r) rounds=$OPTARG ;;
	*) echo "usage: $0 [-n IMAGES] [-k K] [-r ROUNDS] DB RUN" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: $0 [-n IMAGES] [-k K] [-r ROUNDS] DB RUN" >&2; exit 2; }
db=$1 run=$2
dir=$(cd "$(dirname "$0")" && pwd)
vaexp=${VAEXP:-$dir/../bin/vaexp}
folder=$("$vaexp" --db "$db" runs show "$run" | awk '$1 == "folder" {print $2}')
[ -d "$folder/checkpoint" ] || { echo "run $run has no checkpoint folder ($folder/checkpoint)" >&2; exit 1; }
i=1
while [ $i -le "$rounds" ]; do
	t=$( { /usr/bin/time -f "%e %U %S" "$vaexp" --db "$db" eval "$run" --metrics nll --iwae-k "$k" -n "$n" > /tmp/vaexp-iwae-eval.$$ ; } 2>&1 | tail -1)
	nll=$(awk '$1 == "eval/nll" {print $2}' /tmp/vaexp-iwae-eval.$$)
	path=$(grep -o 'path=[^ ]*' /tmp/vaexp-iwae-eval.$$ | head -1)
	echo "$t" | awk -v nll="$nll" -v path="$path" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
		'{printf "vaexp   (%s): %7.1f s wall, %7.1f s CPU, NLL %s, load %s\n", path, $1, $2 + $3, nll, load}'
	for threads in 1 2; do
		"$dir/pytorch/run.sh" iwae_estimate.py --checkpoint "$folder/checkpoint" --n "$n" --k "$k" --threads "$threads" --json |
			python3 -c 'import json, sys; d = json.loads(sys.stdin.read()); print("pytorch (%d thread%s): %7.1f s wall, %7.1f s CPU, NLL %.3f, load %.1f" % (d["threads"], "s" if d["threads"] > 1 else " ", d["seconds"], d["cpu_seconds"], d["nll"], d["load_avg_at_end"][0]))'
	done
	i=$((i + 1))
done
rm -f /tmp/vaexp-iwae-eval.$$
