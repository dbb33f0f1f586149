#!/usr/bin/env bash
# The Python servers side by side: the same echo handler
# (interop/python/eio_server.py) served by python-engineio and by our
# engineio_rs, in each mode both have, driven by the same client (`eio bench`)
# with the same load, on 127.0.0.1:
#   asgi    AsyncServer + ASGIApp under uvicorn
#   wsgi    Server(async_mode="threading") + WSGIApp under werkzeug's threaded server
#   native  engineio_rs's AsyncServer(async_mode="native") serving itself
#           (measured only when this engineio_rs has it)
# Each server runs alone (one at a time, started fresh for each run), pinned to
# CPU 0 with the load generator on CPU 1 (no pinning on a single-CPU machine).
# Per server: round trips/s, p50/p99 round trip, the server's CPU time per
# round trip (`eio bench --server-pid`: utime+stime of /proc/<pid>/stat over
# the measured window, every thread included), how busy the server kept its
# CPU, how much of that CPU other
# processes took meanwhile (a run where they took over a tenth is done again,
# twice at most), how busy the client was (near 100%: the client, not the
# server, set the pace), and the echo rate against python-engineio in the
# same mode (native against python-engineio under uvicorn).
#
# Usage: bash scripts/bench-python.sh [CLIENTS] [SECONDS] [TRANSPORT]
# (defaults 20 10 websocket; TRANSPORT is websocket or polling: `eio bench
# ws-echo` or `poll-echo`, measuring SECONDS after a one-second warm-up).
# ROUNDS=N (default 5): each server is measured N times, the rounds
# interleaved; the table shows the run with the median echo rate, and the
# range of the rates.
# SERVER_PYTHON=path (default .test-deps/venv/bin/python) runs the servers on
# another Python environment, for example one with uvicorn[standard] (uvloop,
# httptools, websockets) instead of the test venv's plain uvicorn (asyncio,
# h11, wsproto); it needs python-engineio, uvicorn, werkzeug and
# simple-websocket (engineio_rs comes from the build, whatever it has).
# Builds first: the Python package in release mode (maturin develop --release
# into .test-deps/venv) and target/release/eio; installs the test peers
# (scripts/install-test-deps.sh, skipped when up to date). The servers import
# engineio_rs from a copy of that release build (its wheel, unpacked in a
# temporary directory put first on PYTHONPATH), so a rebuild of the package
# (a debug `maturin develop`, say) during the run cannot change what is measured.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CLIENTS=${1:-20}
SECONDS_MEASURED=${2:-10}
TRANSPORT=${3:-websocket}
case "$TRANSPORT" in
    websocket) BENCH_MODE=ws-echo ;;
    polling) BENCH_MODE=poll-echo ;;
    *) echo "TRANSPORT must be websocket or polling, not $TRANSPORT" >&2; exit 2 ;;
esac
ROUNDS=${ROUNDS:-5}
VENV="$ROOT/.test-deps/venv"
PY="$VENV/bin/python"
EIO="$ROOT/target/release/eio"
SERVER_PYTHON=${SERVER_PYTHON:-$PY}

LOGS=$(mktemp -d /tmp/eio-bench-python.XXXXXX)
TICKS=$(getconf CLK_TCK)
SERVER=""
cleanup() {
    local status=$?
    if [[ -n "$SERVER" ]]; then kill "$SERVER" 2>/dev/null || true; fi
    if [[ $status -eq 0 ]]; then
        rm -rf "$LOGS"
    else
        echo "bench-python.sh failed; its logs are in $LOGS" >&2
    fi
}
trap cleanup EXIT
bash scripts/install-test-deps.sh >/dev/null
REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n "$(git status --porcelain -- crates/engineio-py crates/engineio crates/engineio-proto 2>/dev/null)" ]]; then
    REVISION+=" with uncommitted changes"
