#!/usr/bin/env bash
# Exports a snapshot of the RustSec advisory database (https://github.com/rustsec/advisory-db)
# for supply-chain/cargo-deny.sh to check against where GitHub cannot be reached.
#
#   supply-chain/refresh-advisory-db.sh DEST [SOURCE]
#
# SOURCE is a git URL or a local clone (bare or not) of rustsec/advisory-db; by
# default the GitHub repository itself, so run this on a machine that reaches it.
# DEST gets crates/ (every crate advisory, all cargo-deny reads), LICENSE.txt and
# LICENSES/ (CC0-1.0; GHSA-imported text is CC-BY-4.0), and SNAPSHOT (upstream
# commit and its date, which the check prints and holds against
# `maximum-db-staleness` in deny.toml). An existing DEST is replaced.
#
# Where the snapshot goes: not into this repository (the advisory data is not
# ours to commit here). The test command looks for it in $EIO_ADVISORY_DB, then
# in shared/advisory-db/ beside the repository (the steering repo's shared/, which
# CI gets a copy of); put it there and refresh it the same way.
set -euo pipefail

DEST=${1:?usage: $0 DEST [SOURCE]}
SOURCE=${2:-https://github.com/rustsec/advisory-db}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [[ -d "$SOURCE" ]] && git -C "$SOURCE" rev-parse --git-dir >/dev/null 2>&1; then
    repo="$SOURCE"
else
    git clone --quiet --bare --depth 1 --branch main "$SOURCE" "$tmp/advisory-db.git"
    repo="$tmp/advisory-db.git"
fi

# A bare mirror's HEAD may point at a branch other than main; prefer main.
rev=$(git -C "$repo" rev-parse --verify --quiet 'refs/heads/main^{commit}' || git -C "$repo" rev-parse 'HEAD^{commit}')
date=$(git -C "$repo" show -s --format=%cI "$rev")

mkdir -p "$tmp/out"
git -C "$repo" archive "$rev" crates LICENSE.txt LICENSES | tar -x -C "$tmp/out"
count=$(find "$tmp/out/crates" -name 'RUSTSEC-*.md' | wc -l)
cat > "$tmp/out/SNAPSHOT" <<SNAP
upstream=https://github.com/rustsec/advisory-db
commit=$rev
commit_date=$date
exported=$(date -u +%Y-%m-%dT%H:%M:%SZ)
advisories=$count
SNAP

rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
mv "$tmp/out" "$DEST"
echo "advisory-db snapshot: $count advisories, upstream $rev ($date) -> $DEST"
