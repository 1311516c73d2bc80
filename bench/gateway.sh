#!/usr/bin/env bash
# Gateway throughput and memory, against baselines measured in the same run:
#   (a) pgbench over TLS straight to the tenant container's address (the fastest path),
#   (b) through the pgs gateway with SNI and sslmode=verify-full, dialling the tenant's Unix
#       socket (its only way in),
#   (c) through pgbouncer (session mode, client TLS), what users would otherwise put in front,
#   (e) for reference, HAProxy in TCP mode relaying the client's TLS unchanged to the container:
#       the cost of one userspace hop by the best-known relay, which does no TLS work at all.
# Tenants listen on no network; for (a), (c) and (e) the bench's tenant is made with --egress
# and listen_addresses=* (Docker's default bridge), which pgs tenants do not have by default.
# Workloads: `pgbench -S -c 16 -j 2` steady, and with -C (a new connection per transaction).
# Memory: gateway RSS growth with 1,000 sessions open through it.
#
# Replacement: connect-to-first-row latency (bench/connect_probe.py, 4 threads) while a second
# gateway takes the listeners over from (b), against the same probe without a replacement, and
# failed transactions of a steady pgbench across it.
#
#   PGS_BENCH_ONLY="throughput memory replace" (the default: all three sections; name a subset)
#   bench/gateway.sh [SECONDS [ROUNDS]]  (default 15 s per measurement, 1 round; with several
#                                   rounds every target is measured once per round, in turn, and
#                                   the median is reported, so slow drifts of the machine hit all
#                                   alike; needs pgbench, pgbouncer and
#                                   haproxy: apt-get install postgresql-contrib pgbouncer haproxy)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-15}"
rounds="${2:-1}"
only=" ${PGS_BENCH_ONLY:-throughput memory replace} "
want() { [[ "$only" == *" $1 "* ]]; }
image="${PGS_BENCH_IMAGE:-pgs-test-postgres:15}"
pgs="${PGS:-target/release/pgs}"
[ -x "$pgs" ] || cargo build --release --quiet
for tool in pgbench pgbouncer haproxy; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool: apt-get install postgresql-contrib pgbouncer haproxy" >&2; exit 1; }
done
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

work="$(mktemp -d)"
export PGS_HOME="$work/home"
tenant="bench$RANDOM"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gw_port=$(free_port); health_port=$(free_port); bouncer_port=$(free_port); haproxy_port=$(free_port)
gw_pid=""; bouncer_pid=""; haproxy_pid=""
cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null
  [ -n "$bouncer_pid" ] && kill "$bouncer_pid" 2>/dev/null
  [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2>/dev/null
  "$pgs" remove "$tenant" --yes --purge >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$pgs" setup --yes --no-gateway --domain pgs.test --image "$image" --gateway-port "$gw_port" >/dev/null 2>&1
"$pgs" create "$tenant" --egress --pg-setting 'listen_addresses=*' >/dev/null 2>&1
info=$("$pgs" info "$tenant" --json --show-password)
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)" <<<"$info"; }
pw=$(field "['password']"); socket_dir=$(field "['socket_dir']")
superpw=$(python3 -c "import json; print(json.load(open('$PGS_HOME/secrets/$tenant.json'))['superuser_password'])")
addr=$(docker inspect -f '{{.NetworkSettings.Networks.bridge.IPAddress}}' "pgs-$tenant")
ca="$PGS_HOME/certs/ca.pem"

# Baseline (a) needs TLS on the tenant's own server: give it the same certificate.
docker cp "$PGS_HOME/certs/cert.pem" "pgs-$tenant:/var/lib/postgresql/server.crt" >/dev/null
docker cp "$PGS_HOME/certs/key.pem" "pgs-$tenant:/var/lib/postgresql/server.key" >/dev/null
docker exec "pgs-$tenant" sh -c 'chown postgres /var/lib/postgresql/server.* && chmod 600 /var/lib/postgresql/server.key'
PGPASSWORD="$superpw" psql -X -q -h "$socket_dir" -U postgres -d postgres \
  -c "ALTER SYSTEM SET ssl = on" \
  -c "ALTER SYSTEM SET ssl_cert_file = '/var/lib/postgresql/server.crt'" \
  -c "ALTER SYSTEM SET ssl_key_file = '/var/lib/postgresql/server.key'" \
  -c "ALTER SYSTEM SET max_connections = 1200" >/dev/null
docker restart "pgs-$tenant" >/dev/null
until PGPASSWORD="$pw" psql -X -q -h "$socket_dir" -U "$tenant" -d "$tenant" -c 'SELECT 1' >/dev/null 2>&1; do sleep 0.3; done
PGPASSWORD="$pw" pgbench -q -i -s 10 -h "$socket_dir" -U "$tenant" "$tenant" >/dev/null 2>&1

