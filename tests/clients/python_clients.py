"""asyncpg and pg8000 through the pgs gateway. Neither sends SNI when connecting by IP, so they
use the documented fallback: the tenant in the user name (USER.TENANT). The certificate chain is
verified against the local CA (the host name cannot be, for an IP).
Usage: python_clients.py CLIENT MODE HOST PORT TENANT PASSWORD CA_FILE [ENDPOINT]
  CLIENT asyncpg (MODE classic | direct) or pg8000 (MODE classic); ENDPOINT the host label
  (TENANT, the default, or TENANT-pooler)."""
import asyncio
import ssl
import sys
import time

client, mode, host, port, tenant, password, ca = sys.argv[1:8]
endpoint = sys.argv[8] if len(sys.argv) > 8 else tenant
context = ssl.create_default_context(cafile=ca)
context.check_hostname = False
if mode == "direct":
    # Like PostgreSQL 17+, the gateway requires ALPN "postgresql" on direct TLS; asyncpg sends
    # whatever the SSL context offers.
    context.set_alpn_protocols(["postgresql"])


async def with_asyncpg():
    import asyncpg

    conn = await asyncpg.connect(
        host=host, port=int(port), user=f"{tenant}.{endpoint}", password=password, database=tenant,
        ssl=context, direct_tls=(mode == "direct"), timeout=10,
    )
    assert await conn.fetchval("SELECT 1") == 1
    started = time.monotonic()
    try:
        # On timeout asyncpg sends a CancelRequest and waits for the server to cancel.
        await asyncio.wait_for(conn.execute("SELECT pg_sleep(30)"), timeout=1.0)
        sys.exit("query was not cancelled")
    except asyncio.TimeoutError:
        pass
    assert await conn.fetchval("SELECT 2") == 2
    took = time.monotonic() - started
    await conn.close()
    if took > 5:
        sys.exit(f"cancel took {took:.2f}s")
    return f"asyncpg {asyncpg.__version__}: query ok, cancel ok ({took:.2f}s)"


def with_pg8000():
    import pg8000.native

    conn = pg8000.native.Connection(
        user=f"{tenant}.{endpoint}", password=password, host=host, port=int(port), database=tenant,
        ssl_context=context, timeout=10,
    )
    assert conn.run("SELECT 1")[0][0] == 1
    conn.close()
    return f"pg8000 {pg8000.__version__}: query ok, cancel n/a (pg8000 has no cancel)"


if client == "asyncpg":
    print(asyncio.run(with_asyncpg()))
else:
    print(with_pg8000())
