#!/usr/bin/env bash
# Gateway throughput and memory, against baselines measured in the same run:
#   (a) pgbench over TLS straight to the tenant container's address (the fastest path),
#   (b) through the pgs gateway with SNI and sslmode=verify-full, dialling the tenant's Unix
#       socket (its only way in), serving sessions on one single-threaded runtime per core,
#   (b0) the same gateway with --serve-threads 0: sessions on the shared work-stealing runtime,
#       as before thread-per-core serving (a new gateway process takes the port over from the
#       other between the two, as in a replacement),
#   (c) through pgbouncer (session mode, client TLS), what users would otherwise put in front,
#   (e) for reference, HAProxy in TCP mode relaying the client's TLS unchanged to the container:
#       the cost of one userspace hop by the best-known relay, which does no TLS work at all.
# Tenants listen on no network; for (a), (c) and (e) the bench's tenant is made with --egress
# and listen_addresses=* (Docker's default bridge), which pgs tenants do not have by default.
# Workloads: `pgbench -S -c 16 -j 2` steady, and with -C (a new connection per transaction).
# CPU: the proxy process's user+system time per transaction (from /proc), for (b), (b0), (c), (e).
# Memory: gateway RSS growth with 1,000 sessions open through it.
#
# Replacement: connect-to-first-row latency (bench/connect_probe.py, 4 threads) while a second
# gateway takes the listeners over from (b), against the same probe without a replacement, and
# failed transactions of a steady pgbench across it.
#
#   PGS_BENCH_ONLY="throughput syscalls memory replace" (the default: all four; name a subset)
#   PGS_BENCH_TARGETS="a b b0 c e" (the default; b1, one serving thread, may be added; a is the baseline)
#   bench/gateway.sh [SECONDS [ROUNDS]]  (default 15 s per measurement, 1 round; with several
#                                   rounds every target is measured once per round, in turn, and
#                                   the median is reported, so slow drifts of the machine hit all
#                                   alike; needs pgbench, pgbouncer, haproxy and
#                                   strace: apt-get install postgresql-contrib pgbouncer haproxy strace)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-15}"
rounds="${2:-1}"
only=" ${PGS_BENCH_ONLY:-throughput syscalls memory replace} "
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
# use_gateway ARGS: makes the gateway the one started with ARGS ("" for the defaults): a new
# process takes the listeners over from the running one, which exits (no session is open).
gw_args="none"; gw_starts=0
use_gateway() {
  [ "$gw_args" = "$1" ] && return
  gw_starts=$((gw_starts + 1))
  # shellcheck disable=SC2086
  "$pgs" gateway run --listen "127.0.0.1:$gw_port" --health-listen "127.0.0.1:$health_port" $1 >"$work/gateway-$gw_starts.log" 2>&1 &
  gw_pid=$!
  gw_args="$1"
  for _ in $(seq 300); do grep -q "gateway listening" "$work/gateway-$gw_starts.log" && break; sleep 0.1; done
  until curl -fs "127.0.0.1:$health_port/ready" >/dev/null 2>&1; do sleep 0.1; done
}
# gateway_for KEY: the gateway target KEY measures (in this shell, not in run's subshell).
gateway_for() { case $1 in b) use_gateway "" ;; b0) use_gateway "--serve-threads 0" ;; b1) use_gateway "--serve-threads 1" ;; esac; }
use_gateway ""

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
gateway_target="host=$tenant.pgs.test hostaddr=127.0.0.1 port=$gw_port user=$tenant dbname=$tenant sslmode=verify-full sslrootcert=$ca"
declare -A target=(
  [a]="host=$addr port=5432 user=$tenant dbname=$tenant sslmode=require"
  [b]="$gateway_target"
  [b0]="$gateway_target"
  [b1]="$gateway_target"
  [c]="host=127.0.0.1 port=$bouncer_port user=$tenant dbname=$tenant sslmode=require"
  [e]="host=127.0.0.1 port=$haproxy_port user=$tenant dbname=$tenant sslmode=require"
)
ratio() { awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'; }
if want throughput; then
# The process whose CPU a target costs (pgbouncer runs under runuser when this runs as root).
proxy_pid() {
  case $1 in
    b|b0|b1) echo "$gw_pid" ;;
    c) pgrep -n -x pgbouncer ;;
    e) echo "$haproxy_pid" ;;
  esac
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# run KEY EXTRA: one pgbench run against target KEY; prints its TPS, and adds the proxy's CPU
# microseconds per transaction to $work/cpu-KEY-EXTRA.
run() {
  local key=$1 out pid before n
  pid=$(proxy_pid "$key")
  [ -n "$pid" ] && before=$(cpu_ticks "$pid")
  out=$(pgbench -n -S -c 16 -j 2 -T "$secs" $2 "${target[$key]}" 2>&1) || { echo "pgbench failed for $key: $(tail -2 <<<"$out")" >&2; echo 0; return; }
  n=$(awk -F': ' '/number of transactions actually processed/ { split($2, v, "/"); print v[1]; exit }' <<<"$out")
  [ -n "$pid" ] && awk -v t="$(( $(cpu_ticks "$pid") - before ))" -v hz="$hz" -v n="$n" \
    'BEGIN { printf "%.1f ", t / hz * 1e6 / (n ? n : 1) }' >>"$work/cpu-$key$2"
  awk '/^tps/ {print $3; exit}' <<<"$out"
}
median() { tr ' ' '\n' | awk 'NF' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cpu() { [ -s "$work/cpu-$1" ] && median <"$work/cpu-$1" || echo "-"; }
keys="${PGS_BENCH_TARGETS:-a b b0 c e}"
declare -A steady connect runs_s runs_c
for _ in $(seq "$rounds"); do
  for k in $keys; do gateway_for "$k"; runs_s[$k]+="$(run "$k" "") "; done
  for k in $keys; do gateway_for "$k"; runs_c[$k]+="$(run "$k" "-C") "; done
done
use_gateway ""
for k in $keys; do steady[$k]=$(median <<<"${runs_s[$k]}"); done
for k in $keys; do connect[$k]=$(median <<<"${runs_c[$k]}"); done
[ "$rounds" -gt 1 ] && for k in $keys; do echo "  rounds $k: steady ${runs_s[$k]}/ -C ${runs_c[$k]:-}"; done
grep -Eqh 'backend(=|":)"?unix' "$work"/gateway-*.log || echo "warning: gateway (b) did not dial the Unix socket" >&2

declare -A label=(
  [a]="(a) direct TLS to the container"
  [b]="(b) pgs gateway, SNI + verify-full"
  [b0]="(b0) the same, shared runtime"
  [b1]="(b1) the same, one serving thread"
  [c]="(c) pgbouncer session mode, TLS"
  [e]="(e) haproxy TCP relay of the TLS"
)
report() { # MODE ("" or -C), then the TPS by key
  local mode=$1 k; shift
  local -n tps=$1
  for k in $keys; do
    if [ "$k" = a ]; then
      printf '  %-40s %10.0f\n' "${label[a]}" "${tps[a]}"
    else
      printf '  %-40s %10.0f   ratio to (a) %s   %7s us/tx' "${label[$k]}" "${tps[$k]}" "$(ratio "${tps[$k]}" "${tps[a]}")" "$(cpu "$k$mode")"
      [ "$k" != b ] && [ -n "${tps[b]:-}" ] && printf '   b/%s %s' "$k" "$(ratio "${tps[b]}" "${tps[$k]}")"
      echo
    fi
  done
}
echo "pgbench -S -c 16 -j 2, ${secs}s each, median of $rounds round(s) (TPS; the proxy process's CPU per transaction, user+system)"
report "" steady
echo "the same with -C (new connection per transaction)"
report "-C" connect
fi

# System calls per transaction of the gateway (strace -c on every thread of it), for a fixed
# number of `pgbench -S -c 16 -j 2` transactions through (b) and (b0). strace slows the gateway
# down a lot: only the counts mean anything here, not the time. Needs strace.
if want syscalls; then
  command -v strace >/dev/null || { echo "missing strace: apt-get install strace" >&2; exit 1; }
  per_client=1250
  n=$((per_client * 16))
  echo "system calls per transaction of the gateway ($n transactions of pgbench -S -c 16, strace -c -f)"
  for k in ${PGS_BENCH_SYSCALL_TARGETS:-b b0}; do
    gateway_for "$k"
    # The sessions open first (their handshakes are not the steady state being counted).
    strace -c -f -q -p "$gw_pid" -o "$work/strace-$k" &
    tracer=$!
    sleep 1
    pgbench -n -S -c 16 -j 2 -t "$per_client" "${target[$k]}" >/dev/null 2>&1 || echo "pgbench failed for $k" >&2
    kill -INT "$tracer"; wait "$tracer" || true
    awk -v n="$n" -v k="$k" '
      $NF == "total" { total = $4 }
      $4 ~ /^[0-9]+$/ && $NF != "total" { calls[$NF] = $4 }
      END {
        line = sprintf("  (%s) %5.2f in all:", k, total / n)
        for (c in calls) if (calls[c] / n >= 0.01) line = line sprintf(" %s %.2f", c, calls[c] / n)
        print line
      }' "$work/strace-$k"
  done
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
