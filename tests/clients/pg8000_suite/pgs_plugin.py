"""pytest plugin (run.py loads it with `-p pgs_plugin`) that points pg8000's own suite at pgs.

The suite's conftest files build `db_kwargs` as {user: "postgres", password: PGPASSWORD or "pw",
host: PGHOST, port: PGPORT} and every test connects with it (pg8000's default ssl_context=None:
TLS if the server offers it, unverified, else plain).
- Both modes: db_kwargs["user"] = PGUSER (default postgres), db_kwargs["database"] = PGDATABASE
  if set (tests that pick their own user or database still do so).
- Gateway modes (PGS_SUITE_MODE=gateway, pooled-session, pooled-auto): pg8000.core._make_socket is wrapped so that every TCP
  connection to PGHOST:PGPORT (or pre-connected socket to it) is wrapped in TLS with SNI
  PGS_SNI_HOST, verified against PGS_CA_FILE (chain and host name), whatever ssl_context or
  pre-connected sock the test passed. Connections elsewhere (the suite's "connection refused" and
  unix-socket tests, README examples aimed at localhost:5432) are left alone. The wrap is installed after collection, so test_core's
  unit test of _make_socket keeps the original.
"""
import os
import socket
import ssl

import pytest

MODE = os.environ.get("PGS_SUITE_MODE", "direct")
stats = {"tls": 0, "untouched": 0}


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    outcome = yield
    if fixturedef.argname == "db_kwargs" and outcome.excinfo is None:
        kwargs = outcome.get_result()  # the suite's dict, cached for the class: edit in place
        kwargs["user"] = os.environ.get("PGUSER", "postgres")
        if os.environ.get("PGDATABASE"):
            kwargs["database"] = os.environ["PGDATABASE"]


def pytest_collection_finish(session):
    if MODE == "direct":
        return
    import pg8000.core

    target = (os.environ["PGHOST"], int(os.environ["PGPORT"]))
    sni = os.environ["PGS_SNI_HOST"]
    context = ssl.create_default_context(cafile=os.environ["PGS_CA_FILE"])  # verifies host name
    original = pg8000.core._make_socket

    def to_target(sock):  # is this pre-connected socket (e.g. test_Connection_plain_socket's) ours?
        try:
            peer = sock.getpeername()[:2]
        except (OSError, AttributeError, TypeError):
            return False
        return peer[1] == target[1] and peer[0] in {a[4][0] for a in socket.getaddrinfo(*target)}

    def make_socket(unix_sock, sock, host, port, timeout, source_address, keepalive, _ssl):
        aimed = host == target[0] and str(port) == str(target[1])  # README passes port as str
        if unix_sock is None and sock is None and aimed:
            try:
                sock = socket.create_connection(target, timeout, source_address)
            except OSError as e:
                raise pg8000.core.InterfaceError(f"Can't create a connection to {target}") from e
            if keepalive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        elif unix_sock is not None or not to_target(sock):
            stats["untouched"] += 1
            return original(unix_sock, sock, host, port, timeout, source_address, keepalive, _ssl)
        try:  # TLS with SNI and full verification, whatever ssl_context the test asked for
            tls = original(None, sock, sni, port, timeout, source_address, keepalive, context)
        except BaseException:
            sock.close()
            raise
        assert isinstance(tls, ssl.SSLSocket) and tls.server_hostname == sni
        stats["tls"] += 1
        return tls

    pg8000.core._make_socket = make_socket


def pytest_terminal_summary(terminalreporter):
    if MODE != "direct":
        terminalreporter.write_line(
            f"pgs: {stats['tls']} connections made with TLS, SNI {os.environ['PGS_SNI_HOST']},"
            f" verified against {os.environ['PGS_CA_FILE']}; {stats['untouched']} left alone"
        )
