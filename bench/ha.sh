#!/usr/bin/env bash
# High availability: how long writes stop after each kind of fault (docs/high-availability.md).
#
# Runs the HA test (tests/ha.rs) with ROUNDS rounds of its unplanned faults: three Docker
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
#   bench/ha.sh [ROUNDS]   (default 10; about 3 minutes a round, plus 5 minutes of setup)
#
# Needs root (network namespaces, three more dockerd), the test image (tests/image/build.sh),
# etcd and cargo-nextest, as tests/run.sh installs them. Removes the engines at the end (the
# test does). Exits non-zero if the test failed or a target was missed. The full log is kept in
# a temporary file, named at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-10}"
[ "$(id -u)" = 0 ] || { echo "needs root: it starts Docker engines in network namespaces" >&2; exit 1; }
command -v cargo-nextest >/dev/null || { echo "missing cargo-nextest: cargo install --locked cargo-nextest" >&2; exit 1; }

log="$(mktemp /tmp/pgs-bench-ha.XXXXXX.log)"
echo "running tests/ha.rs with PGS_HA_ROUNDS=$rounds (log: $log)"
# The ha-bench profile (.config/nextest.toml) lets the test run as long as its rounds take.
set +e
PGS_HA_ROUNDS="$rounds" cargo nextest run --profile ha-bench --test ha --no-capture 2>&1 \
  | tee "$log" | grep --line-buffered -E '^HA-RESULT '
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || echo "the HA test failed (exit $status): the figures below are of the faults before it failed" >&2

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
  }' || { [ "$status" != 0 ] || status=1; }
echo "log: $log"
exit "$status"
