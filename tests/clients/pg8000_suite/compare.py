"""Compare two junit reports of pg8000's suite: one run direct against PostgreSQL, one through pgs.
Usage: compare.py DIRECT.xml GATEWAY.xml [ENDPOINT]
ENDPOINT: gateway (the default), pooled-session or pooled-auto.
Prints both counts and every test that passed direct but failed or errored through the gateway;
exits 1 if any of those is not allowed for that endpoint (tests that can only differ by design).
"""
import sys
import xml.etree.ElementTree as ET

# test id -> why it cannot pass through the gateway. Only tests that must differ by design.
ALLOWED = {
    "test.native.auth.test_scram-sha-256_ssl::test_scram_sha_256_plus_ssl_False":
        "asserts the connection is NOT TLS (ssl_context=False); through pgs every connection is",
    "test.native.auth.test_scram-sha-256::test_scram_sha_256_ssl_True":
        "turns ssl off on the server (ALTER SYSTEM, superuser) and expects 'Server refuses SSL'",
}


def load(path):
    """{test id: 'passed' | 'failed' | 'skipped'} from a junit XML file."""
    results = {}
    for case in ET.parse(path).iter("testcase"):
        tags = {child.tag for child in case}
        state = ("failed" if tags & {"failure", "error"} else
                 "skipped" if "skipped" in tags else "passed")
        results[f"{case.get('classname')}::{case.get('name')}"] = state
    return results


def summary(results):
    states = list(results.values())
    return ", ".join(f"{states.count(s)} {s}" for s in ("passed", "failed", "skipped"))


# Further differences of the pooled endpoint, by mode: test id -> why.
# Session mode has none: it must be indistinguishable from the direct endpoint.
NOT_SET = ("the server connections of a shared pool keep application_name pgs-pooler (the controller"
           " tells the pooler's idle connections from clients by it); the client is shown its own")
RENAMED = ("protocol-level prepared statements are renamed and shared between clients, and a Close"
           " forgets the statement for that client only: pg_prepared_statements still lists it")
NOT_BOUND = ("a client that holds no session state is bound to no backend: after another client"
             " terminates the backend its last transaction ran on, its next one runs on another")
OWN_PID = ("compares a notification's sender pid with pg_backend_pid() read before LISTEN, on a shared"
           " connection: in auto mode a client's own notifications carry the pid it was told at login"
           " (BackendKeyData: what libpq's PQbackendPID, psycopg, pgJDBC and asyncpg report), and"
           " the backend it reserves for LISTEN need not be the one that answered pg_backend_pid()")

ALLOWED_POOLED = {
    "pooled-session": {},
    "pooled-auto": {
        "test.dbapi.test_connection::test_application_name": NOT_SET,
        "test.legacy.test_connection::testApplicatioName": NOT_SET,
        "test.native.test_connection::test_application_name": NOT_SET,
        "test.legacy.test_query::test_close_prepared_statement": RENAMED,
        "test.native.test_query::test_close_prepared_statement": RENAMED,
        "test.native.test_connection::test_broken_pipe_flush": NOT_BOUND,
        "test.native.test_connection::test_broken_pipe_read": NOT_BOUND,
        "test.dbapi.test_connection::test_notify": OWN_PID,
        "test.dbapi.test_connection::test_notify_with_payload": OWN_PID,
        "test.legacy.test_connection::test_notify": OWN_PID,
        "test.legacy.test_connection::test_notify_with_payload": OWN_PID,
        "test.native.test_connection::test_notify": OWN_PID,
        "test.native.test_connection::test_notify_with_payload": OWN_PID,
    },
}


def main(direct_path, gateway_path, endpoint="gateway"):
    allowed = {**ALLOWED, **ALLOWED_POOLED.get(endpoint, {})}
    direct, gateway = load(direct_path), load(gateway_path)
    print(f"direct:  {summary(direct)}")
    print(f"gateway: {summary(gateway)}")
    lost = sorted(t for t, s in direct.items() if s == "passed" and gateway.get(t) != "passed")
    regressions = [t for t in lost if t not in allowed]
    for t in lost:
        if t in allowed:
            print(f"allowed: {t} ({gateway.get(t, 'missing')}): {allowed[t]}")
    both = sorted(t for t, s in direct.items() if s == "failed" and gateway.get(t) == "failed")
    for t in both:
        print(f"failed in both runs (the environment, not the gateway): {t}")
    for t in sorted(t for t, s in gateway.items() if s == "passed" and direct.get(t) == "failed"):
        print(f"failed direct only: {t}")
    for t in regressions:
        print(f"REGRESSION: {t} passed direct, {gateway.get(t, 'missing')} through the gateway")
    print(f"{len(regressions)} regressions, {len(lost) - len(regressions)} allowed differences")
    return 1 if regressions else 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
