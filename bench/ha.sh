#!/usr/bin/env bash
# High availability (docs/high-availability.md): how long writes stop after each kind of fault,
# and what HA costs in write throughput and in idle memory and CPU.
#
# Faults: runs the HA test (tests/ha.rs) with ROUNDS rounds of its unplanned faults: three Docker
# engines in network namespaces of their own stand in for three hosts (tests/swarm/node.sh), a
# tenant has its primary on one node and a synchronous standby on another, 16 writers insert
# through the gateways, and the test injects the faults one after another (docker-kill, kill-9,
# node-cut, one-way-cut, agent-paused, engine-stopped ROUNDS times; two switchovers and the two
# store faults once). It checks what it always checks (no acknowledged write lost, never two
# primaries); this script collects the `HA-RESULT KIND SECONDS PROMOTED` line of every fault:
#   - SECONDS: from the fault to the acknowledged write that ended the outage (for
#     `switchover`, the write gap pgs measured);
#   - PROMOTED: whether the primary ended up on the other node.
# and prints, per kind of fault: count, p50, p95 and max seconds, how many promoted, and the
# target with PASS or FAIL: p95 at most 15 s for an unplanned fault, at most 2 s for a
# switchover; none for store-quorum-lost, where writes stop on purpose until the store is back
# (the test keeps it without quorum for 15 s). The store faults run once per run: their p95 is
# their one figure.
#
# Costs: runs the ignored test `bench_write_tps_and_idle_cost` of tests/ha.rs on the same three
# engines, and prints its `HA-BENCH` lines as tables:
#   - write TPS (`pgbench -N -c 8 -j 2`, scale 5, PGS_BENCH_SECONDS s a run, default 15, through
#     the manager's gateway), median of PGS_BENCH_TPS_ROUNDS interleaved rounds (default 3), of a
#     plain tenant, of an HA tenant with its synchronous standby, and of the same tenant
#     asynchronous (`synchronous_commit = local` for its role: the standby still streams), with
#     the ratios sync/plain and async/plain; both tenants have their primary on n2;
#   - idle cost: after 60 s idle, `docker stats` every 5 s for 30 s: CPU (% of one core) and
#     memory of the plain tenant, of the HA tenant's primary and standby, of pgs-agent and
#     pgs-etcd on each node;
#   - the same with PGS_BENCH_HA_TENANTS HA tenants (default 100; the others with --memory 128m,
#     created 4 at a time): per-tenant primary and standby, agents and store members (and their
#     change from one HA tenant), and how long the creates took.
#
#   bench/ha.sh [ROUNDS] [--faults-only|--costs-only]
#     (ROUNDS: fault rounds, default 10; about 3 minutes a round, plus 5 minutes of setup; the
#     costs part takes about 30 minutes, most of it creating the HA tenants)
#
# Needs root (network namespaces, three more dockerd), the test image (tests/image/build.sh),
# etcd, cargo-nextest, and moto and HAProxy (the fault test keeps the tenant's backups in S3, so
# its switchovers and failovers run with WAL archiving on), as tests/run.sh installs them, and pgbench for the costs (installed
# with postgresql-contrib when missing). Removes the engines at the end (the tests do). Exits
# non-zero if a test failed or a fault target was missed. The full logs are kept in temporary
# files, named at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=10
faults=1
costs=1
for arg in "$@"; do
  case "$arg" in
    --faults-only) costs=0 ;;
    --costs-only) faults=0 ;;
    ''|*[!0-9]*) echo "usage: bench/ha.sh [ROUNDS] [--faults-only|--costs-only]" >&2; exit 2 ;;
    *) rounds="$arg" ;;
  esac
done
[ "$faults" = 1 ] || [ "$costs" = 1 ] || { echo "--faults-only and --costs-only exclude each other" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "needs root: it starts Docker engines in network namespaces" >&2; exit 1; }
command -v cargo-nextest >/dev/null || { echo "missing cargo-nextest: cargo install --locked cargo-nextest" >&2; exit 1; }
if [ "$costs" = 1 ] && ! command -v pgbench >/dev/null; then
  echo "installing pgbench (postgresql-contrib)"
  apt-get install -y -q postgresql-contrib >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && apt-get install -y -q postgresql-contrib >/dev/null; }
fi

status=0
logs=()

