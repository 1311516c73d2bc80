#!/usr/bin/env bash
# The HTTP API against the CLI, on the same installation in the same run:
#   - list and info latency (p50, p99) with N tenants: `GET /v1/tenants` and
#     `GET /v1/tenants/ID` (keep-alive HTTP from one client) against `pgs list --json` and
#     `pgs info ID --json` (a process each, as a script calls the CLI); ratios API/CLI;
#   - 20 concurrent creates: 20 `POST /v1/tenants` at once, until every job has ended, against
#     20 `pgs create` started at once; wall time of each batch and its ratio;
#   - the cost of one scrape of the gateway's /metrics with N running tenants (their PostgreSQL
#     statistics): CPU of the gateway and of every tenant container (cgroup) in a 6 s window
#     that starts with a scrape, less the same in a window without one (the baseline); as CPU
#     per scrape and as a share of one core at a 15 s scrape interval; and the first scrape,
#     which opens the kept connections.
#
#   bench/api.sh [TENANTS [REQUESTS]]   (default 500 tenants, 200 API requests and 20 CLI runs
#                                        per figure)
#   PGS_BENCH_CREATE_ARGS  arguments for every `pgs create` (default: --memory 128m)
#
# Needs the test image (tests/image/build.sh) and curl. Removes what it made at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-500}"
requests="${2:-200}"
cli_runs=20
create_args="${PGS_BENCH_CREATE_ARGS:---memory 128m}"
image="${PGS_BENCH_IMAGE:-pgs-test-postgres:15}"
pgs="${PGS:-target/release/pgs}"
[ -x "$pgs" ] || cargo build --release --quiet

work="$(mktemp -d)"
export PGS_HOME="$work/home"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api_port=$(free_port)
gw_port=$(free_port)
health_port=$(free_port)
instance=""
api_pid=""
gw_pid=""
cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null || true
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null || true
  if [ -n "$instance" ]; then
    local f="label=io.pgs.instance=$instance"
    docker ps -aq --filter "$f" | xargs -r docker rm -f >/dev/null 2>&1 || true
    docker volume ls -q --filter "$f" | xargs -r docker volume rm -f >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$pgs" setup --yes --no-gateway --self-signed --domain pgs.bench --image "$image" >/dev/null
instance=$(python3 -c "import json,sys; print(json.load(open('$PGS_HOME/config.json'))['instance'])")
echo "creating $n tenants ($create_args)..."
started=$(date +%s)
for i in $(seq 1 "$n"); do
  # shellcheck disable=SC2086
  "$pgs" create "t$i" $create_args >/dev/null 2>&1 || { echo "create t$i failed" >&2; exit 1; }
  [ $((i % 50)) = 0 ] && echo "  $i tenants ($(( $(date +%s) - started )) s)"
done