fi
echo "building engineio_rs (maturin develop --release) and eio (cargo build --release)" >&2
(
    cd crates/engineio-py
    export VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH"
    maturin develop --release --locked -q
    maturin build --release --locked -q -o "$LOGS/wheel"
) >&2
cargo build --release -q -p eio-cli
SITE="$LOGS/site"
"$PY" - "$LOGS"/wheel/*.whl "$SITE" <<'PY'
import sys
import zipfile

zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
PYTHONPATH="$SITE" "$SERVER_PYTHON" -c '
import sys
import engineio_rs
assert engineio_rs.__file__.startswith(sys.argv[1]), engineio_rs.__file__
' "$SITE"

if [[ $(nproc) -ge 2 ]] && command -v taskset >/dev/null; then
    PIN_SERVER=(taskset -c 0)
    PIN_BENCH=(taskset -c 1)
    PINNING="server on CPU 0, eio bench on CPU 1"
else
    PIN_SERVER=()
    PIN_BENCH=()
    PINNING="not pinned (one CPU, or no taskset)"
fi

# The server's CPU time so far, in clock ticks (utime + stime, all threads).
cpu_ticks() {
    # Fields after "pid (comm) ": state is the 1st, utime the 12th, stime the 13th.
    sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# Busy time of the server's CPU (CPU 0) so far, in clock ticks, whoever used
# it (user, nice, system, irq, softirq, steal of its /proc/stat line).
server_cpu_busy() {
    awk '$1 == "cpu0" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# Waits for "LISTENING <port>" in the log and prints the port; returns 2 when
# the server exited saying its mode is not available, 1 on any other failure.
wait_port() {
    local pid=$1 log=$2 port state="still silent after 30 s"
    for _ in $(seq 1 300); do
        if port=$(grep -oE '^LISTENING [0-9]+' "$log" | grep -oE '[0-9]+$'); then
            echo "$port"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            grep -q 'is not available' "$log" && return 2
            state="exited"
            break
        fi
        sleep 0.1
    done
    echo "server did not start ($state), see $log:" >&2
    cat "$log" >&2
    return 1
}

declare -A UNAVAILABLE=()
RESULTS=""
LAST=""
LAST_WALL=0
LAST_OTHERS=0

# Measures one server: start, warm up, measure, stop. Appends a line
# "<engine> <mode> <server CPU s> <wall s> <others' CPU s on the server's CPU>
# <client CPU s> <eio bench's JSON>" to RESULTS (all around the measured run).
# A run during which other processes took more than a tenth of the server's
# CPU (and more than 20 ms) is done again (twice at most), when pinned.
measure() {
    local engine=$1 mode=$2 round=$3 attempt
    for attempt in 1 2 3; do
        measure_once "$engine" "$mode" "$round"
        [[ -n "${UNAVAILABLE[$engine/$mode]:-}" ]] && return 0
        [[ ${#PIN_SERVER[@]} -eq 0 ]] && break
        awk -v o="$LAST_OTHERS" -v w="$LAST_WALL" 'BEGIN { exit !(o > w / 10 && o > 0.02) }' || break
        if [[ $attempt -lt 3 ]]; then
            echo "$engine/$mode round $round: other processes used the server's CPU; again" >&2
        fi
    done
    RESULTS+="$LAST"$'\n'
}

# One run of measure(): sets LAST, LAST_WALL and LAST_OTHERS, or
# UNAVAILABLE[engine/mode] when the server says its mode is not available.
measure_once() {
    local engine=$1 mode=$2 round=$3
    local log="$LOGS/$engine-$mode-$round.log" port status=0 before after busy0 busy1 start end json
    local cpu wall others client
    PYTHONPATH="$SITE" "${PIN_SERVER[@]}" "$SERVER_PYTHON" interop/python/eio_server.py --engine "$engine" --mode "$mode" \
        --ping-interval 25 --ping-timeout 20 >"$log" 2>&1 &
    SERVER=$!
    port=$(wait_port "$SERVER" "$log") || status=$?
    if [[ $status -eq 2 ]]; then
        echo "$engine/$mode: $(grep 'is not available' "$log"); skipped" >&2
        UNAVAILABLE[$engine/$mode]=1
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
        return 0
    elif [[ $status -ne 0 ]]; then
        exit 1
    fi
    local url="http://127.0.0.1:$port"
    # Warm-up (imports done on first use, first connections): not measured.
    timeout 60 "${PIN_BENCH[@]}" "$EIO" bench "$BENCH_MODE" "$url" --clients 2 --duration 1 \
        --warmup 0 --json >/dev/null 2>&1
    before=$(cpu_ticks "$SERVER")
    busy0=$(server_cpu_busy)
    start=$(date +%s.%N)
    # bash's `time` gives the client's own CPU time (user and system).
    local TIMEFORMAT="%3U %3S"
    if ! { time json=$(timeout $((SECONDS_MEASURED + 60)) "${PIN_BENCH[@]}" "$EIO" bench "$BENCH_MODE" "$url" \
        --clients "$CLIENTS" --duration "$SECONDS_MEASURED" --warmup 1 --server-pid "$SERVER" --json 2>"$LOGS/bench.log"); } \
        2>"$LOGS/client-time"; then
        echo "eio bench failed against $engine/$mode:" >&2
        cat "$LOGS/bench.log" "$log" >&2
        exit 1
    fi
    end=$(date +%s.%N)
    busy1=$(server_cpu_busy)
    after=$(cpu_ticks "$SERVER")
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
    cpu=$(awk -v d=$((after - before)) -v t="$TICKS" 'BEGIN { print d / t }')
    wall=$(awk -v s="$start" -v e="$end" 'BEGIN { print e - s }')
    others=$(awk -v d=$((busy1 - busy0 - (after - before))) -v t="$TICKS" 'BEGIN { print (d > 0 ? d : 0) / t }')
    client=$(awk '{ print $1 + $2 }' "$LOGS/client-time")
    echo "$engine/$mode round $round: server CPU ${cpu}s, client CPU ${client}s, in ${wall}s;" \
        "others on the server's CPU ${others}s: $json" >&2
    LAST="$engine $mode $cpu $wall $others $client $json"
    LAST_WALL=$wall
    LAST_OTHERS=$others
}

CONFIGS=("engineio asgi" "engineio_rs asgi" "engineio wsgi" "engineio_rs wsgi" "engineio_rs native")
for round in $(seq 1 "$ROUNDS"); do
    for config in "${CONFIGS[@]}"; do
        read -r engine mode <<<"$config"
        [[ -n "${UNAVAILABLE[$engine/$mode]:-}" ]] && continue
        measure "$engine" "$mode" "$round"
    done
done

echo
echo "$CLIENTS clients over $TRANSPORT for $SECONDS_MEASURED s (eio bench $BENCH_MODE), the same eio_server.py handler;"
echo "$ROUNDS round(s), median run shown; $PINNING; $(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//');"
echo "$(date -u '+%Y-%m-%d %H:%M UTC'); engineio_rs built from commit $REVISION; servers on $("$SERVER_PYTHON" -c '
import importlib.metadata as m
import platform
names = ["python-engineio", "uvicorn", "uvloop", "httptools", "websockets", "wsproto", "werkzeug"]
found = []
for name in names:
    try:
        found.append(f"{name} {m.version(name)}")
    except m.PackageNotFoundError:
        pass
print("Python " + platform.python_version() + ", " + ", ".join(found))
')"
"$PY" - "$RESULTS" "${#PIN_SERVER[@]}" <<'PY'
import json
import sys

runs = {}
for line in sys.argv[1].splitlines():
    if line.strip():
        engine, mode, cpu, wall, others, client, body = line.split(" ", 6)
        run = {"cpu": float(cpu), "wall": float(wall), "others": float(others)}
        run["client"] = float(client)
        run.update(json.loads(body))
        runs.setdefault((engine, mode), []).append(run)
pinned = sys.argv[2] != "0"
names = {"engineio": "python-engineio", "engineio_rs": "engineio_rs"}
servers = {"asgi": "uvicorn", "wsgi": "werkzeug, threaded", "native": "our Rust server"}
# The run with the median echo rate stands for its server.
median = {}
for key, measured in runs.items():
    measured.sort(key=lambda run: run["per_second"])
    median[key] = measured[(len(measured) - 1) // 2]
columns = [
    ("engine", 15), ("mode (HTTP server)", 25), ("echoes/s", 8), ("range", 11),
    ("p50 ms", 6), ("p99 ms", 6), ("server CPU µs/echo", 18), ("server CPU busy", 15),
    ("others on its CPU", 17), ("client CPU busy", 15), ("vs python-engineio", 18),
]
print("| " + " | ".join(f"{name:{width}}" for name, width in columns) + " |")
print("|" + "|".join("-" * (width + 1) + (":" if i > 1 else "-") for i, (_, width) in enumerate(columns)) + "|")
for (engine, mode), run in median.items():
    rate = run["per_second"]
    base = median.get(("engineio", "wsgi" if mode == "wsgi" else "asgi"))
    ratio = f"{rate / base['per_second']:.2f}x" if base and base["per_second"] else "-"
    if mode == "native" and base:
        ratio += " (of asgi)"
    low, high = runs[engine, mode][0]["per_second"], runs[engine, mode][-1]["per_second"]
    cells = [
        names[engine],
        f"{mode} ({servers[mode]})",
        f"{rate:.0f}",
        f"{low:.0f}-{high:.0f}",
        f"{run['p50_ms']:.2f}",
        f"{run['p99_ms']:.2f}",
        f"{run['server_cpu_us_per_op']:.0f}" if run["round_trips"] else "-",
        f"{run['cpu'] / run['wall'] * 100:.0f}%" if run["wall"] else "-",
        f"{run['others'] / run['wall'] * 100:.0f}%" if pinned and run["wall"] else "-",
        f"{run['client'] / run['wall'] * 100:.0f}%" if run["wall"] else "-",
        ratio,
    ]
    line = "| " + " | ".join(
        f"{cell:{width}}" if i < 2 else f"{cell:>{width}}"
        for i, (cell, (_, width)) in enumerate(zip(cells, columns))
    ) + " |"
    print(line)
PY
