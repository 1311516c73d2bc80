"""Real clients through a tenant's pooled endpoint (TENANT-pooler), the ways that break poolers.
Usage: pooled_clients.py CHECK URL [ARGS...]; URL is the pooled URL of `pgs info --show-password`
(host TENANT-pooler.DOMAIN, hostaddr, sslrootcert). Prints one line; exits non-zero on failure.

  psycopg THREADS N   THREADS threads, a connection each, N rounds of named prepared statements
                      (prepare_threshold=0), in and out of transactions
  asyncpg CLIENTS N   CLIENTS connections at once (asyncpg prepares every query under a name),
                      N rounds each, explicit conn.prepare() reused across transactions
  refusals            LISTEN, a session advisory lock, SET ROLE and a SET inside a transaction
                      block get the clear error; a session SET is carried and does not leak
                      (run it on a pool of one)
  cancel              in a pool of one: a cancel from an idle client cancels nothing, the
                      running client's own cancel cancels its query
  many CLIENTS        CLIENTS connections at once, each runs a transaction, all complete
  held SECS           connects, runs a query, holds the connection idle for SECS, runs another
                      (prints the pids it got: a restart between is survived)
  session             in session mode: each client is told its server's real pid; a
                      notification reaches a client idle after LISTEN, with the sender's pid;
                      a client's own cancel cancels its query
  interleaved SEED STEPS
                      in auto mode on a small pool: STEPS random statements that make (or end)
                      session state (LISTEN, advisory locks, temporary tables, also made and
                      dropped by DO blocks, SQL PREPARE, WITH HOLD cursors, set_config(...,
                      false), SET ROLE) interleaved across four clients; after every step
                      one client looks at what its backend holds, which must be exactly its own
                      state (never another client's), and a refusal (53300) changes nothing
  auto                in auto mode on a pool of two (one reservation): LISTEN reserves the
                      listener's connection, a notification reaches it idle, another client
                      shares the other connection and never sees the listener's state, a third
                      client's advisory lock is refused (53300) until the listener's UNLISTEN,
                      and is released with the third's connection when it leaves
  reasons             in auto mode on a pool of one, for every reason to reserve: a client makes
                      the state, a second client's statement waits for the one connection, and
                      runs once the first ends its state (or leaves, for the state the server
                      cannot tell apart), without seeing any of it
"""
import asyncio
import ssl
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

import psycopg

check, url, *args = sys.argv[1:]


def asyncpg_params():
    """asyncpg connects by IP (no SNI): the tenant goes in the user name, USER.TENANT-pooler."""
    u = urlparse(url)
    q = {k: v[0] for k, v in parse_qs(u.query).items()}
    context = ssl.create_default_context(cafile=q["sslrootcert"])
    context.check_hostname = False
    endpoint = u.hostname.split(".")[0]
    return dict(host=q["hostaddr"], port=u.port, user=f"{u.username}.{endpoint}", password=u.password,
                database=u.path.lstrip("/"), ssl=context, timeout=30)


def with_psycopg(threads, rounds):
    errors = []

    def work(n):
        try:
            with psycopg.connect(url, prepare_threshold=0, autocommit=True, connect_timeout=30) as conn:
                for i in range(rounds):
                    assert conn.execute("SELECT %s::int + %s::int", [n, i]).fetchone()[0] == n + i
                    with conn.transaction():
                        conn.execute("CREATE TEMP TABLE IF NOT EXISTS scratch (v int) ON COMMIT DROP")
                        assert conn.execute("SELECT %s::text || 'x'", [str(i)]).fetchone()[0] == f"{i}x"
                    assert conn.execute("SELECT count(*) FROM generate_series(1, %s)", [i + 1]).fetchone()[0] == i + 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"thread {n}: {e!r}")

    ts = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        sys.exit("; ".join(errors[:5]))
    return f"psycopg {psycopg.__version__} prepare_threshold=0: {threads} threads x {rounds} rounds ok"


