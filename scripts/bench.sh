#!/usr/bin/env bash
# Whole-server benchmark, side by side: our `eio serve`, the Node `engine.io`
# server and python-engineio's AsyncServer under uvicorn, all echo servers on
# 127.0.0.1, driven by the same client (`eio bench`) with the same load.
# Bounded: SECONDS measured per server, after a two-second warm-up.
#
# Usage: bash scripts/bench.sh [CLIENTS] [SECONDS] [TRANSPORT]
# (defaults 20 10 websocket; TRANSPORT is websocket or polling). Installs the peers first (scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-20}
SECONDS_MEASURED=${2:-10}
TRANSPORT=${3:-websocket}
MODE=ws-echo
[[ "$TRANSPORT" == polling ]] && MODE=poll-echo

bash scripts/install-test-deps.sh >/dev/null
cargo build --release -q -p eio-cli
EIO=target/release/eio
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

# Starts a server that prints "LISTENING <port>" (or our banner) and echoes its port.
wait_port() {
    local log=$1
    for _ in $(seq 1 100); do
        if port=$(grep -oE 'LISTENING [0-9]+|127\.0\.0\.1:[0-9]+' "$log" | head -1 | grep -oE '[0-9]+$'); then
            echo "$port"; return 0
        fi
        sleep 0.1
    done
    echo "server did not start, see $log" >&2; return 1
}

run() {
    local name=$1 port=$2
    local result
    result=$("$EIO" bench "$MODE" "http://127.0.0.1:$port" --clients "$CLIENTS" \
        --duration "$SECONDS_MEASURED" --json 2>/dev/null)
    echo "$name $result"
}

"$EIO" serve --port 0 --ping-interval 25000 --ping-timeout 20000 > /tmp/eio-bench-rust.log 2>&1 &
PIDS+=($!)
(cd interop && node node/eio-server.js --ping-interval 25000 --ping-timeout 20000) > /tmp/eio-bench-node.log 2>&1 &
PIDS+=($!)
.test-deps/venv/bin/python interop/python/eio_server.py --ping-interval 25 --ping-timeout 20 > /tmp/eio-bench-python.log 2>&1 &
PIDS+=($!)

RESULTS=$(
    run engineio-rs "$(wait_port /tmp/eio-bench-rust.log)"
    run node-engine.io "$(wait_port /tmp/eio-bench-node.log)"
    run python-engineio "$(wait_port /tmp/eio-bench-python.log)"
)
echo "$CLIENTS clients for $SECONDS_MEASURED s over $TRANSPORT, one client (eio bench $MODE) for all:"
python3 - "$RESULTS" <<'PY'
import json, sys
rows = [line.split(" ", 1) for line in sys.argv[1].splitlines() if line.strip()]
data = {name: json.loads(body) for name, body in rows}
ours = data["engineio-rs"]["per_second"]
print(f"{'server':18} {'round trips/s':>13} {'p50 ms':>8} {'p99 ms':>8} {'ours / it':>10}")
for name, d in data.items():
    ratio = ours / d["per_second"] if d["per_second"] else float("inf")
    print(f"{name:18} {d['per_second']:>13.0f} {d['p50_ms']:>8.3f} {d['p99_ms']:>8.3f} {ratio:>9.2f}x")
PY
