#!/usr/bin/env bash
# The pooled endpoint (TENANT-pooler) against the direct one through the same gateway and
# against pgbouncer in transaction mode, all measured in the same run, on one tenant whose
# max_connections is 100:
#   - server CPU per new client connection under `pgbench -S -C -c 8` (proxy process plus the
#     tenant container's cgroup, from their CPU counters) and its TPS;
#   - `pgbench -S -M prepared -c 64` on a pool of 8 (pgbouncer before 1.21 has no prepared
#     statement support: it runs -M simple, and the line says so);
#   - 1,000 clients at once: all served through a pool of 10, and what the direct endpoint does;
#     memory per idle pooled client (gateway RSS with 1,000 open);
#   - auto mode (a connection reserved for a client only while it holds session state, the
#     default of new tenants) beside transaction mode: the -C (with session mode too) and
#     -M prepared figures above (auto must stay within 10 %), and a
#     mixed workload on a pool of 16: 64 clients, of which 6 LISTEN for the whole run (and get a
#     NOTIFY at its end) while 58 run pgbench -S, in transaction, session and auto mode.
# pgbouncer is configured fairly: SCRAM verifiers in its auth file (so it never derives keys from
# a password), client TLS with the same certificate, the tenant's Unix socket to the server, as
# the gateway has.
#
#   bench/pool.sh [SECONDS]   (default 15 s per measurement; needs pgbench and pgbouncer:
#                              apt-get install postgresql-contrib pgbouncer)
#   PGS_BENCH_ONLY=connect     the -C section alone
#   PGS_GATEWAY_ARGS="--serve-threads 0"   options for the gateway (to compare its settings)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-15}"
image="${PGS_BENCH_IMAGE:-pgs-test-postgres:15}"
pgs="${PGS:-target/release/pgs}"
[ -x "$pgs" ] || cargo build --release --quiet
for tool in pgbench pgbouncer; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool: apt-get install postgresql-contrib pgbouncer" >&2; exit 1; }
done
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

work="$(mktemp -d)"
export PGS_HOME="$work/home"
tenant="pb$RANDOM"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gw_port=$(free_port); health_port=$(free_port); bouncer_port=$(free_port)
gw_pid=""; bouncer_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
  [ -n "$bouncer_pid" ] && kill "$bouncer_pid" 2>/dev/null
  "$pgs" remove "$tenant" --yes --purge >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y == 0) print "n/a"; else printf "%.2f", x / y }'; }

"$pgs" setup --yes --no-gateway --domain pgs.test --image "$image" --gateway-port "$gw_port" >/dev/null 2>&1
"$pgs" create "$tenant" --memory 1g --pg-setting max_connections=100 >/dev/null 2>&1
info=$("$pgs" info "$tenant" --json --show-password)
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)" <<<"$info"; }
pw=$(field "['password']"); socket_dir=$(field "['socket_dir']")
ca="$PGS_HOME/certs/ca.pem"
PGPASSWORD="$pw" pgbench -q -i -s 10 -h "$socket_dir" -U "$tenant" "$tenant" >/dev/null 2>&1
container=$(docker inspect -f '{{.Id}}' "pgs-$tenant")
verifier=$(PGPASSWORD="$(python3 -c "import json; print(json.load(open('$PGS_HOME/secrets/$tenant.json'))['superuser_password'])")" \
  psql -XAtq -h "$socket_dir" -U postgres -d postgres -c "SELECT rolpassword FROM pg_authid WHERE rolname = '$tenant'")

# shellcheck disable=SC2086
"$pgs" gateway run --listen "127.0.0.1:$gw_port" --health-listen "127.0.0.1:$health_port" ${PGS_GATEWAY_ARGS:-} >"$work/gateway.log" 2>&1 &
gw_pid=$!
until curl -fs "127.0.0.1:$health_port/ready" >/dev/null 2>&1; do sleep 0.1; done

