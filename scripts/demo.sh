#!/usr/bin/env bash
# The latency demo on http://127.0.0.1:5000 (or --port N): installs the official
# browser client (npm engine.io-client, pinned in the demo's package-lock.json) once,
# then builds and runs the example server. Needs node/npm and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-demo-deps.sh
exec cargo run --release -p engineio --example latency -- "$@"
