#!/usr/bin/env bash
# The test command's supply-chain step: cargo-deny's four checks (advisories,
# bans incl. duplicate versions and wildcards, licenses, sources), with the policy
# in deny.toml and --all-features, on the main workspace and on crates/engineio-py
# (its own lockfile). scripts/install-test-deps.sh installs cargo-deny.
#
# The advisory database (RustSec's advisory-db, on GitHub), first found of:
#   1. $EIO_ADVISORY_DB: a snapshot made by supply-chain/refresh-advisory-db.sh;
#   2. the live database, when GitHub answers within 10 s (cargo-deny clones or
#      updates it in target/advisory-dbs);
#   3. ../shared/advisory-db: the same kind of snapshot, in the shared/ folder
#      beside the repository (the steering repo's, which CI gets a copy of).
# A snapshot is copied into a git repository under target/advisory-dbs/snapshot
# (cargo-deny wants one), dated by its upstream commit, and checked with
# `cargo deny --offline`, which also refuses it once it is older than deny.toml's
# maximum-db-staleness. With none of the three, advisories are NOT checked and the
# step says so loudly; EIO_REQUIRE_ADVISORIES=1 makes that an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf 'cargo-deny: %s\n' "$*"; }

cargo deny --version >/dev/null 2>&1 || { say "cargo-deny is not installed: run scripts/install-test-deps.sh"; exit 1; }
say "$(cargo deny --version)"

LIVE_URL=https://github.com/rustsec/advisory-db
# cargo-deny's directory name for that URL (its default database) under db-path.
DB_DIR=advisory-db-3157b0e258782691
MANIFESTS=(Cargo.toml crates/engineio-py/Cargo.toml)

snapshot=""
live=0
if [[ -n "${EIO_ADVISORY_DB:-}" ]]; then
    snapshot="$EIO_ADVISORY_DB"
elif GIT_TERMINAL_PROMPT=0 timeout 10 git ls-remote --exit-code "$LIVE_URL" HEAD >/dev/null 2>&1; then
    live=1
elif [[ -d "$ROOT/../shared/advisory-db/crates" ]]; then
    snapshot="$ROOT/../shared/advisory-db"
fi

deny=(cargo deny)
checks=(advisories bans licenses sources)
if [[ -n "$snapshot" ]]; then
    [[ -d "$snapshot/crates" && -f "$snapshot/SNAPSHOT" ]] \
        || { say "$snapshot is not an advisory-db snapshot (crates/ and SNAPSHOT expected)"; exit 1; }
    field() { sed -n "s/^$1=//p" "$snapshot/SNAPSHOT"; }
    commit=$(field commit)
    date=$(field commit_date)
    [[ -n "$commit" && -n "$date" ]] || { say "$snapshot/SNAPSHOT lacks commit= or commit_date="; exit 1; }
    age_days=$(( ($(date +%s) - $(date -d "$date" +%s)) / 86400 ))
    say "advisories: RustSec advisory-db snapshot $commit of $date ($age_days days old), from $snapshot"

    export EIO_ADVISORY_DB_ROOT="$ROOT/target/advisory-dbs/snapshot"
    db="$EIO_ADVISORY_DB_ROOT/$DB_DIR"
    [[ -d "$db" ]] && chmod -R u+w "$db"   # a copy of a read-only snapshot is read-only
    rm -rf "$db"
    mkdir -p "$db"
    cp -R "$snapshot/crates" "$snapshot/SNAPSHOT" "$db/"
    git -C "$db" init -q
    git -C "$db" add -A
    GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" git -C "$db" \
        -c user.name="advisory-db snapshot" -c user.email=snapshot@localhost -c commit.gpgsign=false \
        commit -q -m "RustSec advisory-db $commit"
    # cargo-deny dates a database by the newer of HEAD's commit and the .git/HEAD file.
    touch -d "$date" "$db/.git/HEAD"
    # --offline: no database fetch (and cargo runs offline, hence the fetch below).
    deny+=(--offline)
elif [[ "$live" == 1 ]]; then
    say "advisories: the live RustSec advisory-db ($LIVE_URL)"
else
    say "advisories NOT CHECKED: $LIVE_URL is unreachable and there is no snapshot"
    say "  (set EIO_ADVISORY_DB, or put one in ../shared/advisory-db: see supply-chain/refresh-advisory-db.sh)"
    [[ "${EIO_REQUIRE_ADVISORIES:-}" == 1 ]] && { say "EIO_REQUIRE_ADVISORIES=1: failing"; exit 1; }
    checks=(bans licenses sources)
fi

for manifest in "${MANIFESTS[@]}"; do
    extra=()
    # deny.toml's skip list is written for the main workspace, whose run warns
    # about an entry that no longer matches; engineio-py's smaller tree lacks some.
    [[ "$manifest" != Cargo.toml ]] && extra=(--allow unmatched-skip --allow unnecessary-skip)
    cargo fetch --locked --quiet --manifest-path "$manifest"
    cmd=("${deny[@]}" --manifest-path "$manifest" --all-features check --show-stats "${extra[@]}" "${checks[@]}")
    say "${cmd[*]}"
    "${cmd[@]}"
done
