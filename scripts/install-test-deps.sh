#!/usr/bin/env bash
# Installs the real peers the interop tests run against, on 127.0.0.1 only:
#   - npm: engine.io and engine.io-client (exact versions in interop/package-lock.json)
#     into interop/node_modules, with `npm ci` (no global install);
#   - PyPI: python-engineio, uvicorn, aiohttp, requests, websocket-client, and
#     maturin, pytest, ruff for the Python package (pinned in
#     interop/requirements.txt) into the venv .test-deps/venv;
#   - Debian's tinyproxy (apt-get), the HTTP proxy of tests/client_proxy.rs
#     (each test starts its own on 127.0.0.1; the package's service is not used).
#   - Debian's haproxy and nginx (apt-get), the load balancers of
#     crates/eio-cli/tests/balancers.rs, and redis-server for the Redis bridge's
#     tests; each test starts its own as the test's user on 127.0.0.1, so the
#     services the packages start are stopped and disabled right after install.
#   - crates.io: cargo-deny (`cargo install --locked`, pinned below), which
#     supply-chain/cargo-deny.sh runs; skipped when that version or a newer one
#     is already installed (a build from source takes about 3-4 minutes).
#
# Idempotent: each step records a hash of its lock file and is skipped when the
# hash has not changed and the install is still there. Set FORCE=1 to redo all.
# Needs node/npm and python3 (with the venv module) on PATH, and apt-get (with sudo
# when not root) unless the Debian packages above are already installed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf 'install-test-deps: %s\n' "$*"; }
hash_of() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

# --- npm peers ---------------------------------------------------------------
NPM_STAMP="$ROOT/interop/node_modules/.eio-lock-hash"
npm_hash=$(hash_of interop/package.json interop/package-lock.json)
if [[ "${FORCE:-}" != 1 && -f "$NPM_STAMP" && "$(cat "$NPM_STAMP")" == "$npm_hash" ]]; then
    say "npm peers up to date (interop/node_modules)"
else
    command -v npm >/dev/null || { say "npm is not installed: install node.js and npm first"; exit 1; }
    say "npm ci in interop/ (engine.io, engine.io-client)"
    (cd interop && npm ci --no-audit --no-fund --loglevel=error)
    echo "$npm_hash" > "$NPM_STAMP"
fi

# --- Python peers ------------------------------------------------------------
VENV="$ROOT/.test-deps/venv"
PY_STAMP="$VENV/.eio-requirements-hash"
py_hash=$(hash_of interop/requirements.txt)
if [[ "${FORCE:-}" != 1 && -f "$PY_STAMP" && "$(cat "$PY_STAMP")" == "$py_hash" && -x "$VENV/bin/python" ]]; then
    say "Python peers up to date (.test-deps/venv)"
else
    command -v python3 >/dev/null || { say "python3 is not installed"; exit 1; }
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating venv .test-deps/venv"
        mkdir -p "$ROOT/.test-deps"
        python3 -m venv "$VENV"
    fi
    say "pip install -r interop/requirements.txt into .test-deps/venv"
    "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet -r interop/requirements.txt
    echo "$py_hash" > "$PY_STAMP"
fi

# --- tinyproxy -----------------------------------------------------------------
if command -v tinyproxy >/dev/null || [[ -x /usr/sbin/tinyproxy ]]; then
    say "tinyproxy present"
else
    command -v apt-get >/dev/null || { say "apt-get is needed to install tinyproxy"; exit 1; }
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    say "apt-get install tinyproxy"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq tinyproxy >/dev/null
fi

# --- haproxy, nginx, redis-server --------------------------------------------------
# Debian puts haproxy and nginx in /usr/sbin, outside a normal user's PATH.
have_program() { command -v "$1" >/dev/null || [[ -x "/usr/sbin/$1" ]]; }
missing_pkgs=()
have_program haproxy || missing_pkgs+=(haproxy)
have_program nginx || missing_pkgs+=(nginx)
have_program redis-server || missing_pkgs+=(redis-server)
if [[ ${#missing_pkgs[@]} -eq 0 ]]; then
    say "haproxy, nginx, redis-server present"
else
    command -v apt-get >/dev/null || { say "apt-get is needed to install ${missing_pkgs[*]}"; exit 1; }
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    say "apt-get install ${missing_pkgs[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
    # The tests run their own instances on free ports: the packages' system
    # services (nginx on port 80, haproxy, redis on 6379) are not wanted.
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
        for pkg in "${missing_pkgs[@]}"; do
            $SUDO systemctl disable --now "$pkg" >/dev/null 2>&1 || true
        done
    fi
fi

# --- cargo-deny ----------------------------------------------------------------
# 0.20.2 builds with Rust 1.88 and later; deny.toml uses its 0.20 keys and flags.
CARGO_DENY_VERSION=0.20.2
have_deny=$(cargo deny --version 2>/dev/null | awk '{print $2}' || true)
if [[ "${FORCE:-}" != 1 && -n "$have_deny" ]] \
    && [[ "$(printf '%s\n%s\n' "$CARGO_DENY_VERSION" "$have_deny" | sort -V | head -n1)" == "$CARGO_DENY_VERSION" ]]; then
    say "cargo-deny $have_deny present"
else
    say "cargo install cargo-deny $CARGO_DENY_VERSION${have_deny:+ (found $have_deny)}"
    cargo install --locked --quiet cargo-deny --version "=$CARGO_DENY_VERSION"
fi

say "done"