run_faults() {
  local log test_status
  log="$(mktemp /tmp/pgs-bench-ha.XXXXXX.log)"
  logs+=("$log")
  echo "running tests/ha.rs with PGS_HA_ROUNDS=$rounds (log: $log)"
  # The ha-bench profile (.config/nextest.toml) lets the test run as long as its rounds take.
  set +e
  PGS_HA_ROUNDS="$rounds" cargo nextest run --profile ha-bench --test ha --no-capture 2>&1 \
    | tee "$log" | grep --line-buffered -E '^HA-RESULT '
  test_status=${PIPESTATUS[0]}
  set -e
  [ "$test_status" = 0 ] || { echo "the HA test failed (exit $test_status): the figures below are of the faults before it failed" >&2; status=1; }

  echo
  grep -E '^HA-RESULT ' "$log" | awk '
    {
      n[$2]++; v[$2, n[$2]] = $3 + 0; if ($4 == "true") promoted[$2]++
      if (!($2 in seen)) { seen[$2] = 1; order[++kinds] = $2 }
    }
    # The nearest-rank q-quantile of the seconds of one kind of fault.
    function quantile(kind, q,   i, j, t, a, k, r) {
      k = n[kind]
      for (i = 1; i <= k; i++) a[i] = v[kind, i]
      for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
      r = int(q * k); if (r < q * k) r++; if (r < 1) r = 1
      return a[r]
    }
    END {
      if (kinds == 0) { print "no HA-RESULT lines"; exit 1 }
      printf "%-18s %5s %7s %7s %7s %9s  %-12s %s\n", "fault", "count", "p50 s", "p95 s", "max s", "promoted", "target", ""
      failed = 0
      for (i = 1; i <= kinds; i++) {
        kind = order[i]
        p95 = quantile(kind, 0.95)
        if (kind == "store-quorum-lost") {
          # Writes stop on purpose while the store has no quorum (the test holds it 15 s).
          goal = "none"; verdict = ""
        } else {
          target = (kind == "switchover") ? 2 : 15
          goal = sprintf("p95 <= %d s", target)
          verdict = (p95 <= target) ? "PASS" : "FAIL"
          if (verdict == "FAIL") failed = 1
        }
        printf "%-18s %5d %7.2f %7.2f %7.2f %9s  %-12s %s\n", kind, n[kind], quantile(kind, 0.5), p95, quantile(kind, 1),
          (promoted[kind] + 0) "/" n[kind], goal, verdict
      }
      exit failed
    }' || status=1
}

run_costs() {
  local log test_status
  log="$(mktemp /tmp/pgs-bench-ha-costs.XXXXXX.log)"
  logs+=("$log")
  echo "running bench_write_tps_and_idle_cost of tests/ha.rs (log: $log)"
  set +e
  cargo nextest run --profile ha-bench --test ha --run-ignored only -E 'test(bench_write_tps_and_idle_cost)' --no-capture 2>&1 \
    | tee "$log" | grep --line-buffered -E '^(round [0-9]+ of|created [0-9]+ of|idle|[0-9]+ HA tenants created)'
  test_status=${PIPESTATUS[0]}
  set -e
  [ "$test_status" = 0 ] || { echo "the HA cost benchmark failed (exit $test_status)" >&2; status=1; }

  echo
  grep -E '^HA-BENCH ' "$log" | awk '
    { $1 = ""; sub(/^ /, "") }
    $1 == "seconds" { secs = $2; rounds = $4; tenants = $6; samples = $8; next }
    $1 == "tps" { tps[$2] = $3; line = ""; for (i = 4; i <= NF; i++) line = line " " $i; runs[$2] = line; next }
    $1 == "create" { created = $2; total = $3; p50 = $4; max = $5; next }
    $1 == "idle" { order1[++n1] = $2; cpu1[$2] = $3; mem1[$2] = $4; next }
    $1 ~ /^idle-/ { order2[++n2] = $2; cpu2[$2] = $3; mem2[$2] = $4; next }
    function ratio(a, b) { return (b > 0) ? sprintf("%.2f", a / b) : "-" }
    END {
      if (!("plain" in tps) && n1 == 0) { print "no HA-BENCH lines"; exit 1 }
      printf "write TPS: pgbench -N -c 8 -j 2, %s s a run through the manager'"'"'s gateway, median of %s rounds\n", secs, rounds
      printf "  %-34s %8s  %-18s %s\n", "", "TPS", "ratio", "rounds"
      printf "  %-34s %8.0f  %-18s %s\n", "without HA (plain)", tps["plain"], "", runs["plain"]
      printf "  %-34s %8.0f  %-18s %s\n", "HA, synchronous standby", tps["sync"], "sync/plain " ratio(tps["sync"], tps["plain"]), runs["sync"]
      printf "  %-34s %8.0f  %-18s %s\n", "HA, asynchronous (commit = local)", tps["async"], "async/plain " ratio(tps["async"], tps["plain"]), runs["async"]
      if (n1 == 0) exit 1
      printf "\nidle, one HA tenant against a plain one (docker stats, average of %s samples over 30 s after 60 s idle; CPU %% of one core)\n", samples
      printf "  %-24s %8s %9s\n", "container@node", "CPU %", "mem MiB"
      for (i = 1; i <= n1; i++) {
        k = order1[i]; printf "  %-24s %8.2f %9.1f\n", k, cpu1[k], mem1[k]
        if (k ~ /^plain@/) { pc = cpu1[k]; pm = mem1[k] }
        if (k ~ /^ha-(primary|standby)@/) { hc += cpu1[k]; hm += mem1[k] }
      }
      printf "  the HA pair against the plain tenant: memory %s x, CPU %s x\n", ratio(hm, pm), ratio(hc, pc)
      if (n2 == 0) exit 1
      printf "\nwith %s HA tenants (%s more created 4 at a time in %.0f s; p50 %.1f s, max %.1f s a create)\n", tenants, created, total, p50, max
      printf "  %-24s %8s %9s   %s\n", "container@node", "CPU %", "mem MiB", "change from one HA tenant"
      for (i = 1; i <= n2; i++) {
        k = order2[i]; change = ""
        if (k in mem1) change = sprintf("%+.2f %% CPU, %+.1f MiB", cpu2[k] - cpu1[k], mem2[k] - mem1[k])
        printf "  %-24s %8.2f %9.1f%s\n", k, cpu2[k], mem2[k], (change == "") ? "" : "   " change
      }
      print "  (-each: one tenant'"'"'s container, averaged; -all: all of them on that node)"
    }' || status=1
}

if [ "$faults" = 1 ]; then run_faults; fi
if [ "$costs" = 1 ]; then run_costs; fi
echo "log: ${logs[*]}"
exit "$status"