# The gateway (release build, foreground mode), dialling the tenant's Unix socket.
"$pgs" gateway run --listen "127.0.0.1:$gw_port" --health-listen "127.0.0.1:$health_port" >"$work/gateway.log" 2>&1 &
gw_pid=$!
until curl -fs "127.0.0.1:$health_port/ready" >/dev/null 2>&1; do sleep 0.1; done

# pgbouncer: session mode, client TLS with the same certificate, plain to the container.
cat > "$work/pgbouncer.ini" <<INI
[databases]
$tenant = host=$addr port=5432 dbname=$tenant
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
auth_type = scram-sha-256
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = 2000
default_pool_size = 1100
client_tls_sslmode = require
client_tls_cert_file = $PGS_HOME/certs/cert.pem
client_tls_key_file = $PGS_HOME/certs/key.pem
unix_socket_dir =
INI
printf '"%s" "%s"\n' "$tenant" "$pw" > "$work/userlist.txt"
# pgbouncer refuses to run as root: hand its files to the postgres user and switch to it.
cp "$PGS_HOME/certs/cert.pem" "$PGS_HOME/certs/key.pem" "$work/"
sed -i "s#$PGS_HOME/certs/#$work/#" "$work/pgbouncer.ini"
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$work"
  chown postgres "$work/pgbouncer.ini" "$work/userlist.txt" "$work/cert.pem" "$work/key.pem"
  runuser -u postgres -- "$PGBOUNCER" "$work/pgbouncer.ini" >"$work/pgbouncer.log" 2>&1 &
else
  "$PGBOUNCER" "$work/pgbouncer.ini" >"$work/pgbouncer.log" 2>&1 &
fi
bouncer_pid=$!
sleep 1
kill -0 "$bouncer_pid" 2>/dev/null || { echo "pgbouncer did not start:" >&2; cat "$work/pgbouncer.log" >&2; exit 1; }

# HAProxy: TCP mode, one process, a plain byte relay (the TLS stays end to end).
cat > "$work/haproxy.cfg" <<CFG
global
  maxconn 4000
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
listen pg
  bind 127.0.0.1:$haproxy_port
  server tenant $addr:5432
CFG
"$HAPROXY" -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
haproxy_pid=$!
sleep 0.5
kill -0 "$haproxy_pid" 2>/dev/null || { echo "haproxy did not start:" >&2; cat "$work/haproxy.log" >&2; exit 1; }

export PGPASSWORD="$pw"
declare -A target=(
  [a]="host=$addr port=5432 user=$tenant dbname=$tenant sslmode=require"
  [b]="host=$tenant.pgs.test hostaddr=127.0.0.1 port=$gw_port user=$tenant dbname=$tenant sslmode=verify-full sslrootcert=$ca"
  [c]="host=127.0.0.1 port=$bouncer_port user=$tenant dbname=$tenant sslmode=require"
  [e]="host=127.0.0.1 port=$haproxy_port user=$tenant dbname=$tenant sslmode=require"
)
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'; }
if want throughput; then
tps() {
  local out
  out=$(pgbench -n -S -c 16 -j 2 -T "$secs" $2 "$1" 2>&1) || { echo "pgbench failed for $1: $(tail -2 <<<"$out")" >&2; echo 0; return; }
  awk '/^tps/ {print $3; exit}' <<<"$out"
}
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A steady connect runs_s runs_c
for _ in $(seq "$rounds"); do
  for k in a b c e; do runs_s[$k]+="$(tps "${target[$k]}" "") "; done
  for k in a b c e; do runs_c[$k]+="$(tps "${target[$k]}" "-C") "; done
done
for k in a b c e; do steady[$k]=$(median <<<"${runs_s[$k]}"); done
for k in a b c e; do connect[$k]=$(median <<<"${runs_c[$k]}"); done
[ "$rounds" -gt 1 ] && for k in a b c e; do echo "  rounds $k: steady ${runs_s[$k]}/ -C ${runs_c[$k]:-}"; done
grep -Eq 'backend(=|":)"?unix' "$work/gateway.log" || echo "warning: gateway (b) did not dial the Unix socket" >&2

