#!/usr/bin/env bash
# Runs every check and test of the project, installing what they need first.
#
# Installs (each step is skipped when already present):
#   - rustfmt and clippy through rustup, if missing;
# Then: cargo fmt --check, cargo clippy -D warnings, cargo test for the whole workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test"
cargo test --workspace --locked
