#!/usr/bin/env bash
# Installs the browser bundle of engine.io-client for the latency demo page
# (crates/engineio/examples/latency/node_modules), skipping it when present.
set -euo pipefail
cd "$(dirname "$0")/../crates/engineio/examples/latency"
if [[ -f node_modules/engine.io-client/dist/engine.io.min.js ]]; then
    echo "demo: browser client already installed"
else
    command -v npm >/dev/null || { echo "demo: npm is needed to install engine.io-client"; exit 1; }
    echo "demo: npm ci (engine.io-client for the browser)"
    npm ci --no-audit --no-fund --loglevel=error
fi