async def with_asyncpg(clients, rounds):
    import asyncpg

    params = asyncpg_params()

    async def work(n):
        conn = await asyncpg.connect(**params)
        try:
            stmt = await conn.prepare("SELECT $1::int * 2")
            for i in range(rounds):
                assert await conn.fetchval("SELECT $1::int + 1", i) == i + 1
                async with conn.transaction():
                    assert await stmt.fetchval(n) == 2 * n
                    rows = await conn.fetch("SELECT g FROM generate_series(1, $1) g", 3)
                    assert [r["g"] for r in rows] == [1, 2, 3]
                assert await stmt.fetchval(i) == 2 * i
        finally:
            await conn.close()

    await asyncio.gather(*(work(n) for n in range(clients)))
    return f"asyncpg {asyncpg.__version__}: {clients} connections x {rounds} rounds of named statements ok"


def refusals():
    with psycopg.connect(url, autocommit=True, connect_timeout=30) as conn, \
            psycopg.connect(url, autocommit=True, connect_timeout=30) as other:
        seen = []
        for sql in ["LISTEN jobs", "SELECT pg_advisory_lock(1)", "SET ROLE postgres"]:
            try:
                conn.execute(sql)
                sys.exit(f"{sql!r} was not refused")
            except psycopg.errors.FeatureNotSupported as e:
                text = f"{e} {e.diag.message_hint or ''}"
                assert "pooled endpoint" in text and "direct endpoint" in text, text
                seen.append(" ".join(sql.split()[:2]))
        assert conn.execute("SELECT 1").fetchone()[0] == 1
        # Inside a transaction, what ends with it works; a session SET does not.
        with conn.transaction():
            conn.execute("SET LOCAL statement_timeout = '5s'")
            assert conn.execute("SELECT pg_advisory_xact_lock(1)") is not None
            try:
                conn.execute("SET work_mem = '8MB'")
                sys.exit("a session SET inside a transaction block was not refused")
            except psycopg.errors.FeatureNotSupported:
                seen.append("SET in a transaction")
                raise psycopg.Rollback()
        # A session SET outside a transaction is carried: it stays the client's on every server
        # connection that serves it, and never reaches another client (a pool of one: both
        # clients use the same server connection).
        conn.execute("SET statement_timeout = '1234ms'")
        for _ in range(3):
            assert conn.execute("SHOW statement_timeout").fetchone()[0] == "1234ms"
            assert other.execute("SHOW statement_timeout").fetchone()[0] == "0", "a SET leaked to another client"
        conn.execute("RESET statement_timeout")
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "0"
        return "refused with the clear error: " + ", ".join(seen) + "; SET LOCAL and xact locks work; session SET carried, not leaked"


def cancel():
    running = psycopg.connect(url, autocommit=True, connect_timeout=30)
    idle = psycopg.connect(url, autocommit=True, connect_timeout=30)
    result = {}

    def sleep(seconds, key):
        started = time.monotonic()
        try:
            running.execute(f"SELECT pg_sleep({seconds})")
            result[key] = ("done", time.monotonic() - started)
        except psycopg.errors.QueryCanceled:
            result[key] = ("cancelled", time.monotonic() - started)

    t = threading.Thread(target=sleep, args=(2, "first"))
    t.start()
    time.sleep(0.5)
    idle.cancel_safe()  # the idle client's key: must not reach the running query
    t.join()
    assert result["first"][0] == "done", f"the idle client's cancel hit another client: {result}"
    t = threading.Thread(target=sleep, args=(30, "second"))
    t.start()
    time.sleep(0.5)
    running.cancel_safe()
    t.join()
    assert result["second"][0] == "cancelled" and result["second"][1] < 5, result
    assert idle.execute("SELECT 7").fetchone()[0] == 7
    running.close()
    idle.close()
    return f"cancel: idle client's cancel touched nothing, own cancel took {result['second'][1]:.2f}s"


async def many(clients):
    import asyncpg

    params = asyncpg_params()
    started = time.monotonic()

    async def one(n):
        conn = await asyncpg.connect(**params)
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_sleep(0.01)")
                return await conn.fetchval("SELECT $1::int", n)
        finally:
            await conn.close()

    got = await asyncio.gather(*(one(n) for n in range(clients)))
    assert sorted(got) == list(range(clients))
    return f"{clients} clients completed in {time.monotonic() - started:.2f}s"


def held(seconds):
    with psycopg.connect(url, autocommit=True, connect_timeout=30) as conn:
        a = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        time.sleep(float(seconds))
        b = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        return f"pids {a} {b}"


