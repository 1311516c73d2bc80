"""Connects through the pgs gateway with psycopg 3 (its bundled libpq), runs a query and
cancels a running pg_sleep(30). Usage: psycopg_check.py URL MODE, MODE one of
classic | direct (sslnegotiation=direct) | proto32 (max_protocol_version=3.2)."""
import sys
import threading
import time

import psycopg

url, mode = sys.argv[1], sys.argv[2]
options = {
    "classic": {},
    "direct": {"sslnegotiation": "direct"},
    "proto32": {"max_protocol_version": "3.2"},
}[mode]
with psycopg.connect(url, connect_timeout=10, **options) as conn:
    assert conn.execute("SELECT 1").fetchone()[0] == 1
    threading.Timer(1.0, conn.cancel_safe).start()
    started = time.monotonic()
    try:
        conn.execute("SELECT pg_sleep(30)")
        sys.exit("query was not cancelled")
    except psycopg.errors.QueryCanceled:
        pass
    took = time.monotonic() - started
    print(f"libpq {psycopg.pq.version()} mode={mode} cancel_after={took:.2f}s")
    sys.exit(0 if took < 3.0 else f"cancel took {took:.2f}s")
