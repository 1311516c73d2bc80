#!/usr/bin/env bash
# Backup and restore speed, against baselines measured in the same run:
#   - a full backup (`pgs backup run --type full`: pgBackRest, gzip) against `pg_basebackup -Ft -z`
#     of the same tenant (tar + gzip, in the tenant's container);
#   - a restore (`pgs restore --latest`: stop, restore into a new volume, recover, start, first
#     login) against unpacking that pg_basebackup tarball (the bare file copy, no recovery);
#   - a point-in-time restore (`pgs restore --at`) to a moment with writes on both sides, and a
#     restore and a clone (`pgs clone --at`) to a moment of a quiet tenant (nothing committed
#     after it: recovery runs to the end of the archived WAL, on the timeline the restore began);
#   - write throughput (`pgbench -N`) of a tenant with WAL archiving on against one without.
#
#   bench/backup.sh [SCALE [SECONDS]]   (default pgbench scale 50 (~750 MB), 30 s per TPS run;
#                                        needs pgbench: apt-get install postgresql-contrib)
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-50}"
secs="${2:-30}"
image="${PGS_BENCH_IMAGE:-pgs-test-postgres:15}"
pgs="${PGS:-target/release/pgs}"
[ -x "$pgs" ] || cargo build --release --quiet
command -v pgbench >/dev/null || { echo "missing pgbench: apt-get install postgresql-contrib" >&2; exit 1; }

work="$(mktemp -d)"
on="bkon$RANDOM"; off="bkoff$RANDOM"
home_on="$work/on"; home_off="$work/off"
cleanup() {
  PGS_HOME="$home_on" "$pgs" remove "$on-copy" --yes --purge --purge-backups >/dev/null 2>&1 || true
  PGS_HOME="$home_on" "$pgs" remove "$on" --yes --purge --purge-backups >/dev/null 2>&1 || true
  PGS_HOME="$home_off" "$pgs" remove "$off" --yes --purge >/dev/null 2>&1 || true
  docker volume ls -q --filter "name=pgs-$on-data-" | xargs -r docker volume rm >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

secs_of() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }'; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$2)" <<<"$1"; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'; }

PGS_HOME="$home_on" "$pgs" setup --yes --no-gateway --domain pgs.test --image "$image" --backups local >/dev/null 2>&1
PGS_HOME="$home_off" "$pgs" setup --yes --no-gateway --domain pgs.test --image "$image" >/dev/null 2>&1
PGS_HOME="$home_on" "$pgs" create "$on" >/dev/null 2>&1
PGS_HOME="$home_off" "$pgs" create "$off" >/dev/null 2>&1
info_on=$(PGS_HOME="$home_on" "$pgs" info "$on" --json --show-password)
info_off=$(PGS_HOME="$home_off" "$pgs" info "$off" --json --show-password)
conn() { echo "host=$(field "$1" "['socket_dir']") user=$(field "$1" "['user']") dbname=$(field "$1" "['database']")"; }
pw_on=$(field "$info_on" "['password']"); pw_off=$(field "$info_off" "['password']")
super_on=$(python3 -c "import json; print(json.load(open('$home_on/secrets/$on.json'))['superuser_password'])")

echo "loading pgbench scale $scale into both tenants..."
PGPASSWORD="$pw_on" pgbench -q -i -s "$scale" "$(conn "$info_on")" >/dev/null 2>&1
PGPASSWORD="$pw_off" pgbench -q -i -s "$scale" "$(conn "$info_off")" >/dev/null 2>&1
size=$(PGPASSWORD="$pw_on" psql -XAt "$(conn "$info_on")" -c "select pg_size_pretty(pg_database_size(current_database()))")

# Write throughput: archiving on vs off (same image, same scale, one after the other).
tps() { PGPASSWORD="$2" pgbench -n -N -c 8 -j 2 -T "$secs" "$(conn "$1")" 2>/dev/null | awk '/^tps/ {print $3; exit}'; }
tps_off=$(tps "$info_off" "$pw_off")
tps_on=$(tps "$info_on" "$pw_on")

# Full backup: pgs (pgBackRest) vs pg_basebackup of the same data, both in the tenant's container.
t_pgs_backup=$(secs_of env PGS_HOME="$home_on" "$pgs" backup run "$on" --type full)
t_basebackup=$(secs_of docker exec -e PGPASSWORD="$super_on" "pgs-$on" sh -c \
  'rm -rf /tmp/bb && pg_basebackup -h 127.0.0.1 -U postgres -D /tmp/bb -Ft -z -X fetch')
t_untar=$(secs_of docker exec "pgs-$on" sh -c 'rm -rf /tmp/rs && mkdir /tmp/rs && tar -xzf /tmp/bb/base.tar.gz -C /tmp/rs')
docker exec "pgs-$on" rm -rf /tmp/bb /tmp/rs

# Point in time: a moment after the backup, with writes on both sides of it.
PGPASSWORD="$pw_on" pgbench -n -N -c 4 -T 5 "$(conn "$info_on")" >/dev/null 2>&1
at=$(PGPASSWORD="$pw_on" psql -XAt "$(conn "$info_on")" -c "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
PGPASSWORD="$pw_on" pgbench -n -N -c 4 -T 5 "$(conn "$info_on")" >/dev/null 2>&1
t_restore=$(secs_of env PGS_HOME="$home_on" "$pgs" restore "$on" --latest --yes)
t_pitr=$(secs_of env PGS_HOME="$home_on" "$pgs" restore "$on" --at "$at" --yes)
# A quiet moment: nothing is written after it.
sleep 2
quiet=$(PGPASSWORD="$pw_on" psql -XAt "$(conn "$info_on")" -c "select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
sleep 2
t_quiet=$(secs_of env PGS_HOME="$home_on" "$pgs" restore "$on" --at "$quiet" --yes)
t_clone=$(secs_of env PGS_HOME="$home_on" "$pgs" clone "$on" "$on-copy" --at "$quiet")

echo "pgbench scale $scale ($size), this machine, one run"
printf '  full backup:  pgs %6ss   pg_basebackup -Ft -z %6ss   ratio %s\n' "$t_pgs_backup" "$t_basebackup" "$(ratio "$t_pgs_backup" "$t_basebackup")"
printf '  restore:      pgs --latest %6ss (stop, restore, recover, start, login)   untar of the basebackup %6ss   ratio %s\n' "$t_restore" "$t_untar" "$(ratio "$t_restore" "$t_untar")"
printf '  point in time: pgs restore --at %6ss (writes after it)   ratio to untar %s\n' "$t_pitr" "$(ratio "$t_pitr" "$t_untar")"
printf '  quiet moment:  pgs restore --at %6ss   pgs clone --at %6ss (nothing committed after it)   ratio to untar %s / %s\n' \
  "$t_quiet" "$t_clone" "$(ratio "$t_quiet" "$t_untar")" "$(ratio "$t_clone" "$t_untar")"
printf '  write TPS (pgbench -N -c 8, %ss): archiving on %8.0f   off %8.0f   ratio on/off %s\n' "$secs" "$tps_on" "$tps_off" "$(ratio "$tps_on" "$tps_off")"