def session():
    listener = psycopg.connect(url, autocommit=True, connect_timeout=30)
    sender = psycopg.connect(url, autocommit=True, connect_timeout=30)
    for conn in (listener, sender):
        real = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        assert conn.info.backend_pid == real, f"told pid {conn.info.backend_pid}, the server's is {real}"
    listener.execute("LISTEN jobs")
    time.sleep(0.3)  # the listener is idle: no query of its own runs when the notification comes
    sender.execute("NOTIFY jobs, 'hello'")
    started = time.monotonic()
    got = next(listener.notifies(timeout=5, stop_after=1), None)
    assert got is not None, "no notification within 5 s"
    assert (got.channel, got.payload, got.pid) == ("jobs", "hello", sender.info.backend_pid), got
    waited = time.monotonic() - started
    result = {}

    def sleep():
        try:
            listener.execute("SELECT pg_sleep(30)")
            result["sleep"] = "done"
        except psycopg.errors.QueryCanceled:
            result["sleep"] = "cancelled"

    t = threading.Thread(target=sleep)
    t.start()
    time.sleep(0.5)
    listener.cancel_safe()
    t.join(10)
    assert result.get("sleep") == "cancelled", result
    listener.close()
    sender.close()
    return f"session: real pids, notification to an idle listener in {waited * 1000:.0f} ms, own cancel works"


def auto():
    def connect():
        return psycopg.connect(url, autocommit=True, connect_timeout=30)

    def pid(conn):
        return conn.execute("SELECT pg_backend_pid()").fetchone()[0]

    listener, other, third = connect(), connect(), connect()
    listener.execute("LISTEN jobs")
    own = pid(listener)
    assert other.execute("SELECT pg_listening_channels()").fetchall() == [], "the listener's state leaked"
    assert pid(other) != own, "another client got the listener's reserved connection"
    time.sleep(0.3)
    other.execute("NOTIFY jobs, 'hello'")
    got = next(listener.notifies(timeout=5, stop_after=1), None)
    assert got is not None and got.payload == "hello", got
    assert pid(listener) == own, "the listener lost its connection between transactions"
    try:
        third.execute("SELECT pg_advisory_lock(1)")
        raise AssertionError("a second reservation on a pool of two was allowed")
    except psycopg.errors.TooManyConnections as e:
        direct = urlparse(url).hostname.replace("-pooler.", ".", 1)
        assert "reserve" in e.diag.message_primary and direct in (e.diag.message_hint or ""), e.diag.message_hint
        refusal = e.diag.message_primary
    # The listener ends its state: its connection is shared again, and the one reservation free.
    listener.execute("UNLISTEN *")
    time.sleep(0.3)  # the pooler asks the server right after the client's transaction
    third.execute("SELECT pg_advisory_lock(1)")
    mine = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    assert third.execute(mine).fetchone()[0] == 1
    assert other.execute(mine).fetchone()[0] == 0, "another client sees the third's lock"
    assert listener.execute(mine).fetchone()[0] == 0, "the listener sees the third's lock"
    # The third leaves holding its lock: the connection is reset before anyone else gets it.
    third.close()
    time.sleep(0.5)
    assert other.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0
    listener.execute("LISTEN again")
    assert listener.execute("SELECT pg_listening_channels()").fetchall() == [("again",)]
    for conn in (listener, other):
        conn.close()
    return f"auto: LISTEN reserved until UNLISTEN, notification delivered, no state leaked, limit: {refusal}"