token=$("$pgs" token create bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
"$pgs" api run --listen "127.0.0.1:$api_port" >"$work/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$api_port/v1/health" >/dev/null && break; sleep 0.1; done

export PGS API_PORT="$api_port" TOKEN="$token" REQUESTS="$requests" CLI_RUNS="$cli_runs" N="$n" CREATE_ARGS="$create_args"
export PGS_BIN="$pgs"
python3 - <<'EOF'
import http.client, json, os, shlex, statistics, subprocess, time

port, token = int(os.environ["API_PORT"]), os.environ["TOKEN"]
requests, cli_runs, n = int(os.environ["REQUESTS"]), int(os.environ["CLI_RUNS"]), int(os.environ["N"])
pgs = os.environ["PGS_BIN"]
headers = {"Authorization": f"Bearer {token}"}

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

def api_times(path, count):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    times = []
    for _ in range(count):
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        times.append(time.perf_counter() - t)
        assert r.status == 200, (r.status, body[:200])
    return times, body

def cli_times(args, count):
    times = []
    for _ in range(count):
        t = time.perf_counter()
        out = subprocess.run([pgs, *args], capture_output=True, check=True)
        times.append(time.perf_counter() - t)
    return times, out.stdout

def row(what, api, cli):
    a50, a99, c50, c99 = (pct(api, 50), pct(api, 99), pct(cli, 50), pct(cli, 99))
    print(f"{what:<34} {a50*1000:9.1f} {a99*1000:9.1f} {c50*1000:9.1f} {c99*1000:9.1f} {a50/c50:7.2f} {a99/c99:7.2f}")

print(f"\nlatency with {n} tenants, ms ({requests} API requests on one keep-alive connection, {cli_runs} CLI runs)")
print(f"{'':<34} {'API p50':>9} {'API p99':>9} {'CLI p50':>9} {'CLI p99':>9} {'p50 x':>7} {'p99 x':>7}")
api, body = api_times("/v1/tenants", requests)
cli, out = cli_times(["list", "--json"], cli_runs)
assert len(json.loads(body)) == len(json.loads(out)) == n, "list lengths differ"
row("list (GET /v1/tenants)", api, cli)
api, _ = api_times("/v1/tenants/t1", requests)
cli, _ = cli_times(["info", "t1", "--json"], cli_runs)
row("info (GET /v1/tenants/t1)", api, cli)

# 20 creates at once, through the API (jobs) and through the CLI (processes).
def api_creates(prefix):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    jobs = []
    t = time.perf_counter()
    for i in range(20):
        body = json.dumps({"id": f"{prefix}{i}", "memory": "128m"})
        conn.request("POST", "/v1/tenants", body=body, headers={**headers, "Content-Type": "application/json"})
        r = conn.getresponse()
        doc = json.loads(r.read())
        assert r.status == 202, doc
        jobs.append(doc["id"])
    pending = set(jobs)
    failed = 0
    while pending:
        for j in list(pending):
            conn.request("GET", f"/v1/jobs/{j}", headers=headers)
            doc = json.loads(conn.getresponse().read())
            if doc["status"] != "running":
                pending.discard(j)
                failed += doc["status"] != "succeeded"
        time.sleep(0.05)
    return time.perf_counter() - t, failed

def cli_creates(prefix):
    t = time.perf_counter()
    procs = [subprocess.Popen([pgs, "create", f"{prefix}{i}", *shlex.split(os.environ["CREATE_ARGS"])],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(20)]
    failed = sum(p.wait() != 0 for p in procs)
    return time.perf_counter() - t, failed

api_s, api_failed = api_creates("a")
cli_s, cli_failed = cli_creates("c")
print(f"\n20 concurrent creates with {n} tenants present")
print(f"  API: {api_s:6.1f} s ({api_failed} failed)   CLI: {cli_s:6.1f} s ({cli_failed} failed)   API/CLI {api_s/cli_s:.2f}")
EOF

"$pgs" gateway run --no-controller --listen "127.0.0.1:$gw_port" --health-listen "127.0.0.1:$health_port" \
  >"$work/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$health_port/ready" >/dev/null && break; sleep 0.1; done
export GW_PID="$gw_pid" HEALTH_PORT="$health_port" INSTANCE="$instance"
python3 - <<'EOF'
import os, subprocess, time, urllib.request

gw_pid, port, instance = int(os.environ["GW_PID"]), int(os.environ["HEALTH_PORT"]), os.environ["INSTANCE"]
ids = subprocess.run(["docker", "ps", "-q", "--no-trunc", "--filter", f"label=io.pgs.instance={instance}"],
                     capture_output=True, text=True, check=True).stdout.split()
tick = os.sysconf("SC_CLK_TCK")

def cgroup_file(cid):
    for path in (f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage", f"/sys/fs/cgroup/docker/{cid}/cpu.stat",
                 f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat"):
        if os.path.exists(path):
            return path
    return None

files = [f for f in map(cgroup_file, ids) if f]

def cpu_seconds():
    with open(f"/proc/{gw_pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    gateway = (int(fields[11]) + int(fields[12])) / tick
    tenants = 0.0
    for path in files:
        text = open(path).read()
        if path.endswith("cpuacct.usage"):
            tenants += int(text) / 1e9
        else:
            tenants += int(next(l.split()[1] for l in text.splitlines() if l.startswith("usage_usec"))) / 1e6
    return gateway, tenants

def scrape():
    t = time.perf_counter()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=60).read().decode()
    return time.perf_counter() - t, body

first, body = scrape()
up = sum(1 for l in body.splitlines() if l.startswith("pgs_tenant_up{") and l.endswith(" 1"))
print(f"\nmetrics scrape with {up} running tenants answering ({len(files)} containers measured)")
print(f"  first scrape (opens one kept connection per tenant): {first:.2f} s")
window = 6.0
costs, walls = [], []
for _ in range(5):
    time.sleep(window)  # past the 5 s in which scrapes share a collection
    g0, t0 = cpu_seconds(); time.sleep(window); g1, t1 = cpu_seconds()
    idle = (g1 - g0) + (t1 - t0)
    g0, t0 = cpu_seconds(); wall, _ = scrape(); time.sleep(max(0.0, window - wall)); g1, t1 = cpu_seconds()
    costs.append(((g1 - g0) + (t1 - t0) - idle, g1 - g0))
    walls.append(wall)
costs.sort()
total, gateway = costs[len(costs) // 2]
print(f"  one scrape: {sorted(walls)[len(walls) // 2] * 1000:.0f} ms wall; CPU {total * 1000:.0f} ms in all over the "
      f"baseline (gateway {gateway * 1000:.0f} ms), median of 5")
print(f"  at a 15 s interval: {total / 15 * 100:.2f} % of one core (target < 1 %)")
EOF
