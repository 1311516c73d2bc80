#!/usr/bin/env bash
# Fetch pg8000's own test suite (from its source distribution, never kept in the repo) into DEST.
# Usage: fetch.sh DEST
# - version: the installed pg8000's, else PG8000_VERSION if set, else the newest release;
# - unpacks the sdist so that DEST/test (the suite) and DEST/src exist; skipped when DEST already
#   holds that version (DEST/.pg8000-version);
# - installs pg8000 itself (same version) and what the suite imports: pytest, pytest-mock
#   (the "mocker" fixture), pytest-benchmark, pytz, plus pytest-timeout for run.py.
set -euo pipefail
DEST=${1:?usage: fetch.sh DEST}
export PIP_ROOT_USER_ACTION=ignore
PIP=(python3 -m pip -q --disable-pip-version-check)

installed=$(python3 -c 'import importlib.metadata as m; print(m.version("pg8000"))' 2>/dev/null || true)
version=${installed:-${PG8000_VERSION:-}}

if [[ -n "$version" && -d "$DEST/test" && "$(cat "$DEST/.pg8000-version" 2>/dev/null)" == "$version" ]]; then
  action="kept existing suite"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "${PIP[@]}" download --no-deps --no-binary :all: "pg8000${version:+==$version}" -d "$tmp" >/dev/null
  sdist=$(ls "$tmp"/pg8000-*.tar.gz)
  version=$(basename "$sdist" .tar.gz); version=${version#pg8000-}
  rm -rf "$DEST"; mkdir -p "$DEST"
  tar -xzf "$sdist" -C "$DEST" --strip-components=1
  echo "$version" > "$DEST/.pg8000-version"
  action="unpacked sdist"
fi

# The suite tests the installed driver: make it the same version as the suite.
if [[ "$installed" != "$version" ]]; then
  "${PIP[@]}" install "pg8000==$version"; action+=", installed the driver"
fi
if ! python3 -c 'import pytest, pytest_mock, pytest_benchmark, pytz, pytest_timeout' 2>/dev/null; then
  "${PIP[@]}" install pytest pytest-mock pytest-benchmark pytz pytest-timeout
  action+=", installed the test dependencies"
fi

echo "pg8000 suite: $action (pg8000 $version in $DEST)"
