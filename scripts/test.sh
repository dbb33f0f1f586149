#!/usr/bin/env bash
# Runs every check and test of the project, installing what they need first.
#
# Installs (each step is skipped when already present):
#   - rustfmt and clippy through rustup, if missing;
#   - the interop peers, by scripts/install-test-deps.sh: npm packages in interop/node_modules,
#     PyPI packages in .test-deps/venv, Debian's tinyproxy for the proxy tests, Debian's haproxy
#     and nginx for the load-balancer tests, and redis-server (see that script);
#   - the browser test's peers, by scripts/install-browser-deps.sh: Debian's chromium (apt-get),
#     playwright-core in browser/node_modules, engine.io-client's browser bundle for the demo;
#   - cargo-deny, by scripts/install-test-deps.sh (cargo install, pinned).
# Then: cargo fmt --check, cargo clippy -D warnings, cargo deny (supply-chain/cargo-deny.sh:
# bans, licenses, sources, and advisories when a RustSec database is reachable),
# a build check of the fuzz targets, cargo test for the whole workspace (the short
# soaks of `eio soak` among them) and for the features off by default (WebTransport, Redis),
# and the Python package (crates/engineio-py:
# built into the venv with maturin, checked with ruff, tested with pytest).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "test peers (npm engine.io / engine.io-client, PyPI python-engineio, Debian tinyproxy, haproxy, nginx, redis-server)"
bash scripts/install-test-deps.sh
step "browser test peers (Debian chromium, npm playwright-core, the demo's browser bundle)"
bash scripts/install-browser-deps.sh
# Interop tests fail (instead of skipping) when a peer is missing.
export EIO_INTEROP=require

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo deny: advisories, licenses, bans (duplicate versions, wildcards), sources (deny.toml)"
bash supply-chain/cargo-deny.sh

step "fuzz targets still build (running them is documented in fuzz/README.md)"
cargo check --manifest-path fuzz/Cargo.toml --locked

step "cargo test"
cargo test --workspace --locked

# The features off by default, all built once with one feature set (each
# extra set rebuilds engineio and eio-cli).
FEATURES=webtransport,redis
step "cargo test: features off by default ($FEATURES): WebTransport, the Redis bridge (each Redis test runs its own redis-server)"
cargo test --locked -p engineio --features $FEATURES --test server_webtransport --test browser_webtransport --test client_webtransport --test server_redis
cargo test --locked -p engineio --features $FEATURES --lib redis::
cargo test --locked -p engineio --features $FEATURES --doc redis
cargo test --locked -p eio-cli --features $FEATURES --test webtransport_serve --test redis_bridge

step "Python package engineio_rs (crates/engineio-py): fmt, clippy, maturin develop, ruff, pytest"
PY_CRATE=crates/engineio-py
VENV="$PWD/.test-deps/venv"
cargo fmt --manifest-path "$PY_CRATE/Cargo.toml" -- --check
cargo clippy --manifest-path "$PY_CRATE/Cargo.toml" --locked -- -D warnings
(cd "$PY_CRATE" && VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" maturin develop --locked --quiet)
"$VENV/bin/ruff" check "$PY_CRATE/python" "$PY_CRATE/tests" "$PY_CRATE/examples"
"$VENV/bin/ruff" format --check "$PY_CRATE/python" "$PY_CRATE/tests" "$PY_CRATE/examples"
"$VENV/bin/python" -m pytest -q "$PY_CRATE/tests"
