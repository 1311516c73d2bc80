#!/usr/bin/env bash
# Scale-out: what reaching a tenant through another node's gateway costs (docs/scale-out.md).
#
# Two Docker engines in network namespaces of their own stand in for two hosts, as in
# tests/swarm.rs (tests/swarm/node.sh): the manager (10.250.0.2, its gateway in the foreground
# in its namespace) and node n2 (10.250.0.3, its managed gateway). One tenant lives on n2. The
# baseline is n2's own gateway; the other figure goes through the manager's gateway, which
# relays to n2's (ratio relayed / direct):
#   - connect latency: connect-to-first-row (libpq through psycopg: TLS, verify-full, SCRAM,
#     `SELECT 1`), one client after another for SECONDS, p50 and p99;
#   - pgbench `SELECT 1`, 8 clients, steady and with -C (a new connection per transaction): TPS
#     and pgbench's average connection time, median of ROUNDS runs; and the CPU (user+system,
#     from /proc) per transaction of each gateway on the way: n2's, and the manager's when it
#     relays (where the relayed figure's cost goes);
#   - `pgs move` of the tenant with its data (pgbench -i at PGS_BENCH_SCALE) to the manager
#     and back: the downtime `pgs move` stated against the one it took.
#
#   bench/swarm.sh [SECONDS]               (default 10 s per measurement)
#   PGS_BENCH_ROUNDS  pgbench runs per figure, median reported (default 3)
#   PGS_BENCH_SCALE   pgbench scale of the moved tenant's data (default 20, about 300 MB)
#
# Needs root (network namespaces, a second dockerd), pgbench, psycopg and the test image
# (tests/image/build.sh). Removes both engines at the end. Both engines share this machine's
# cores: across two real hosts the second TLS termination runs on the other host.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
rounds="${PGS_BENCH_ROUNDS:-3}"
scale="${PGS_BENCH_SCALE:-20}"
image="${PGS_BENCH_IMAGE:-pgs-test-postgres:15}"
pgs="$(realpath "${PGS:-target/release/pgs}")"
[ -x "$pgs" ] || cargo build --release --quiet
command -v pgbench >/dev/null || { echo "missing pgbench: apt-get install postgresql-contrib" >&2; exit 1; }
python3 -c 'import psycopg' 2>/dev/null || { echo "missing psycopg: pip install 'psycopg[binary]'" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root: it starts Docker engines in network namespaces" >&2; exit 1; }

s1="unix:///run/pgs-s1/docker.sock"
s2="unix:///run/pgs-s2/docker.sock"
work="$(mktemp -d)"
export PGS_HOME="$work/home"
gateway_pid=""
cleanup() {
  [ -n "$gateway_pid" ] && kill "$gateway_pid" 2>/dev/null
  tests/swarm/node.sh destroy pgs-s2 >/dev/null 2>&1 || true
  tests/swarm/node.sh destroy pgs-s1 >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
pgbench_run() { # CONNINFO EXTRA... -> "TPS CONNECT_MS MANAGER_US N2_US" of one run (CPU per transaction)
  local c="$1"; shift
  local m0 n0 out
  m0=$(cpu_ticks "$gateway_pid"); n0=$(cpu_ticks "$n2_gateway_pid")
  out=$(pgbench -n -c 8 -j 2 -T "$secs" -f "$work/select1.sql" "$@" "$c" 2>/dev/null)
  echo "$out" | awk -v m="$(( $(cpu_ticks "$gateway_pid") - m0 ))" -v g="$(( $(cpu_ticks "$n2_gateway_pid") - n0 ))" -v hz="$hz" '
    /^tps/ {t = $3} /average connection time/ {c = $5} /actually processed/ {n = $NF}
    END {n = n ? n : 1; printf "%.0f %.2f %.1f %.1f", t, c, m / hz * 1e6 / n, g / hz * 1e6 / n}'
}
pgbench_median() { # CONNINFO EXTRA... -> "TPS CONNECT_MS MANAGER_US N2_US", medians of $rounds runs
  local runs; runs=$(for _ in $(seq "$rounds"); do pgbench_run "$@"; echo; done)
  for f in 1 2 3 4; do echo "$runs" | awk -v f="$f" 'NF {print $f}' | median; done | paste -sd ' '
}

echo "starting two engines (tests/swarm/node.sh) and the swarm"
tests/swarm/node.sh destroy pgs-s2 >/dev/null 2>&1 || true
tests/swarm/node.sh destroy pgs-s1 >/dev/null 2>&1 || true
tests/swarm/node.sh start pgs-s1 2 >/dev/null
tests/swarm/node.sh start pgs-s2 3 >/dev/null
export DOCKER_HOST="$s1"
docker -H unix:///var/run/docker.sock save "$image" | docker load -q >/dev/null
echo 'SELECT 1;' >"$work/select1.sql"
"$pgs" setup --yes --no-gateway --domain pgs.test --image "$image" >/dev/null 2>&1
"$pgs" swarm init --advertise-addr 10.250.0.2 >/dev/null
"$pgs" node add n2 --docker-host "$s2" --address 10.250.0.3 >/dev/null
nsenter --net=/var/run/netns/pgs-s1 "$pgs" gateway run --listen 0.0.0.0:5432 \
  --health-listen 127.0.0.1:9187 >"$work/manager-gateway.log" 2>&1 &
gateway_pid=$!
t=bench-relay
pw=$("$pgs" create "$t" --node n2 --json | field "['password']")
ca="$PGS_HOME/certs/ca.pem"
via() { echo "host=$t.pgs.test hostaddr=$1 port=5432 user=$t dbname=$t password=$pw sslmode=verify-full sslrootcert=$ca"; }
direct=$(via 10.250.0.3)
relayed=$(via 10.250.0.2)
until psql "$relayed" -XAtqc 'SELECT 1' >/dev/null 2>&1; do sleep 0.2; done
# n2's managed gateway: its process, as this machine sees it (the engines share its PID space).
n2_gateway_pid=$(docker -H "$s2" inspect -f '{{.State.Pid}}' pgs-gateway)

echo
echo "through n2's own gateway (baseline) vs relayed by the manager's gateway to n2's, ${secs} s each"
printf '%-34s %12s %12s %8s\n' "" "direct" "relayed" "ratio"
d=$(python3 bench/connect_probe.py "$direct" "$secs" 1)
r=$(python3 bench/connect_probe.py "$relayed" "$secs" 1)
for k in p50 p99; do
  dv=$(echo "$d" | field "['${k}_ms']"); rv=$(echo "$r" | field "['${k}_ms']")
  printf '%-34s %9.1f ms %9.1f ms %8s\n' "connect to first row, $k" "$dv" "$rv" "$(ratio "$rv" "$dv")"
done
cpu_line() { # LABEL DIRECT_N2 RELAYED_MANAGER RELAYED_N2
  printf '%-34s %9s us %9s us   (manager %s + n2 %s)\n' "$1" "$2" "$(awk -v a="$3" -v b="$4" 'BEGIN {print a + b}')" "$3" "$4"
}
read -r dt _ _ dn <<<"$(pgbench_median "$direct")"
read -r rt _ rmg rn <<<"$(pgbench_median "$relayed")"
printf '%-34s %12s %12s %8s\n' "steady TPS (SELECT 1, 8 clients)" "$dt" "$rt" "$(ratio "$rt" "$dt")"
cpu_line "  gateways' CPU per transaction" "$dn" "$rmg" "$rn"
read -r dt dm _ dn <<<"$(pgbench_median "$direct" -C)"
read -r rt rm rmg rn <<<"$(pgbench_median "$relayed" -C)"
printf '%-34s %12s %12s %8s\n' "TPS, new connection each (-C)" "$dt" "$rt" "$(ratio "$rt" "$dt")"
printf '%-34s %9s ms %9s ms %8s\n' "pgbench average connection time" "$dm" "$rm" "$(ratio "$rm" "$dm")"
cpu_line "  gateways' CPU per connection" "$dn" "$rmg" "$rn"

echo
echo "pgs move of $t with pgbench scale $scale"
pgbench -i -q -s "$scale" "$direct" >/dev/null 2>&1
for to in local n2; do
  m=$("$pgs" move "$t" --to "$to" --yes --json)
  echo "$m" | python3 -c "
import json, sys
m = json.load(sys.stdin)
print(f\"  {m['from']} -> {m['to']}: {m['copied_bytes'] / 1e6:.0f} MB copied, stated {m['expected_downtime_secs']} s, \"
      f\"down {m['downtime_secs']:.1f} s ({m['copied_bytes'] / 1e6 / m['downtime_secs']:.0f} MB/s over the whole downtime)\")"
done
rows=$(psql "$relayed" -XAtqc 'SELECT count(*) FROM pgbench_accounts')
[ "$rows" = "$((scale * 100000))" ] || { echo "data lost in the moves: $rows rows" >&2; exit 1; }
echo "  all $rows rows there after both moves"
