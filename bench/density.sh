#!/usr/bin/env bash
# Density: N idle tenants on one host, with the managed gateway and its controller.
#
# Creates N tenants one after another and reports, with baselines measured in the same run:
#   - `pgs create` time of the first and of the last ten tenants (ratio last/first), and of ten
#     more made with N present once the host has settled; and each step of those creates
#     (`PGS_LOG=pgs=debug`: checks, state, volume, container, start, ready), first ten
#     against the settled ten, so that a step that grows with N shows;
#   - host CPU busy (from /proc/stat, 30 s) and memory per tenant (its container's cgroup,
#     as `docker stats` counts it) while every tenant is idle;
#   - `pgs list` time with N tenants;
#   - Docker's own floor for the same: `docker run` of a bare container without a network (as
#     pgs runs tenants), with 1 tenant present and with N; and PostgreSQL's: `docker run` of the
#     tenant image until its server accepts a login over its socket (initdb and start, what
#     `pgs create` waits for), with 1 and with N;
#   - gateway TPS to tenant 1, `pgbench -S -c 8` steady and with -C (a new TLS connection per
#     transaction), with 1 tenant present and with N (ratio N/1; median of ROUNDS runs each);
#     and Docker's floor for it: the same with N-1 bare containers (`sleep`, no network) in
#     place of the other tenants, which are suspended then;
#   - managed gateway replacement (`pgs gateway restart`: how long it takes, and failed
#     connection attempts meanwhile) and a crash (kill -9 of the gateway until it serves again);
#   - wake latency: connect-to-first-row through the gateway (TLS, verify-full, psql) of a
#     suspended tenant, p50/p99 over 2 rounds of K tenants, beside the same for a running one.
#
#   bench/density.sh [TENANTS [SECONDS]]   (default 50 tenants, 15 s per pgbench run)
#   PGS_BENCH_CREATE_ARGS  arguments for every `pgs create` (default: --memory 256m)
#   PGS_BENCH_WAKES        K, suspended tenants woken per round (default 20)
#   PGS_BENCH_ROUNDS       pgbench runs per TPS figure, median reported (default 3)
#
# Needs pgbench (postgresql-contrib) and the test image (tests/image/build.sh). Removes what it
# made at the end (in bulk: one Docker call per kind of object).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-50}"
secs="${2:-15}"
wakes="${PGS_BENCH_WAKES:-20}"
rounds="${PGS_BENCH_ROUNDS:-3}"
create_args="${PGS_BENCH_CREATE_ARGS:---memory 256m}"
image="${PGS_BENCH_IMAGE:-pgs-test-postgres:15}"
pgs="${PGS:-target/release/pgs}"
[ -x "$pgs" ] || cargo build --release --quiet
command -v pgbench >/dev/null || { echo "missing pgbench: apt-get install postgresql-contrib" >&2; exit 1; }
docker inspect pgs-gateway >/dev/null 2>&1 && { echo "a pgs-gateway container exists: stop that installation's gateway first" >&2; exit 1; }

