#!/usr/bin/env bash
# Runs the benchmarks the issues state goals for, several rounds, with the
# reference peers (a BEAM implementation and an in-memory ceiling; they live
# in the workspace beside this repository, not in it) in the same rounds
# (machines here are shared and noisy: ratios measured together hold,
# absolute figures drift), and prints the median of every key plus the ratios.
#
#   goals.sh [fanout|fanout3|gateway|all] [--runs N] [--bin DIR] [--out FILE]
#
# fanout3 is the cluster fan-out of issue 12 (herald-bench fanout --nodes 3, a throwaway local
# PostgreSQL per run) beside the BEAM cluster peers.
#
# Every raw key=value line goes to FILE (default var/goals-<time>.log) with a
# `bench=<name> run=<i>` header line, so medians can be recomputed later.
# Rounds interleave the benches (herald, BEAM, ceiling, herald, …) so a load
# spike hits all of them alike rather than one bench's five runs.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
what=all runs=5 bin=$root/build/bin out=
while (($#)); do
  case $1 in
    fanout|fanout3|gateway|all) what=$1 ;;
    --runs) runs=$2; shift ;;
    --bin) bin=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: goals.sh [fanout|fanout3|gateway|all] [--runs N] [--bin DIR] [--out FILE]" >&2; exit 2 ;;
  esac
  shift
done
peers=$(cd "$root/.." && pwd)/shared/peers
[[ -d $peers ]] || peers=$root/../../shared/peers
mkdir -p "$root/var"
out=${out:-$root/var/goals-$(date +%Y%m%dT%H%M%S).log}
: >"$out"

limit_bin=
if [[ -f $peers/fanout_limit.cpp ]]; then
  limit_bin=$(mktemp -d)/fanout_limit
  g++ -O2 -std=c++17 -pthread "$peers/fanout_limit.cpp" -o "$limit_bin"
fi

# record NAME CMD…: runs one bench, appends its key=value lines under a header.
record() {
  local name=$1 i=$2; shift 2
  echo "bench=$name run=$i load=$(cut -d' ' -f1 /proc/loadavg)" >>"$out"
  if ! "$@" 2>/dev/null | grep -E '^[a-z_0-9]+=' >>"$out"; then
    echo "failed=1" >>"$out"
  fi
  echo "  $name run $i done" >&2
}

fanout=("$bin/herald-bench" fanout --sessions 100000 --events 50 --payload 200)
for ((i = 1; i <= runs; i++)); do
  if [[ $what == fanout || $what == all ]]; then
    record herald_burst "$i" "${fanout[@]}" --mode burst
    [[ -x $peers/run ]] && record beam_burst "$i" "$peers/run" fanout 100000 50 200 burst
    [[ -n $limit_bin ]] && record fanout_limit "$i" "$limit_bin" 100000 50 200 2
    record herald_serial "$i" "${fanout[@]}" --mode serial
    [[ -x $peers/run ]] && record beam_serial "$i" "$peers/run" fanout 100000 50 200 serial
    record herald_guilds "$i" "$bin/herald-bench" fanout --sessions 100000 --guilds 10000 \
      --events 20000 --payload 200 --mode burst
  fi
  if [[ $what == fanout3 || $what == all ]]; then
    record herald_fanout3 "$i" "${fanout[@]}" --nodes 3 --guilds 1 --mode burst
    [[ -x $peers/run ]] && record beam_cluster "$i" "$peers/run" cluster 100000 50 200
    record herald_fanout3_small "$i" "$bin/herald-bench" fanout --nodes 3 --sessions 100000 \
      --guilds 10000 --events 500000 --payload 200 --mode burst
    [[ -x $peers/run ]] && record beam_small "$i" "$peers/run" small 10000 10 500000 200
  fi
  if [[ $what == gateway || $what == all ]]; then
    record gateway_burst "$i" "$bin/herald-bench" gateway --connections 10000 --messages 100
    record gateway_idle "$i" "$bin/herald-bench" gateway --connections 18000 --messages 10
    record gateway_rate10 "$i" "$bin/herald-bench" gateway --connections 10000 --messages 50 \
      --rate 10
  fi
done

# Medians per bench and key, then the ratios the issues state goals against.
python3 - "$out" <<'EOF'
import collections, statistics, sys
runs = collections.defaultdict(lambda: collections.defaultdict(list))
bench = None
for line in open(sys.argv[1]):
    for tok in line.split():
        if '=' not in tok:
            continue
        k, v = tok.split('=', 1)
        if k == 'bench':
            bench = v
            continue
        try:
            value = float(v)
        except ValueError:
            continue
        runs[bench][k].append(value)
med = {b: {k: statistics.median(v) for k, v in ks.items()} for b, ks in runs.items()}
keys = ['deliveries_per_s', 'event_completion_p50_ms', 'event_completion_p99_ms',
        'bytes_per_session', 'events_per_s', 'events_cpu_s', 'frames_per_s', 'e2e_p50_ms',
        'e2e_p99_ms', 'server_cpu_us_per_frame', 'rss_per_session_bytes', 'seq_gaps',
        'missing_frames', 'network_messages_per_event', 'cross_node_bytes_per_event', 'load',
        'failed']
for b in runs:
    shown = ' '.join(f'{k}={med[b][k]:.6g}' for k in keys if k in med[b])
    print(f'median bench={b} runs={len(runs[b]["run"])} {shown}')
def ratio(a, b, key):
    if a in med and b in med and med[b].get(key):
        print(f'ratio {a}/{b} {key}={med[a][key] / med[b][key]:.3g}')
ratio('herald_burst', 'beam_burst', 'deliveries_per_s')
ratio('herald_burst', 'fanout_limit', 'deliveries_per_s')
ratio('beam_serial', 'herald_serial', 'event_completion_p99_ms')
ratio('beam_burst', 'herald_burst', 'bytes_per_session')
ratio('herald_fanout3', 'beam_cluster', 'deliveries_per_s')
ratio('herald_fanout3_small', 'beam_small', 'events_per_s')
EOF
echo "raw lines: $out"