# pgbouncer, transaction mode.
bouncer_version=$("$PGBOUNCER" --version | awk 'NR==1 {print $2}')
cp "$PGS_HOME/certs/cert.pem" "$PGS_HOME/certs/key.pem" "$work/"
cat > "$work/pgbouncer.ini" <<INI
[databases]
$tenant = host=$socket_dir dbname=$tenant
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 8
client_tls_sslmode = require
client_tls_cert_file = $work/cert.pem
client_tls_key_file = $work/key.pem
unix_socket_dir =
INI
printf '"%s" "%s"\n' "$tenant" "$verifier" > "$work/userlist.txt"
if [ "$(id -u)" = 0 ]; then
  # pgbouncer runs as postgres: let it through the bench's state dir to the tenant's socket.
  chmod 755 "$work"; chmod 711 "$PGS_HOME" "$PGS_HOME/sockets"
  chown postgres "$work/pgbouncer.ini" "$work/userlist.txt" "$work/cert.pem" "$work/key.pem"
  runuser -u postgres -- "$PGBOUNCER" "$work/pgbouncer.ini" >"$work/pgbouncer.log" 2>&1 &
else
  "$PGBOUNCER" "$work/pgbouncer.ini" >"$work/pgbouncer.log" 2>&1 &
fi
bouncer_pid=$!
sleep 1
kill -0 "$bouncer_pid" 2>/dev/null || { echo "pgbouncer did not start:" >&2; cat "$work/pgbouncer.log" >&2; exit 1; }
bouncer_proc=$(pgrep -f "pgbouncer $work/pgbouncer.ini" | tail -1)

export PGPASSWORD="$pw"
direct="host=$tenant.pgs.test hostaddr=127.0.0.1 port=$gw_port user=$tenant dbname=$tenant sslmode=verify-full sslrootcert=$ca"
pooled="host=$tenant-pooler.pgs.test hostaddr=127.0.0.1 port=$gw_port user=$tenant dbname=$tenant sslmode=verify-full sslrootcert=$ca"
bouncer="host=127.0.0.1 port=$bouncer_port user=$tenant dbname=$tenant sslmode=require"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }                    # utime + stime, clock ticks
cgroup_ns() { cat "/sys/fs/cgroup/cpuacct/docker/$container/cpuacct.usage" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)
# run NAME PROXY_PID CONNINFO PGBENCH_ARGS... -> "tps cpu_ms_per_transaction proxy_ms container_ms"
run() {
  local proxy=$2 conninfo=$3; shift 3
  local t0 c0 out tps txns t1 c1
  t0=$(ticks "$proxy"); c0=$(cgroup_ns)
  out=$(pgbench -n -S -j 2 -T "$secs" "$@" "$conninfo" 2>&1) || true
  t1=$(ticks "$proxy"); c1=$(cgroup_ns)
  tps=$(awk '/^tps/ {print $3; exit}' <<<"$out"); txns=$(awk '/^number of transactions actually processed/ {print $NF; exit}' <<<"$out")
  [ -n "$tps" ] || { echo "pgbench failed on $conninfo: $(tail -3 <<<"$out")" >&2; echo "0 0 0 0"; return; }
  awk -v tps="$tps" -v n="${txns%%/*}" -v dt="$((t1 - t0))" -v dc="$((c1 - c0))" -v hz="$hz" \
    'BEGIN { n = (n > 0 ? n : 1); printf "%.0f %.3f %.3f %.3f\n", tps, (dt * 1000 / hz + dc / 1e6) / n, dt * 1000 / hz / n, dc / 1e6 / n }'
}

