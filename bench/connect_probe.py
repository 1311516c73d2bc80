#!/usr/bin/env python3
"""Connects again and again (libpq through psycopg: TLS, startup, SCRAM, one query) from a few
threads for a while, and prints one JSON line: attempts, failures, and connect-to-first-row
latency (p50, p99, longest, in ms).

    bench/connect_probe.py CONNINFO SECONDS [THREADS]
"""
import json
import sys
import threading
import time

import psycopg

conninfo, seconds = sys.argv[1], float(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 4
deadline = time.monotonic() + seconds
lock = threading.Lock()
latencies, failures, errors = [], 0, []


def run():
    global failures
    while time.monotonic() < deadline:
        t = time.monotonic()
        try:
            with psycopg.connect(conninfo, connect_timeout=10) as conn:
                conn.execute("SELECT 1").fetchone()
            ok = True
        except Exception as e:  # every failure counts, whatever its kind
            ok = False
            with lock:
                errors.append(str(e).strip().splitlines()[0])
        with lock:
            latencies.append(time.monotonic() - t)
            failures += 0 if ok else 1


workers = [threading.Thread(target=run) for _ in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
latencies.sort()
ms = lambda q: round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1) if latencies else 0
print(json.dumps({
    "attempts": len(latencies),
    "failures": failures,
    "p50_ms": ms(0.5),
    "p99_ms": ms(0.99),
    "max_ms": round(1000 * latencies[-1], 1) if latencies else 0,
    "errors": sorted(set(errors))[:3],
}))
