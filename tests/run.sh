#!/usr/bin/env bash
# Runs the whole test suite on a machine with Docker, installing what the tests need first:
# Debian packages (psql, pgJDBC, a JDK, debootstrap, pebble and bind9 for ACME, a Kerberos KDC for
# gssencmode, HAProxy as the TLS front of the S3 test server, systemd-socket-activate, etcd for the HA store), the offline-built PostgreSQL test image,
# the Python clients of the client matrix (psycopg, asyncpg, pg8000), pg8000's own test suite
# (from its source distribution, for tests/driver_suite.rs), cargo-nextest, and the previous
# release of pgs (tests/previous-release.sh, for the upgrade test), and libclang to build
# PostgreSQL's parser into pgs.
# Usage: tests/run.sh [nextest filters/options]
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v psql >/dev/null || need+=(postgresql-client)
command -v openssl >/dev/null || need+=(openssl)
command -v docker >/dev/null || need+=(docker.io)
command -v javac >/dev/null || need+=(default-jdk-headless)
[ -e /usr/share/java/postgresql.jar ] || need+=(libpostgresql-jdbc-java)
command -v pebble >/dev/null || need+=(pebble)
command -v named >/dev/null || need+=(bind9)
command -v nsupdate >/dev/null || need+=(bind9-dnsutils)
command -v curl >/dev/null || need+=(curl)
command -v krb5kdc >/dev/null || need+=(krb5-kdc)
command -v kadmin.local >/dev/null || need+=(krb5-admin-server)
command -v kinit >/dev/null || need+=(krb5-user)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v ip >/dev/null || need+=(iproute2)
command -v systemd-socket-activate >/dev/null || need+=(systemd)
command -v etcd >/dev/null || need+=(etcd-server)
# Prometheus and promtool, for the metrics test and the alert rules.
command -v promtool >/dev/null || need+=(prometheus)
# A real browser for the console test.
command -v chromedriver >/dev/null || need+=(chromium chromium-driver)
# bindgen, for PostgreSQL's parser (the pg_query crate) in the pooled endpoint.
compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null || need+=(libclang-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
docker info >/dev/null 2>&1 || { echo "cannot reach Docker: is the daemon running?" >&2; exit 1; }

tests/image/build.sh
python3 -c 'import psycopg, asyncpg, pg8000, selenium' 2>/dev/null \
  || python3 -m pip install --quiet --disable-pip-version-check 'psycopg[binary]' asyncpg pg8000 selenium
# An S3-compatible server for the backup tests.
command -v moto_server >/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'moto[server]'

tests/clients/pg8000_suite/fetch.sh "${CARGO_TARGET_DIR:-target}/pg8000-suite"

command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest
# The previous release, for the upgrade test.
tests/previous-release.sh

exec cargo nextest run --no-fail-fast "$@"
