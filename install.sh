#!/usr/bin/env bash
# Builds pgs from this checkout and installs the binary and its shell completions.
# Needs the Rust toolchain (cargo), a C compiler and libclang (PostgreSQL's own parser is built
# into pgs for its pooled endpoint; as root on Debian or Ubuntu this installs libclang-dev).
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
if [ -z "${LIBCLANG_PATH:-}" ] && ! compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null \
    && ! compgen -G '/usr/lib*/libclang.so*' >/dev/null && ! compgen -G '/usr/lib/*/libclang-[0-9]*.so*' >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing libclang-dev (to build PostgreSQL's parser into pgs)..."
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev >/dev/null
  else
    echo "install.sh: libclang not found; it builds PostgreSQL's parser into pgs: install libclang-dev (Debian, Ubuntu) or clang-devel (Fedora), or set LIBCLANG_PATH" >&2
    exit 1
  fi
fi

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