# reason -> (statements that make the state, statements that end it (None: the client leaves),
# a query that shows the state: its answer must be "0" on a clean connection).
REASONS = {
    "listen": (["LISTEN jobs"], ["UNLISTEN jobs"], "SELECT count(*) FROM pg_listening_channels()"),
    "advisory_lock": (["SELECT pg_advisory_lock(7)"], ["SELECT pg_advisory_unlock(7)"],
                      "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"),
    # The owner of the database is a member of pg_database_owner.
    "set_role": (["SET ROLE pg_database_owner"], ["RESET ROLE"], "SELECT (current_user <> session_user)::int"),
    "session_characteristics": (["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"], None,
                                "SELECT (current_setting('default_transaction_read_only') = 'on')::int"),
    "set": (["SET work_mem = '7MB'; SELECT 1"], None, "SELECT (current_setting('work_mem') = '7MB')::int"),
    "set_in_transaction": (["BEGIN", "SET work_mem = '9MB'", "COMMIT"], None,
                           "SELECT (current_setting('work_mem') = '9MB')::int"),
    "hold_cursor": (["DECLARE c CURSOR WITH HOLD FOR SELECT 1"], ["CLOSE c"],
                    "SELECT count(*) FROM pg_cursors WHERE is_holdable"),
    "temp_table": (["CREATE TEMP TABLE t (x int)"], ["DROP TABLE t"],
                   "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"),
    "prepare": (["PREPARE p AS SELECT 1"], ["DEALLOCATE p"],
                "SELECT count(*) FROM pg_prepared_statements WHERE from_sql"),
    "backend": (["SELECT set_config('pgs.x', 'v', false)"], None,
                "SELECT (coalesce(current_setting('pgs.x', true), '') = 'v')::int"),
    "routine": (["DO $$BEGIN EXECUTE 'CREATE TEMP TABLE d (x int)'; END$$"], ["DROP TABLE d"],
                "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"),
}


def reasons():
    def connect():
        return psycopg.connect(url, autocommit=True, connect_timeout=30, prepare_threshold=None)

    done = []
    for reason, (make, end, probe) in REASONS.items():
        holder, waiter = connect(), connect()
        for sql in make:
            holder.execute(sql)
        assert holder.execute(probe).fetchone()[0] != 0, f"{reason}: the state was not made"
        result = {}

        def wait():
            started = time.monotonic()
            result["seen"] = waiter.execute(probe).fetchone()[0]
            result["waited"] = time.monotonic() - started

        t = threading.Thread(target=wait)
        t.start()
        time.sleep(0.8)
        assert t.is_alive(), f"{reason}: the second client ran while the first held the pool's one connection"
        if end is None:
            holder.close()
        else:
            for sql in end:
                holder.execute(sql)
        t.join(10)
        assert not t.is_alive(), f"{reason}: the second client still waits after the first ended its state"
        assert result["seen"] == 0, f"{reason}: the second client sees the first's state"
        done.append(f"{reason} {result['waited']:.1f}s")
        for conn in (holder, waiter):
            conn.close()
    return "reasons: each waited for the holder, then saw none of its state: " + ", ".join(done)