# Transaction mode first (new tenants pool in auto mode); auto and session follow beside it.
"$pgs" pool "$tenant" --mode transaction --size 8 >/dev/null
sleep 0.5
echo "pgbench -S -C -c 8 (a new TLS connection per transaction), ${secs}s each"
read -r d_tps d_cpu d_proxy d_pg < <(run direct "$gw_pid" "$direct" -C -c 8)
read -r p_tps p_cpu p_proxy p_pg < <(run pooled "$gw_pid" "$pooled" -C -c 8)
read -r b_tps b_cpu b_proxy b_pg < <(run bouncer "$bouncer_proc" "$bouncer" -C -c 8)
printf '  %-34s %8s       server CPU per connection: all (proxy + PostgreSQL)\n' "" ""
printf '  %-34s %8.0f TPS   %6.3f ms (%.3f + %.3f)\n' "gateway, direct endpoint" "$d_tps" "$d_cpu" "$d_proxy" "$d_pg"
printf '  %-34s %8.0f TPS   %6.3f ms (%.3f + %.3f)   TPS ratio to direct %s, CPU ratio %s\n' "gateway, pooled endpoint" "$p_tps" "$p_cpu" "$p_proxy" "$p_pg" "$(ratio "$p_tps" "$d_tps")" "$(ratio "$p_cpu" "$d_cpu")"
printf '  %-34s %8.0f TPS   %6.3f ms (%.3f + %.3f)   pooled/pgbouncer TPS %s, CPU %s\n' "pgbouncer $bouncer_version transaction mode" "$b_tps" "$b_cpu" "$b_proxy" "$b_pg" "$(ratio "$p_tps" "$b_tps")" "$(ratio "$p_cpu" "$b_cpu")"

read -r a_tps a_cpu a_proxy a_pg < <("$pgs" pool "$tenant" --mode auto >/dev/null; sleep 0.7; run pooled "$gw_pid" "$pooled" -C -c 8)
"$pgs" pool "$tenant" --mode transaction >/dev/null; sleep 0.7
printf '  %-34s %8.0f TPS   %6.3f ms (%.3f + %.3f)   auto/transaction TPS %s, CPU %s\n' "gateway, pooled endpoint, auto mode" "$a_tps" "$a_cpu" "$a_proxy" "$a_pg" "$(ratio "$a_tps" "$p_tps")" "$(ratio "$a_cpu" "$p_cpu")"
read -r s_tps s_cpu s_proxy s_pg < <("$pgs" pool "$tenant" --mode session >/dev/null; sleep 0.7; run pooled "$gw_pid" "$pooled" -C -c 8)
"$pgs" pool "$tenant" --mode transaction >/dev/null; sleep 0.7
printf '  %-34s %8.0f TPS   %6.3f ms (%.3f + %.3f)   session/transaction TPS %s, CPU %s\n' "gateway, pooled endpoint, session" "$s_tps" "$s_cpu" "$s_proxy" "$s_pg" "$(ratio "$s_tps" "$p_tps")" "$(ratio "$s_cpu" "$p_cpu")"

[ "${PGS_BENCH_ONLY:-}" = connect ] && exit 0
echo "pgbench -S -c 64 on a pool of 8, ${secs}s each"
read -r pp_tps _ _ _ < <(run pooled "$gw_pid" "$pooled" -M prepared -c 64)
read -r ps_tps _ _ _ < <(run pooled "$gw_pid" "$pooled" -M simple -c 64)
bouncer_mode=simple
if awk -v v="$bouncer_version" 'BEGIN { split(v, a, "."); exit !(a[1] > 1 || a[2] >= 21) }'; then bouncer_mode=prepared; fi
read -r bp_tps _ _ _ < <(run bouncer "$bouncer_proc" "$bouncer" -M "$bouncer_mode" -c 64)
read -r ap_tps _ _ _ < <("$pgs" pool "$tenant" --mode auto >/dev/null; sleep 0.7; run pooled "$gw_pid" "$pooled" -M prepared -c 64)
"$pgs" pool "$tenant" --mode transaction >/dev/null; sleep 0.7
printf '  %-34s %8.0f TPS (-M prepared), %8.0f TPS (-M simple)\n' "gateway, pooled endpoint" "$pp_tps" "$ps_tps"
printf '  %-34s %8.0f TPS (-M prepared)   auto/transaction %s\n' "gateway, pooled endpoint, auto mode" "$ap_tps" "$(ratio "$ap_tps" "$pp_tps")"
printf '  %-34s %8.0f TPS (-M %s%s)   pooled prepared / pgbouncer %s\n' "pgbouncer $bouncer_version transaction mode" "$bp_tps" "$bouncer_mode" \
  "$([ "$bouncer_mode" = simple ] && echo ': no prepared statement support before 1.21')" "$(ratio "$pp_tps" "$bp_tps")"

