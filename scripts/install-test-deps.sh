#!/usr/bin/env bash
# Installs the real peers the interop tests run against, on 127.0.0.1 only.
# Each step is skipped when its result is already present.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "(install-test-deps: nothing to install yet)"
