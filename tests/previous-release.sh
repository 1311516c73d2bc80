#!/usr/bin/env bash
# Builds the previous release of pgs (the commit named in tests/data/previous-release) into
# target/previous-release/pgs, for the upgrade test in tests/e2e.rs. It shares the target dir, so
# only the pgs crate itself is compiled (the next build of the current tree puts its own binary
# back). Does nothing when that binary is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
rev=$(cat tests/data/previous-release)
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
out="$target/previous-release/pgs"
if [ -x "$out" ] && [ "$(cat "$out.rev" 2>/dev/null)" = "$rev" ]; then
  exit 0
fi
# A shallow clone may lack the commit: fetch it (from the clone's origin) before giving up.
if ! git cat-file -e "$rev^{commit}" 2>/dev/null; then
  git fetch --quiet origin "$rev" 2>/dev/null || git fetch --quiet --unshallow 2>/dev/null || true
  git cat-file -e "$rev^{commit}" 2>/dev/null \
    || { echo "the previous release ($rev) is not in this clone and cannot be fetched: the upgrade test needs it" >&2; exit 1; }
fi
src="$target/previous-release/src"
rm -rf "$src" && mkdir -p "$src"
git archive "$rev" | tar -x -C "$src"
echo "building the previous release of pgs (${rev:0:10}) for the upgrade test"
cargo build --quiet --locked --manifest-path "$src/Cargo.toml" --target-dir "$target" --bin pgs
cp "$target/debug/pgs" "$out"
echo "$rev" > "$out.rev"
rm -rf "$src"