echo "mixed: 64 clients on a pool of 16 (6 LISTEN all run long, 58 run pgbench -S), ${secs}s per mode"
cat >"$work/listeners.py" <<'PY'
import sys, threading, time
import psycopg
conninfo, secs = sys.argv[1], float(sys.argv[2])
counts = {"listening": 0, "refused": 0, "notified": 0}
lock = threading.Lock()
def listener():
    try:
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.execute("LISTEN bench")
    except psycopg.Error:
        with lock: counts["refused"] += 1
        return
    with lock: counts["listening"] += 1
    got = sum(1 for _ in conn.notifies(timeout=secs + 10, stop_after=1))
    with lock: counts["notified"] += got
threads = [threading.Thread(target=listener) for _ in range(6)]
for t in threads: t.start()
time.sleep(secs)
try:
    psycopg.connect(conninfo, autocommit=True).execute("NOTIFY bench, 'done'")
except psycopg.Error as e:
    print(f"notify failed: {e}".splitlines()[0])
for t in threads: t.join()
print(f"{counts['listening']} listening ({counts['refused']} refused), {counts['notified']} notified")
PY
# The gateway's own count (pgbouncer's server connections to the same tenant stay open beside).
server_connections() { curl -fs "127.0.0.1:$health_port/metrics" | awk '/^pgs_gateway_pool_server_connections/ {n += $NF} END {print n}'; }
for mode in transaction session auto; do
  "$pgs" pool "$tenant" --mode "$mode" --size 16 --queue-timeout 5 >/dev/null
  sleep 0.7
  python3 "$work/listeners.py" "$pooled" "$secs" >"$work/listeners-$mode.log" 2>&1 &
  listeners=$!
  sleep 1
  pgbench -n -S -c 58 -j 2 -T "$((secs - 2))" "$pooled" >"$work/mixed-$mode.log" 2>&1 &
  load=$!
  sleep $((secs / 2))
  used=$(server_connections)
  wait "$load" || true
  wait "$listeners" || true
  tps=$(awk '/^tps/ {printf "%.0f TPS", $3; exit}' "$work/mixed-$mode.log")
  [ -n "$tps" ] || tps="pgbench failed: $(grep -m1 -Eo 'FATAL: +.*|error: .*' "$work/mixed-$mode.log" | cut -c1-90)"
  printf '  %-12s %s; listeners: %s; server connections mid-run: %s\n' "$mode" "$tps" "$(tail -1 "$work/listeners-$mode.log")" "$used"
done
"$pgs" pool "$tenant" --mode transaction --queue-timeout 30 >/dev/null

echo "1,000 clients at once (max_connections 100; pool of 10), ${secs}s"
"$pgs" pool "$tenant" --size 10 --queue-timeout 120 >/dev/null
sleep 0.5
rss() { awk '/VmRSS/ {print $2}' "/proc/$gw_pid/status"; }
sessions() { curl -fs "127.0.0.1:$health_port/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["open_sessions"])'; }
before=$(rss)
pgbench -n -S -c 1000 -j 2 -T "$((secs + 60))" -R 50 "$pooled" >"$work/pooled-1000.log" 2>&1 &
load=$!
for _ in $(seq 240); do open=$(sessions); [ "$open" -ge 1000 ] && break; sleep 0.5; done
sleep 2
open=$(sessions); during=$(rss)
wait "$load" || true
pooled_result=$(grep -E '^number of (transactions actually processed|failed transactions)' "$work/pooled-1000.log" | tr '\n' ' ')
pgbench -n -S -c 1000 -j 2 -T 5 "$direct" >"$work/direct-1000.log" 2>&1 || true
direct_result=$(grep -m1 -Eo 'remaining connection slots are reserved[^"]*|too many clients already|sorry, too many clients|too many connections[^"]*|number of transactions actually processed: [0-9]+' "$work/direct-1000.log" || tail -3 "$work/direct-1000.log" | tr '\n' ' ')
echo "  pooled: $open sessions open at once; $pooled_result"
echo "  direct: $direct_result"
echo "  memory per idle pooled client: RSS ${before} kB -> ${during} kB with $open open: $(awk -v a="$before" -v b="$during" -v n="$open" 'BEGIN { printf "%.1f", (b - a) / (n ? n : 1) }') kB each"