echo "pgbench -S -c 16 -j 2, ${secs}s each, median of $rounds round(s) (TPS)"
printf '  (a) direct TLS to the container:     %10.0f\n' "${steady[a]}"
printf '  (b) pgs gateway, SNI + verify-full:   %10.0f   ratio b/a %s   (Unix socket hop)\n' "${steady[b]}" "$(ratio "${steady[b]}" "${steady[a]}")"
printf '  (c) pgbouncer session mode, TLS:     %10.0f   ratio c/a %s   gateway vs pgbouncer b/c %s\n' "${steady[c]}" "$(ratio "${steady[c]}" "${steady[a]}")" "$(ratio "${steady[b]}" "${steady[c]}")"
printf '  (e) haproxy TCP relay of the TLS:     %10.0f   ratio e/a %s   gateway vs relay b/e %s\n' "${steady[e]}" "$(ratio "${steady[e]}" "${steady[a]}")" "$(ratio "${steady[b]}" "${steady[e]}")"
echo "the same with -C (new connection per transaction)"
printf '  (a) direct TLS to the container:     %10.0f\n' "${connect[a]}"
printf '  (b) pgs gateway, SNI + verify-full:   %10.0f   ratio b/a %s   (Unix socket hop)\n' "${connect[b]}" "$(ratio "${connect[b]}" "${connect[a]}")"
printf '  (c) pgbouncer session mode, TLS:     %10.0f   ratio c/a %s\n' "${connect[c]}" "$(ratio "${connect[c]}" "${connect[a]}")"
printf '  (e) haproxy TCP relay of the TLS:     %10.0f   ratio e/a %s\n' "${connect[e]}" "$(ratio "${connect[e]}" "${connect[a]}")"
fi

# Memory: 1,000 idle sessions held open through the gateway.
if want memory; then
rss() { awk '/VmRSS/ {print $2}' "/proc/$gw_pid/status"; }
before=$(rss)
# pgbench opens its 1,000 connections one by one (TLS + SCRAM each): wait until all are open.
pgbench -n -c 1000 -j 2 -T "$((secs + 60))" -R 50 -S "${target[b]}" >/dev/null 2>&1 &
load=$!
sessions() { curl -fs "127.0.0.1:$health_port/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["open_sessions"])'; }
for _ in $(seq 120); do open=$(sessions); [ "$open" -ge 1000 ] && break; sleep 0.5; done
sleep 2
open=$(sessions)
during=$(rss)
wait "$load" || true
echo "memory with $open sessions open: RSS ${before} kB -> ${during} kB, $(awk -v a="$before" -v b="$during" -v n="$open" 'BEGIN { printf "%.1f", (b - a) / (n ? n : 1) }') kB per session"
fi

if want replace; then
  # The same probe twice, each beside a steady pgbench: once undisturbed, once while a new
  # gateway process (same binary, same ports) takes the listeners over from (b), 2 s into the
  # window. The old gateway drains the steady sessions (--takeover-drain longer than the run).
  probe() { python3 bench/connect_probe.py "${target[b]}" "$1" 4; }
  field_of() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
  pgbench -n -S -c 8 -j 2 -T "$secs" "${target[b]}" >/dev/null 2>&1 &
  quiet_load=$!
  quiet=$(probe "$secs")
  wait "$quiet_load" || true
  pgbench -n -S -c 8 -j 2 -T "$((secs + 2))" "${target[b]}" >"$work/replace-pgbench.log" 2>&1 &
  steady_pid=$!
  probe "$secs" >"$work/during.json" &
  probe_pid=$!
  sleep 2
  replaced_at=$(date +%s.%N)
  "$pgs" gateway run --listen "127.0.0.1:$gw_port" --health-listen "127.0.0.1:$health_port" --takeover-drain 10m >"$work/gateway-next.log" 2>&1 &
  old_pid=$gw_pid
  gw_pid=$!
  wait "$probe_pid"
  during=$(cat "$work/during.json")
  steady_ok=yes
  wait "$steady_pid" || steady_ok=no
  for _ in $(seq 100); do kill -0 "$old_pid" 2>/dev/null || break; sleep 0.1; done
  old_left=$(awk -v a="$replaced_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "replacement of the gateway (connect to first row, 4 threads, ${secs}s windows, beside pgbench -S -c 8)"
  printf '  without replacement: %5d attempts, %d failed, p50 %6.1f ms, p99 %6.1f ms, longest %6.1f ms\n' \
    "$(field_of "$quiet" attempts)" "$(field_of "$quiet" failures)" "$(field_of "$quiet" p50_ms)" "$(field_of "$quiet" p99_ms)" "$(field_of "$quiet" max_ms)"
  printf '  with replacement:    %5d attempts, %d failed, p50 %6.1f ms, p99 %6.1f ms, longest %6.1f ms   longest ratio %s\n' \
    "$(field_of "$during" attempts)" "$(field_of "$during" failures)" "$(field_of "$during" p50_ms)" "$(field_of "$during" p99_ms)" "$(field_of "$during" max_ms)" \
    "$(ratio "$(field_of "$during" max_ms)" "$(field_of "$quiet" max_ms)")"
  echo "  steady pgbench -S -c 8 across it: $(grep -E '^number of failed' "$work/replace-pgbench.log" || echo 'no summary') (exit ok: $steady_ok)"
  echo "  the old gateway exited ${old_left}s after the new one started (its sessions had ended)"
fi
