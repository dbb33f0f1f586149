#!/usr/bin/env bash
# Installs what the browser test needs, skipping what is present:
#   - Debian's chromium (apt-get; never a browser download);
#   - playwright-core (npm, pinned in browser/package-lock.json) into browser/node_modules;
#   - the engine.io-client browser bundle for the latency demo page.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'install-browser-deps: %s\n' "$*"; }

if [[ -x /usr/bin/chromium ]]; then
    say "chromium present"
else
    command -v apt-get >/dev/null || { say "apt-get is needed to install chromium"; exit 1; }
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    say "apt-get install chromium"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

if [[ -f browser/node_modules/playwright-core/package.json ]]; then
    say "playwright-core present"
else
    say "npm ci in browser/ (playwright-core)"
    (cd browser && npm ci --no-audit --no-fund --loglevel=error)
fi

bash scripts/install-demo-deps.sh
