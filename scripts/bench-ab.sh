#!/usr/bin/env bash
# Compares two builds of the `eio` server on the same load, alternating them
# (A B A B ...) so that the machine's drift hits both alike: WebSocket echo
# with 100 and 1,000 clients (8 s each) and N idle WebSocket sessions held
# (KiB of server RSS per session). The load generator is A's `eio bench`
# for both; each server is fresh, pinned to CPU 0, the generator to CPU 1.
# Prints one JSON line per run, then the medians.
#
# Usage: scripts/bench-ab.sh EIO_A EIO_B [ROUNDS=3] [HOLD_SESSIONS=5000] [SERVE_ARGS...]
#   e.g. scripts/bench-ab.sh /tmp/eio-main target/release/eio
#        scripts/bench-ab.sh /tmp/eio-main target/release/eio 3 5000 --per-message-deflate
set -euo pipefail
A=$1 B=$2 ROUNDS=${3:-3} HOLD=${4:-5000}
shift $(( $# < 4 ? $# : 4 ))
SERVE_ARGS=("$@")
OUT=$(mktemp -d)
PORT=5710
ulimit -n 65536 2>/dev/null || true

run() { # label eio scenario bench-args...
  local label=$1 eio=$2 scenario=$3; shift 3
  taskset -c 0 "$eio" serve --quiet --port $PORT "${SERVE_ARGS[@]}" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/engine.io/?EIO=4&transport=polling" && break
    sleep 0.1
  done
  local line
  line=$(taskset -c 1 "$A" bench "$@" "http://127.0.0.1:$PORT/" --server-pid $pid --json 2>/dev/null | tail -1)
  kill -INT $pid; wait $pid 2>/dev/null || true
  echo "$label $scenario $line" | tee -a "$OUT/runs"
  PORT=$((PORT + 1))
}

for round in $(seq "$ROUNDS"); do
  for side in A B; do
    eio=$A; [ $side = B ] && eio=$B
    run $side "$eio" ws100 ws-echo --clients 100 --duration 8
    run $side "$eio" ws1000 ws-echo --clients 1000 --duration 8
    run $side "$eio" hold hold --sessions "$HOLD" --duration 8
  done
done

python3 - "$OUT/runs" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, scenario, data = line.split(" ", 2)
    runs.setdefault((scenario, side), []).append(json.loads(data))
def med(rows, *keys):
    values = []
    for r in rows:
        v = r
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if isinstance(v, (int, float)):
            values.append(v)
    return statistics.median(values) if values else None
for scenario in ("ws100", "ws1000", "hold"):
    for side in ("A", "B"):
        rows = runs.get((scenario, side), [])
        print(scenario, side, json.dumps({k: med(rows, k) for k in rows[0] if isinstance(rows[0][k], (int, float))} if rows else {}))
PY
