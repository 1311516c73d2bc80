#!/usr/bin/env bash
# Builds pgs from this checkout and installs the binary and its shell completions.
# Needs only the Rust toolchain (cargo).
#
#   ./install.sh                 # into ~/.local (as root: /usr/local)
#   PREFIX=/opt/pgs ./install.sh
#   ./install.sh --with-systemd  # also install the systemd units from templates/ (as root)
set -euo pipefail
cd "$(dirname "$0")"

with_systemd=0
for arg in "$@"; do
  case "$arg" in
    --with-systemd) with_systemd=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

if [ -z "${PREFIX:-}" ]; then
  if [ "$(id -u)" = 0 ]; then PREFIX=/usr/local; else PREFIX="$HOME/.local"; fi
fi
command -v cargo >/dev/null || { echo "install.sh: cargo not found; install the Rust toolchain (rustup) first" >&2; exit 1; }

echo "building pgs (release)..."
cargo build --release --locked --quiet
install -Dm755 target/release/pgs "$PREFIX/bin/pgs"
install -Dm644 completions/pgs.bash "$PREFIX/share/bash-completion/completions/pgs"
install -Dm644 completions/_pgs "$PREFIX/share/zsh/site-functions/_pgs"
install -Dm644 completions/pgs.fish "$PREFIX/share/fish/vendor_completions.d/pgs.fish"
echo "installed $PREFIX/bin/pgs and completions for bash, zsh and fish"

if [ "$with_systemd" = 1 ]; then
  for unit in templates/*.service templates/*.socket templates/*.timer; do
    [ -e "$unit" ] || continue
    sed "s#@PGS@#$PREFIX/bin/pgs#g" "$unit" > "/etc/systemd/system/$(basename "$unit")"
    echo "installed /etc/systemd/system/$(basename "$unit")"
  done
  systemctl daemon-reload 2>/dev/null || true
fi

case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "note: $PREFIX/bin is not on your PATH; add it, e.g. export PATH=\"$PREFIX/bin:\$PATH\"" ;;
esac