work="$(mktemp -d)"
export PGS_HOME="$work/home"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gw_port=$(free_port); health_port=$(free_port)
instance=""
cleanup() {
  if [ -n "$instance" ]; then
    local f="label=io.pgs.instance=$instance"
    docker ps -aq --filter "$f" | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker network ls -q --filter "$f" | xargs -r docker network rm >/dev/null 2>&1 || true
    docker volume ls -q --filter "$f" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
mean() { awk '{s+=$1} END {printf "%.2f", s/NR}'; }
pct() { sort -n | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100+0.5)+1; printf "%.3f", a[i]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
create_tenant() { # NAME STEPS_FILE -> seconds; the create's step times are appended to STEPS_FILE
  local t0; t0=$(now)
  PGS_LOG=pgs=debug "$pgs" create "$1" $create_args 2>>"$2" >/dev/null
  sub "$(now)" "$t0"
}
steps_compared() { # STEPS_FILE STEPS_FILE -> "step mean-ms-in-first->mean-ms-in-second, ..."
  python3 - "$1" "$2" <<'PY'
import collections, re, sys
def load(path):
    acc = collections.defaultdict(list)
    for line in open(path):
        m = re.search(r"steps: (.*)", line)
        if not m:
            continue
        seen = collections.Counter()
        for k, v in re.findall(r"(\w+)=(\d+)ms", m.group(1)):
            seen[k] += 1
            acc[k if seen[k] == 1 else f"{k}{seen[k]}"].append(int(v))
    return {k: sum(v) / len(v) for k, v in acc.items()}
a, b = load(sys.argv[1]), load(sys.argv[2])
print(", ".join(f"{k} {a[k]:.0f}→{b.get(k, 0):.0f}" for k in a) + " ms")
PY
}

"$pgs" setup --yes --domain pgs.test --image "$image" --gateway-port "$gw_port" --health-port "$health_port" >/dev/null 2>&1
instance=$(python3 -c "import json; print(json.load(open('$PGS_HOME/config.json'))['instance'])")
ca="$PGS_HOME/certs/ca.pem"
conninfo() { # TENANT -> conninfo through the gateway
  local pw
  pw=$(python3 -c "import json; print(json.load(open('$PGS_HOME/secrets/$1.json'))['password'])")
  echo "host=$1.pgs.test hostaddr=127.0.0.1 port=$gw_port user=$1 dbname=$1 password=$pw sslmode=verify-full sslrootcert=$ca"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
tps_median() { # CONNINFO EXTRA... -> median TPS of $rounds runs
  for _ in $(seq "$rounds"); do tps "$@"; echo; done | median
}
docker_floor() { # -> seconds for `docker run -d` of a bare container without a network
  local t0 name="pgs-bench-floor-$RANDOM"
  t0=$(now)
  docker run -d --rm --name "$name" --network none --entrypoint sleep "$image" 30 >/dev/null
  sub "$(now)" "$t0"
  docker rm -f "$name" >/dev/null
}
ready_floor() { # -> seconds for `docker run` of the tenant image until its server (not the init one) accepts a login
  local t0 name="pgs-bench-ready-$RANDOM" dir
  dir=$(mktemp -d); chmod 777 "$dir"
  t0=$(now)
  docker run -d --rm --name "$name" --network none --memory 256m -v "$dir:/var/run/postgresql" \
    -e POSTGRES_PASSWORD=bench -e 'POSTGRES_INITDB_ARGS=--auth-local=scram-sha-256' -e TZ=Etc/UTC \
    "$image" postgres -c listen_addresses=localhost >/dev/null
  until [ "$(PGPASSWORD=bench psql -h "$dir" -U postgres -d postgres -XAtqc "SELECT current_setting('listen_addresses') <> ''" 2>/dev/null)" = t ]; do sleep 0.02; done
  sub "$(now)" "$t0"
  docker rm -f "$name" >/dev/null; rm -rf "$dir"
}
tps() { # CONNINFO EXTRA... -> TPS
  local c="$1"; shift
  pgbench -n -S -c 8 -j 2 -T "$secs" "$@" "$c" 2>/dev/null | awk '/^tps/ {printf "%.0f", $3; exit}'
}
cpu_busy() { # SECONDS -> percent of all CPUs busy
  local a b
  a=($(head -1 /proc/stat)); sleep "$1"; b=($(head -1 /proc/stat))
  awk -v a="${a[*]}" -v b="${b[*]}" 'BEGIN {
    split(a, x); split(b, y); tot = 0; idle = 0
    for (i = 2; i <= 11; i++) tot += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%.1f", 100 * (tot - idle) / tot }'
}
mem_per_tenant_mb() { # mean over tenant containers of: (usage - inactive file) as docker stats counts it, and anonymous RSS; MB
  docker ps -q --no-trunc --filter "label=io.pgs.instance=$instance" --filter "label=io.pgs.tenant" | while read -r id; do
    d="/sys/fs/cgroup/memory/docker/$id"
    [ -r "$d/memory.usage_in_bytes" ] || continue
    u=$(cat "$d/memory.usage_in_bytes"); inactive=$(awk '/^total_inactive_file / {print $2}' "$d/memory.stat")
    rss=$(awk '/^total_rss / {print $2}' "$d/memory.stat")
    echo "$(( (u - inactive) / 1048576 )) $(( rss / 1048576 ))"
  done | awk '{a+=$1; b+=$2} END {printf "%.1f MB (anonymous RSS %.1f MB)", a/NR, b/NR}'
}
used_mb() { free -m | awk '/^Mem:/ {print $3}'; }

name() { printf 't%04d' "$1"; }
used_before=$(used_mb)
echo "host CPU busy before any tenant (the managed gateway and controller running; 30 s)..."
empty_cpu=$(cpu_busy 30)
echo "creating tenant 1 and a pgbench table in it..."
create_times=()
create_times+=("$(create_tenant "$(name 1)" "$work/steps-first")")
first=$(conninfo "$(name 1)")
pgbench -q -i -s 1 "$first" >/dev/null 2>&1
base_steady=$(tps_median "$first"); base_connect=$(tps_median "$first" -C)
floor_1=$(for _ in 1 2 3; do docker_floor; echo; done | median)
ready_1=$(for _ in 1 2 3; do ready_floor; echo; done | median)
echo "gateway TPS to tenant 1 with 1 tenant: steady $base_steady, connect-per-transaction $base_connect"

echo "creating tenants 2..$n..."
for i in $(seq 2 "$n"); do
  steps=/dev/null
  [ "$i" -le 10 ] && steps="$work/steps-first"
  [ "$i" -gt $((n - 10)) ] && steps="$work/steps-last"
  create_times+=("$(create_tenant "$(name "$i")" "$steps")")
  [ $((i % 50)) -eq 0 ] && echo "  $i tenants, last create $(printf '%s' "${create_times[-1]}")s, load $(cut -d' ' -f1 /proc/loadavg)"
done
first10=$(printf '%s\n' "${create_times[@]}" | head -10 | mean)
last10=$(printf '%s\n' "${create_times[@]}" | tail -10 | mean)

echo "letting $n tenants settle (30 s), then measuring idle CPU (30 s)..."
sleep 30
idle_cpu=$(cpu_busy 30)
breakdown=$(python3 bench/cpu_by_process.py 20)
mem=$(mem_per_tenant_mb)
host_per_tenant=$(awk -v a="$(used_mb)" -v b="$used_before" -v n="$n" 'BEGIN { printf "%.1f", (a - b) / n }')
load=$(cut -d' ' -f1-3 /proc/loadavg)

list_times=()
for _ in 1 2 3; do t0=$(now); "$pgs" list >/dev/null; list_times+=("$(sub "$(now)" "$t0")"); done
list_t=$(printf '%s\n' "${list_times[@]}" | pct 50)
statuses=$("$pgs" list --json | python3 -c 'import json,sys,collections; print(dict(collections.Counter(t["status"] for t in json.load(sys.stdin))))')

n_steady=$(tps_median "$first"); n_connect=$(tps_median "$first" -C)
# Ten more creates with N present, after the host settled (as the floors are measured): the
# last ten of the loop above also wait on the writeback of the tenants just made before them.
settled_times=()
for i in $(seq $((n + 1)) $((n + 10))); do
  settled_times+=("$(create_tenant "$(name "$i")" "$work/steps-settled")")
  "$pgs" remove "$(name "$i")" --yes --purge >/dev/null 2>&1
  sleep 2
done
settled10=$(printf '%s\n' "${settled_times[@]}" | mean)
floor_n=$(for _ in 1 2 3; do docker_floor; echo; done | median)
ready_n=$(for _ in 1 2 3; do ready_floor; echo; done | median)

python3 bench/connect_probe.py "$first" 8 2 >"$work/replace-probe.json" &
probe=$!
sleep 2
t0=$(now)
"$pgs" gateway restart --drain 10s >/dev/null 2>&1
restart_t=$(sub "$(now)" "$t0")
wait "$probe"
replace_probe=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d of %d connection attempts failed, longest connect %s ms" % (d["failures"], d["attempts"], d["max_ms"]))' "$work/replace-probe.json")
t0=$(now)
kill -9 "$(docker inspect -f '{{.State.Pid}}' pgs-gateway)"
until psql "$first" -XAtqc 'SELECT 1' >/dev/null 2>&1; do sleep 0.02; done
crash_t=$(sub "$(now)" "$t0")

echo "suspending tenants 2..$n (scale to zero), then idle CPU and TPS to tenant 1 again..."
t0=$(now)
seq 2 "$n" | xargs -P 4 -I{} sh -c "\"$pgs\" suspend \"\$(printf 't%04d' {})\" >/dev/null 2>&1"
suspend_t=$(sub "$(now)" "$t0")
sleep 20
suspended_cpu=$(cpu_busy 30)
s_steady=$(tps_median "$first"); s_connect=$(tps_median "$first" -C)
"$pgs" list --json | python3 -c 'import json,sys,collections; print(dict(collections.Counter(t["status"] for t in json.load(sys.stdin))))' >"$work/suspended-statuses"

echo "Docker's floor: $((n - 1)) bare containers beside tenant 1, then TPS to tenant 1 again..."
for i in $(seq 2 "$n"); do
  docker run -d --name "pgs-bench-bare-$i" --label "io.pgs.instance=$instance" --network none \
    --entrypoint sleep "$image" infinity >/dev/null
done
sleep 20
bare_cpu=$(cpu_busy 30)
b_steady=$(tps_median "$first"); b_connect=$(tps_median "$first" -C)
docker ps -aq --filter "name=pgs-bench-bare-" | xargs -r docker rm -f >/dev/null

echo "wake latency: $wakes suspended tenants per round, 2 rounds..."
k=$(( wakes < n - 1 ? wakes : n - 1 ))
wake_times=(); warm_times=()
for round in 1 2; do
  for i in $(seq 2 $((k + 1))); do "$pgs" suspend "$(name "$i")" >/dev/null 2>&1 || true; done
  for i in $(seq 2 $((k + 1))); do
    c=$(conninfo "$(name "$i")")
    t0=$(now); psql "$c" -XAtqc 'SELECT 1' >/dev/null; wake_times+=("$(sub "$(now)" "$t0")")
    t0=$(now); psql "$c" -XAtqc 'SELECT 1' >/dev/null; warm_times+=("$(sub "$(now)" "$t0")")
  done
done
wake50=$(printf '%s\n' "${wake_times[@]}" | pct 50); wake99=$(printf '%s\n' "${wake_times[@]}" | pct 99)
warm50=$(printf '%s\n' "${warm_times[@]}" | pct 50)
metrics=$(curl -fs "127.0.0.1:$health_port/metrics" | grep -E '^pgs_(gateway_wakes_total|gateway_wake_failures_total|tenants)' | tr '\n' ' ')

cat <<EOF

density, $n tenants ($create_args), $(nproc) CPUs, $(free -g | awk '/^Mem:/ {print $2}') GiB
| what | figure |
|---|---|
| pgs create, mean of first 10 / last 10 | ${first10} s / ${last10} s (ratio $(ratio "$last10" "$first10")) |
| pgs create with $n present after the host settled (10, each removed again) / first 10 | ${settled10} s (ratio $(ratio "$settled10" "$first10")) |
| create's steps, mean of first 10 → last 10 | $(steps_compared "$work/steps-first" "$work/steps-last") |
| create's steps, mean of first 10 → settled 10 | $(steps_compared "$work/steps-first" "$work/steps-settled") |
| Docker's floor: run of a bare container without a network (median of 3), 1 tenant / $n | ${floor_1} s / ${floor_n} s (ratio $(ratio "$floor_n" "$floor_1")) |
| PostgreSQL's floor: run of the tenant image until it accepts a login (initdb, start; median of 3), 1 tenant / $n | ${ready_1} s / ${ready_n} s (ratio $(ratio "$ready_n" "$ready_1")) |
| host CPU busy (2 CPUs = 100 %): no tenant / all $n idle (30 s) | ${empty_cpu} % / ${idle_cpu} % (load average $load) |
| memory per idle tenant: container cgroup / host's used memory grown by N | ${mem} / ${host_per_tenant} MB |
| pgs list ($n tenants, median of 3) | ${list_t} s; statuses $statuses |
| gateway TPS to tenant 1, steady: 1 tenant / $n (median of $rounds) | $base_steady / $n_steady (ratio $(ratio "$n_steady" "$base_steady")) |
| gateway TPS to tenant 1, -C: 1 tenant / $n (median of $rounds) | $base_connect / $n_connect (ratio $(ratio "$n_connect" "$base_connect")) |
| all but tenant 1 suspended ($(cat "$work/suspended-statuses"); suspending took ${suspend_t} s): host CPU busy | ${suspended_cpu} % |
| gateway TPS to tenant 1, steady: 1 tenant / $n present, $((n - 1)) suspended | $base_steady / $s_steady (ratio $(ratio "$s_steady" "$base_steady")) |
| gateway TPS to tenant 1, -C: 1 tenant / $n present, $((n - 1)) suspended | $base_connect / $s_connect (ratio $(ratio "$s_connect" "$base_connect")) |
| Docker's floor: $((n - 1)) bare containers (sleep, no network) beside tenant 1, others suspended: host CPU busy | ${bare_cpu} % |
| gateway TPS to tenant 1, steady / -C: 1 tenant / with $((n - 1)) bare containers | $base_steady / $b_steady (ratio $(ratio "$b_steady" "$base_steady")); $base_connect / $b_connect (ratio $(ratio "$b_connect" "$base_connect")) |
| managed gateway replacement (pgs gateway restart) | ${restart_t} s; $replace_probe |
| gateway crash (kill -9) until serving again | ${crash_t} s |
| connect-to-first-row, suspended tenant: p50 / p99 (${#wake_times[@]} wakes) | ${wake50} s / ${wake99} s |
| connect-to-first-row, running tenant: p50 | ${warm50} s |
metrics: $metrics

where the CPU of the idle host went (% of one CPU):
$breakdown
EOF
