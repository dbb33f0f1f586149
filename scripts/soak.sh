#!/usr/bin/env bash
# The soaks of issue 11 at full size, each against a fresh `eio serve` (release
# build) on 127.0.0.1, one after the other; prints each one's figures.
#
#   scripts/soak.sh           # about 6 minutes
#   scripts/soak.sh --short   # about 1 minute: the sizes of crates/eio-cli/tests/soak.rs
#
# 1. abandon: 10,000 sessions abandoned at eight steps (after the handshake,
#    poll pending, mid-POST, after the WebSocket handshake, after 2probe, after
#    3probe, mid-frame, half-open), after a warm-up round of 200; every one must
#    be reaped (a poll then gets "Session ID unknown") and the server's RSS must
#    come back within 10% of its baseline. Server: pings 1 s + 1 s, upgrade
#    timeout 1 s.
# 2. traffic: 1,000 clients (a third polling only, a third WebSocket only, a
#    third upgrading while they send) for 60 s, each sending a numbered message
#    every 100 ms while the server ticks every session every 100 ms: every echo
#    and tick exactly once and in order.
# 3. hold: 19,000 idle WebSocket sessions for 120 s, pings every 10 s; none may
#    drop; RSS per session. Needs 19,000+ open files in each process: the
#    script raises `ulimit -n` to its hard limit (20,000 on our machines).
#
set -euo pipefail
cd "$(dirname "$0")/.."

short=0
[[ "${1:-}" == "--short" ]] && short=1
if [[ $short == 1 ]]; then
    ABANDON=800 WARMUP=80 CLIENTS=60 DURATION=5 HOLD=200 HOLD_SECONDS=5
else
    ABANDON=10000 WARMUP=200 CLIENTS=1000 DURATION=60 HOLD=19000 HOLD_SECONDS=120
fi

ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < HOLD + 500 )); then
    HOLD=$(( $(ulimit -n) - 500 ))
    echo "soak: the open-file limit is $(ulimit -n): holding $HOLD sessions instead"
fi

echo "soak: building eio (release)"
cargo build --release --locked -q -p eio-cli
EIO=target/release/eio
PORT=${SOAK_PORT:-5790}
URL=http://127.0.0.1:$PORT
SERVER=""

start_server() {
    "$EIO" serve --host 127.0.0.1 --port "$PORT" --quiet "$@" >/dev/null &
    SERVER=$!
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "soak: eio serve did not start on port $PORT" >&2
    exit 1
}
stop_server() {
    kill -INT "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
}
trap stop_server EXIT

echo
echo "== abandon: $ABANDON sessions at eight steps"
start_server --ping-interval 1000 --ping-timeout 1000 --upgrade-timeout 1000
"$EIO" soak abandon "$URL" --sessions "$ABANDON" --warmup "$WARMUP" \
    --upgrade-timeout 1000 --server-pid "$SERVER"
stop_server

echo
echo "== traffic: $CLIENTS clients for $DURATION s"
start_server --tick 100
"$EIO" soak traffic "$URL" --clients "$CLIENTS" --duration "$DURATION" --ticks \
    --server-pid "$SERVER"
stop_server

echo
echo "== hold: $HOLD idle WebSocket sessions for $HOLD_SECONDS s"
start_server --ping-interval 10000 --ping-timeout 5000
"$EIO" soak hold "$URL" --sessions "$HOLD" --duration "$HOLD_SECONDS" \
    --server-pid "$SERVER"
stop_server
trap - EXIT
echo
echo "soak: all passed"