def interleaved(seed, steps):
    import random

    rng = random.Random(seed)
    def connect():
        # No automatic prepared statements: psycopg sends DEALLOCATE ALL after a DROP when it
        # has some, which would end the client's SQL PREPAREs behind the model's back.
        return psycopg.connect(url, autocommit=True, connect_timeout=30, prepare_threshold=None)

    clients = [connect() for _ in range(4)]
    login = clients[0].execute("SELECT session_user").fetchone()[0]
    # What each client holds: kind -> set of names.
    # "dotemp" is a temporary table made and dropped by DO blocks (which the pooler cannot read:
    # the server is asked after them); "config" a setting changed by set_config(..., false).
    kinds = ("listen", "lock", "temp", "dotemp", "prepare", "cursor", "config", "role")
    state = [{k: set() for k in kinds} for _ in clients]
    look = (
        "SELECT (SELECT coalesce(array_agg(c ORDER BY c), '{}') FROM pg_listening_channels() c),"
        " (SELECT coalesce(array_agg(objid::int ORDER BY objid), '{}') FROM pg_locks"
        "   WHERE locktype = 'advisory' AND pid = pg_backend_pid()),"
        " (SELECT coalesce(array_agg(relname::text ORDER BY relname), '{}') FROM pg_class"
        "   WHERE relnamespace = pg_my_temp_schema() AND relkind = 'r'),"
        " (SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM pg_prepared_statements WHERE from_sql),"
        " (SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM pg_cursors WHERE is_holdable),"
        " current_user <> session_user,"
        # Custom settings are not in pg_settings: ask for every name the test may set.
        " (SELECT coalesce(array_agg(n ORDER BY n), '{}') FROM unnest(ARRAY["
        + ", ".join(f"'pgs.c{i}_{n}'" for i in range(len(clients)) for n in range(3))
        + "]) n WHERE coalesce(current_setting(n, true), '') <> '')"
    )
    counts = {"ok": 0, "refused": 0, "looks": 0, "reconnects": 0}
    history = [[] for _ in clients]

    def step(i):
        c, mine = clients[i], state[i]
        n = rng.randrange(3)
        kind = rng.choice(kinds)
        name = f"c{i}_{kind}{n}"
        if kind == "listen":
            make, end = f"LISTEN {name}", f"UNLISTEN {name}"
        elif kind == "lock":
            key = i * 10 + n
            name = key
            make, end = f"SELECT pg_advisory_lock({key})", f"SELECT pg_advisory_unlock({key})"
        elif kind == "temp":
            make, end = f"CREATE TEMP TABLE {name} (x int)", f"DROP TABLE {name}"
        elif kind == "prepare":
            make, end = f"PREPARE {name} AS SELECT {n}", f"DEALLOCATE {name}"
        elif kind == "dotemp":
            make = f"DO $$BEGIN EXECUTE 'CREATE TEMP TABLE {name} (x int)'; END$$"
            end = f"DO $$BEGIN EXECUTE 'DROP TABLE {name}'; END$$"
        elif kind == "cursor":
            make, end = f"DECLARE {name} CURSOR WITH HOLD FOR SELECT {n}", f"CLOSE {name}"
        elif kind == "config":
            name = f"pgs.c{i}_{n}"
            make, end = f"SELECT set_config('{name}', 'v', false)", f"SELECT set_config('{name}', '', false)"
        else:
            name = "role"
            # To the login role itself: another role could not drop the tables this client made
            # (the "reasons" check sets a visible role).
            make, end = f"SET ROLE \"{login}\"", "RESET ROLE"
        ending = name in mine[kind]
        try:
            c.execute(end if ending else make)
            counts["ok"] += 1
            history[i].append(end if ending else make)
        except psycopg.errors.TooManyConnections:
            counts["refused"] += 1
            history[i].append(f"refused: {end if ending else make}")
            return
        if ending:
            mine[kind].discard(name)
        else:
            mine[kind].add(name)

    def check(i):
        row = clients[i].execute(look + ", pg_backend_pid()").fetchone()
        history[i].append(f"look @{row[7]}")
        counts["looks"] += 1
        temp = set(row[2])
        seen = {
            "listen": set(row[0]), "lock": set(row[1]),
            "temp": {t for t in temp if "_temp" in t}, "dotemp": {t for t in temp if "_dotemp" in t},
            "prepare": set(row[3]), "cursor": set(row[4]), "config": set(row[6]),
        }
        # SET ROLE to the login role itself changes nothing visible: compare the rest.
        for k in seen:
            assert seen[k] == state[i][k], f"client {i} sees {k} {seen[k]}, holds {state[i][k]} (seed {seed}); its statements: {history[i][-12:]}"

    for _ in range(steps):
        i = rng.randrange(len(clients))
        if rng.random() < 0.1:
            # It leaves, whatever it holds: its connection is reset before anyone else gets it.
            clients[i].close()
            clients[i] = connect()
            state[i] = {k: set() for k in kinds}
            counts["reconnects"] += 1
            history[i].append("reconnected")
        step(i)
        check(rng.randrange(len(clients)))
    for c in clients:
        c.close()
    return f"interleaved (seed {seed}): {counts['ok']} statements, {counts['refused']} refused at the limit, {counts['looks']} looks, {counts['reconnects']} reconnects, no state seen by another client"


if check == "psycopg":
    print(with_psycopg(int(args[0]), int(args[1])))
elif check == "asyncpg":
    print(asyncio.run(with_asyncpg(int(args[0]), int(args[1]))))
elif check == "refusals":
    print(refusals())
elif check == "cancel":
    print(cancel())
elif check == "many":
    print(asyncio.run(many(int(args[0]))))
elif check == "held":
    print(held(args[0]))
elif check == "session":
    print(session())
elif check == "auto":
    print(auto())
elif check == "reasons":
    print(reasons())
elif check == "interleaved":
    print(interleaved(int(args[0]), int(args[1])))
else:
    sys.exit(f"unknown check {check}")
