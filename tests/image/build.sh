#!/bin/bash
# Builds the PostgreSQL image the test suite runs tenants on, offline: a Debian root file
# system from Debian's packages (debootstrap) turned into an image with `docker import`.
# Usage: tests/image/build.sh [TAG]   (default pgs-test-postgres:15; skips work if an image of
# the same recipe, this script and the entrypoint, is present)
set -euo pipefail
tag="${1:-pgs-test-postgres:15}"
here="$(cd "$(dirname "$0")" && pwd)"
recipe="$(cat "$here/build.sh" "$here/docker-entrypoint.sh" | sha256sum | cut -c1-16)"
present="$(docker image inspect -f '{{index .Config.Labels "pgs.test.recipe"}}' "$tag" 2>/dev/null || true)"
if [ "$present" = "$recipe" ] && [ -z "${PGS_REBUILD_IMAGE:-}" ]; then
  echo "image $tag already present"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap missing: apt-get install debootstrap" >&2; exit 1; }
root="$(mktemp -d /tmp/pgs-image.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "debootstrap into $root (about a minute)..."
debootstrap --variant=minbase --include=postgresql-15,util-linux bookworm "$root" >"$root.log" 2>&1 \
  || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Debian's package creates and starts a cluster of its own: remove it, the entrypoint makes one.
rm -rf "$root/var/lib/postgresql/15" "$root/etc/postgresql/15"
install -m 0755 "$here/docker-entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
mkdir -p "$root/docker-entrypoint-initdb.d" "$root/var/lib/postgresql/data"
chroot "$root" chown -R postgres:postgres /var/lib/postgresql
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV PG_MAJOR=15' \
  -c 'ENV PGDATA=/var/lib/postgresql/data' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'VOLUME /var/lib/postgresql/data' \
  -c 'EXPOSE 5432' \
  -c "LABEL pgs.test.recipe=$recipe" \
  -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  -c 'CMD ["postgres"]' \
  - "$tag" >/dev/null
echo "built $tag"
