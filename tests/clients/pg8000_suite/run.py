"""Run pg8000's own test suite (fetched by fetch.sh) against PostgreSQL or through the pgs gateway.
Usage: run.py --suite DIR --mode direct|gateway|pooled-session|pooled-auto --junit OUT.xml [--test-timeout S] [--total-timeout S]
Env: PGHOST, PGPORT, PGUSER (default postgres), PGPASSWORD, PGDATABASE (optional); the modes
through pgs also PGS_SNI_HOST (TLS server name sent and verified) and PGS_CA_FILE. pgs_plugin.py does the
overriding. pytest's output goes to OUT.xml.log; prints `pg8000 suite (MODE): N passed, ...`.
Exits 0 when the suite ran (whatever its results: compare.py judges), 2 when it could not run.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from compare import load, summary

HERE = Path(__file__).resolve().parent

ap = argparse.ArgumentParser()
ap.add_argument("--suite", required=True, help="directory fetch.sh unpacked (holds test/)")
ap.add_argument("--mode", required=True, choices=["direct", "gateway", "pooled-session", "pooled-auto"])
ap.add_argument("--junit", required=True)
ap.add_argument("--test-timeout", type=int, default=60, help="per test, with pytest-timeout")
ap.add_argument("--total-timeout", type=int, default=1200, help="whole run")
args = ap.parse_args()


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(2)


env = dict(os.environ, PGS_SUITE_MODE=args.mode)
env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
env.setdefault("PGUSER", "postgres")
need = ["PGHOST", "PGPORT"] + (["PGS_SNI_HOST", "PGS_CA_FILE"] if args.mode != "direct" else [])
missing = [v for v in need if not env.get(v)]
if missing:
    fail(f"run.py: set {', '.join(missing)}")
if not Path(args.suite, "test").is_dir():
    fail(f"run.py: no {args.suite}/test: run fetch.sh {args.suite} first")

junit = Path(args.junit).resolve()
junit.unlink(missing_ok=True)
cmd = [sys.executable, "-m", "pytest", "test", "-p", "pgs_plugin", "-p", "no:cacheprovider",
       f"--junitxml={junit}", "-o", "junit_family=xunit2", "-q", "-rfE", "--benchmark-disable",
       # README doctests connect to localhost:5432 as postgres/"cpsnow", never to PGHOST:PGPORT,
       # so they fail in both modes and would only reach whatever else listens there.
       "--deselect", "test/test_readme.py::test_readme"]
try:
    import pytest_timeout  # noqa: F401

    cmd.append(f"--timeout={args.test_timeout}")
except ImportError:
    pass

started = time.monotonic()
with open(f"{junit}.log", "w") as log:
    proc = subprocess.Popen(cmd, cwd=args.suite, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        code = proc.wait(timeout=args.total_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # the pytest process group we started
        proc.wait()
        fail(f"pg8000 suite ({args.mode}): killed after {args.total_timeout}s, see {junit}.log")
took = time.monotonic() - started
if code not in (0, 1) or not junit.exists():
    fail(f"pg8000 suite ({args.mode}): pytest exit {code}, see {junit}.log")
print(f"pg8000 suite ({args.mode}): {summary(load(junit))} ({took:.0f}s, log {junit}.log)")
