#!/usr/bin/env bash
# The server benchmark, side by side: our `eio serve`, the Node `engine.io`
# server (interop/node/eio-server.js), python-engineio's AsyncServer under
# uvicorn (interop/python/eio_server.py) and engineioxide
# (bench/engineioxide-echo, built from crates.io), all echo servers on
# 127.0.0.1, driven by the same load generator (`eio bench`) with the same
# scenarios, and writes BENCHMARKS.md and docs/benchmarks.png.
#
# Usage: bash scripts/bench.sh [--quick]
#   ROUNDS=N (default 3; --quick: 1)  runs of every scenario per peer; the
#                                     report shows the median and the range
#   DURATION=S (default 10; --quick: 3) seconds measured per run, after 2 s
#                                     of warm-up
#   PEERS="ours node python engineioxide" (default: all four)
#   OUT=BENCHMARKS.md  CHART=docs/benchmarks.png
#
# Every run starts a fresh server pinned to CPU 0 (`taskset -c 0`) and the
# load generator on CPU 1 (one thread); each scenario's figures come from
# `eio bench --json --server-pid`: the server's CPU time per operation
# (utime+stime over the measured window) and its RSS. Installs what it needs
# first: the npm and PyPI peers (scripts/install-test-deps.sh), matplotlib
# into .test-deps/venv for the chart, and the release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

QUICK=0
[[ "${1:-}" == "--quick" ]] && QUICK=1
ROUNDS=${ROUNDS:-$([[ $QUICK == 1 ]] && echo 1 || echo 3)}
DURATION=${DURATION:-$([[ $QUICK == 1 ]] && echo 3 || echo 10)}
PEERS=${PEERS:-"ours node python engineioxide"}
OUT=${OUT:-BENCHMARKS.md}
CHART=${CHART:-docs/benchmarks.png}
HOLD=${HOLD:-10000}
VENV="$ROOT/.test-deps/venv"
EIO="$ROOT/target/release/eio"
RESULTS=$(mktemp /tmp/eio-bench-results.XXXXXX)
LOGS=$(mktemp -d /tmp/eio-bench-logs.XXXXXX)
say() { printf 'bench: %s\n' "$*" >&2; }

if (( $(nproc) >= 2 )); then
    PIN_SERVER=(taskset -c 0)
    PIN_BENCH=(taskset -c 1)
    PINNING="server pinned to CPU 0, load generator (one thread) on CPU 1"
else
    PIN_SERVER=()
    PIN_BENCH=()
    PINNING="one CPU: nothing pinned"
fi
ulimit -n "$(ulimit -Hn)"

say "installing the peers and building (release)"
bash scripts/install-test-deps.sh >/dev/null
"$VENV/bin/python" -c "import matplotlib" 2>/dev/null \
    || "$VENV/bin/pip" install --quiet "matplotlib>=3.8,<4"
cargo build --release --locked -q -p eio-cli
if [[ " $PEERS " == *" engineioxide "* ]]; then
    cargo build --release --locked -q --manifest-path bench/engineioxide-echo/Cargo.toml
fi

SERVER=""
cleanup() {
    if [[ -n "$SERVER" ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
}
trap 'cleanup; rm -rf "$LOGS"' EXIT
say "raw results go to $RESULTS"

# Starts PEER's echo server, fresh, pinned; sets SERVER (its pid) and PORT.
start_server() {
    local peer=$1 log="$LOGS/$1.log"
    case "$peer" in
        ours) "${PIN_SERVER[@]}" "$EIO" serve --port 0 --quiet --broadcast >"$log" 2>&1 & ;;
        node) (cd interop && exec "${PIN_SERVER[@]}" node node/eio-server.js --quiet --broadcast \
                  --ping-interval 25000 --ping-timeout 20000) >"$log" 2>&1 & ;;
        python) "${PIN_SERVER[@]}" "$VENV/bin/python" interop/python/eio_server.py --quiet \
                  --ping-interval 25 --ping-timeout 20 >"$log" 2>&1 & ;;
        engineioxide) "${PIN_SERVER[@]}" bench/engineioxide-echo/target/release/engineioxide-echo \
                  --port 0 >"$log" 2>&1 & ;;
    esac
    SERVER=$!
    PORT=""
    for _ in $(seq 200); do
        PORT=$(grep -oE 'LISTENING [0-9]+|127\.0\.0\.1:[0-9]+' "$log" | head -1 | grep -oE '[0-9]+$' || true)
        [[ -n "$PORT" ]] && return 0
        sleep 0.05
    done
    say "$peer did not start:"; cat "$log" >&2
    exit 1
}

# scenario NAME MODE ARGS...: the eio bench arguments of each scenario.
SCENARIOS=(
    "ws1|ws-echo --clients 1"
    "ws100|ws-echo --clients 100"
    "ws1000|ws-echo --clients 1000"
    "poll50|poll-echo --clients 50"
    "handshakes|handshakes --clients 50"
    "hold|hold --sessions $HOLD"
    "broadcast|broadcast --clients $HOLD --rounds 20"
)

for round in $(seq "$ROUNDS"); do
    for peer in $PEERS; do
        for entry in "${SCENARIOS[@]}"; do
            name=${entry%%|*}
            read -r -a args <<<"${entry#*|}"
            # python-engineio has no broadcast command in its test server.
            [[ $peer == python && $name == broadcast ]] && continue
            start_server "$peer"
            say "round $round/$ROUNDS: $peer $name"
            if json=$("${PIN_BENCH[@]}" "$EIO" bench "${args[@]}" "http://127.0.0.1:$PORT" \
                    --duration "$DURATION" --server-pid "$SERVER" --json 2>"$LOGS/bench.err"); then
                printf '{"peer":"%s","scenario":"%s","round":%s,"report":%s}\n' \
                    "$peer" "$name" "$round" "$json" >>"$RESULTS"
            else
                say "$peer $name failed:"; tail -5 "$LOGS/bench.err" >&2
                printf '{"peer":"%s","scenario":"%s","round":%s,"failed":true}\n' \
                    "$peer" "$name" "$round" >>"$RESULTS"
            fi
            cleanup
            SERVER=""
        done
    done
done

VERSIONS="engine.io $(node -p 'require("./interop/node_modules/engine.io/package.json").version'),"
VERSIONS+=" python-engineio $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("python-engineio") + ", uvicorn " + m.version("uvicorn"))')"
VERSIONS+=", engineioxide $(grep -A1 '^name = "engineioxide"$' bench/engineioxide-echo/Cargo.lock | sed -n 's/version = "\(.*\)"/\1/p')"
"$VENV/bin/python" scripts/bench_report.py "$RESULTS" "$OUT" "$CHART" \
    --commit "$(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes')" \
    --machine "$(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)" \
    --pinning "$PINNING" --rounds "$ROUNDS" --duration "$DURATION" --versions "$VERSIONS" \
    --command "bash scripts/bench.sh${1:+ $1}"
say "wrote $OUT and $CHART (raw results: $RESULTS)"
