"""Connects through the pgs gateway with psycopg 3 (its bundled libpq), runs a query, checks that
the client sees the backend's real process id (pg_backend_pid(), its own notifications,
pg_terminate_backend) and cancels a running pg_sleep(30). Usage: psycopg_check.py URL MODE [gateway-pid],
MODE one of classic | direct (sslnegotiation=direct) | proto32 (max_protocol_version=3.2).
With gateway-pid (the pooled endpoint in auto mode, where the client is told a pid before it has
a server connection of its own), pg_backend_pid() and pg_terminate_backend are not compared, but
the client still recognises its own notifications (the gateway gives them the pid it was told)."""
import sys
import threading
import time

import psycopg

url, mode = sys.argv[1], sys.argv[2]
gateway_pid = sys.argv[3:4] == ["gateway-pid"]
options = {
    "classic": {},
    "direct": {"sslnegotiation": "direct"},
    "proto32": {"max_protocol_version": "3.2"},
}[mode]
with psycopg.connect(url, connect_timeout=10, autocommit=True, **options) as conn:
    assert conn.execute("SELECT 1").fetchone()[0] == 1
    pid = conn.info.backend_pid
    real = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    assert gateway_pid or pid == real, f"BackendKeyData pid {pid} != pg_backend_pid() {real}"
    # A client recognises its own notifications by the pid in NotificationResponse.
    conn.execute("LISTEN pgs_check")
    conn.execute("NOTIFY pgs_check, 'hello'")
    note = next(conn.notifies(timeout=5, stop_after=1))
    assert note.pid == pid and note.payload == "hello", f"notification from pid {note.pid}, mine {pid}"
    # pg_terminate_backend(pid the client was given), from another session, ends that session.
    with psycopg.connect(url, connect_timeout=10, **options) as victim:
        if gateway_pid:
            # Its server's pid, which the victim holds for itself while it LISTENs.
            victim.execute("LISTEN pgs_victim")
            vpid = victim.execute("SELECT pg_backend_pid()").fetchone()[0]
        else:
            vpid = victim.info.backend_pid
        assert conn.execute("SELECT pg_terminate_backend(%s)", [vpid]).fetchone()[0]
        try:
            victim.execute("SELECT 1")
            sys.exit("pg_terminate_backend(backend_pid) did not end the session")
        except psycopg.OperationalError:
            pass
    threading.Timer(1.0, conn.cancel_safe).start()
    started = time.monotonic()
    try:
        conn.execute("SELECT pg_sleep(30)")
        sys.exit("query was not cancelled")
    except psycopg.errors.QueryCanceled:
        pass
    took = time.monotonic() - started
    what = "gateway's pid, own notifications, terminate" if gateway_pid else "real pid, own notifications, terminate"
    print(f"libpq {psycopg.pq.version()} mode={mode} {what} ok; cancel_after={took:.2f}s")
    sys.exit(0 if took < 3.0 else f"cancel took {took:.2f}s")
