#!/usr/bin/env bash
# Time from `pgs create` to a database that accepts an authenticated login, against the
# baseline of `docker run` of the same image plus polling with psql until a login works.
# Both are measured in the same run, alternating; prints medians and their ratio.
#
#   bench/create.sh [RUNS]        (default 5; image: $PGS_BENCH_IMAGE or pgs-test-postgres:15)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
image="${PGS_BENCH_IMAGE:-pgs-test-postgres:15}"
pgs="${PGS:-target/release/pgs}"
[ -x "$pgs" ] || cargo build --release --quiet
home="$(mktemp -d)"
export PGS_HOME="$home"
tag="bench$RANDOM"
cleanup() {
  for i in $(seq 1 "$runs"); do
    "$pgs" remove "$tag-$i" --yes --purge >/dev/null 2>&1 || true
    docker rm -f -v "$tag-base-$i" >/dev/null 2>&1 || true
  done
  rm -rf "$home"
}
trap cleanup EXIT INT TERM
"$pgs" setup --yes --no-gateway --domain pgs.test --image "$image" >/dev/null 2>&1

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
pgs_times=(); base_times=()
for i in $(seq 1 "$runs"); do
  t0=$(now)
  "$pgs" create "$tag-$i" >/dev/null 2>&1
  pgs_times+=("$(sub "$(now)" "$t0")")

  t0=$(now)
  docker run -d --name "$tag-base-$i" -e POSTGRES_PASSWORD=benchpw -p 127.0.0.1::5432 "$image" >/dev/null
  port=$(docker port "$tag-base-$i" 5432/tcp | head -1 | sed 's/.*://')
  until PGPASSWORD=benchpw psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; do
    sleep 0.1
  done
  base_times+=("$(sub "$(now)" "$t0")")
  docker rm -f -v "$tag-base-$i" >/dev/null
done
p=$(printf '%s\n' "${pgs_times[@]}" | median)
b=$(printf '%s\n' "${base_times[@]}" | median)
printf 'pgs create:            median %.2fs  (runs: %s)\n' "$p" "$(printf '%.2f ' "${pgs_times[@]}")"
printf 'docker run + login:    median %.2fs  (runs: %s)\n' "$b" "$(printf '%.2f ' "${base_times[@]}")"
awk -v p="$p" -v b="$b" 'BEGIN { printf "ratio pgs/docker run:  %.2f\n", p / b }'
