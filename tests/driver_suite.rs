//! A driver's own test suite through the gateway: pg8000's tests (from its source distribution,
//! fetched by `tests/run.sh` into `target/pg8000-suite`, never kept in this repository) run
//! straight against one tenant, through the gateway (SNI, verify-full) against another, and
//! through the pooled endpoint in session mode and in auto mode against two more. A test that
//! passes direct but fails through the gateway fails this test, unless
//! `tests/clients/pg8000_suite/compare.py` lists it as different by design for that endpoint
//! (with the reason).
//!
//! Both runs log in as the tenant instance's superuser `postgres` (the suite's user is fixed, and
//! some of its tests change server settings and create roles and databases): each on a tenant of
//! its own, created for this test and removed after it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{GatewayProc, Home, unique};

fn suite_dir() -> PathBuf {
    std::env::var_os("PGS_PG8000_SUITE").map(PathBuf::from).unwrap_or_else(|| {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
        target.join("pg8000-suite")
    })
}

fn superuser_password(home: &Home, id: &str) -> String {
    let secrets = std::fs::read(home.path().join("secrets").join(format!("{id}.json"))).unwrap();
    let secrets: serde_json::Value = serde_json::from_slice(&secrets).unwrap();
    secrets["superuser_password"].as_str().unwrap().to_string()
}

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pg8000_suite")
}

fn show(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn pg8000_suite_passes_through_the_gateway_as_it_does_direct() {
    let suite = suite_dir();
    assert!(
        suite.join("test").is_dir(),
        "pg8000's suite is not in {}: run `tests/clients/pg8000_suite/fetch.sh {0}` (tests/run.sh does)",
        suite.display()
    );
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let (direct, through, session, auto) = (unique("drv"), unique("drv"), unique("drv"), unique("drv"));
    let direct_doc = home.create(&direct);
    for id in [&through, &session, &auto] {
        home.create(id);
    }
    home.ok(&["pool", &session, "--mode", "session"]);
    home.ok(&["pool", &auto, "--mode", "auto"]);
    let reports = tempfile::tempdir().unwrap();
    let junit = |mode: &str| reports.path().join(format!("{mode}.xml"));

    let run = |mode: &str, env: Vec<(&str, String)>| {
        let mut cmd = Command::new("python3");
        cmd.arg(scripts().join("run.py"))
            .arg("--suite")
            .arg(&suite)
            .args(["--mode", mode, "--junit"])
            .arg(junit(mode))
            // Some of the suite's tests are pure client CPU (test_max_parameters parses 60,000
            // placeholders in Python): with both runs and other test binaries sharing two cores
            // they took over 60 s. A hang in the gateway still ends the run, later.
            .args(["--test-timeout", "240"])
            .env("PGHOST", "127.0.0.1")
            .env("PGUSER", "postgres")
            .envs(env);
        cmd
    };
    // The tenant listens on no network: pg8000 reaches it over TCP through a relay to its socket.
    let socket = std::path::Path::new(direct_doc["socket_dir"].as_str().unwrap()).join(".s.PGSQL.5432");
    let direct_port = common::tcp_relay(socket).to_string();
    let mut direct_run =
        run("direct", vec![("PGPORT", direct_port), ("PGPASSWORD", superuser_password(&home, &direct))]);
    let through_gateway = |mode: &str, id: &str, host: String| {
        run(
            mode,
            vec![
                ("PGPORT", gw.port.to_string()),
                ("PGPASSWORD", superuser_password(&home, id)),
                ("PGS_SNI_HOST", host),
                ("PGS_CA_FILE", home.ca_file().display().to_string()),
            ],
        )
    };
    // Each run has a tenant of its own. The direct one is the slowest (its TCP relay to the
    // socket): the others run one after another beside it, the two pooled ones side by side.
    let direct_child =
        direct_run.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let gateway_out = through_gateway("gateway", &through, format!("{through}.pgs.test")).output().unwrap();
    let session_child = through_gateway("pooled-session", &session, format!("{session}-pooler.pgs.test"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let auto_out = through_gateway("pooled-auto", &auto, format!("{auto}-pooler.pgs.test")).output().unwrap();
    let session_out = session_child.wait_with_output().unwrap();
    let direct_out = direct_child.wait_with_output().unwrap();
    assert!(direct_out.status.success(), "the direct run could not run: {}", show(&direct_out));
    eprint!("{}", show(&direct_out));
    for (mode, out) in [("gateway", &gateway_out), ("pooled-session", &session_out), ("pooled-auto", &auto_out)] {
        assert!(out.status.success(), "the {mode} run could not run: {}\n{}", show(out), home.gateway_log());
        eprint!("{}", show(out));
    }

    let mut failed = Vec::new();
    for mode in ["gateway", "pooled-session", "pooled-auto"] {
        let compared = Command::new("python3")
            .arg(scripts().join("compare.py"))
            .arg(junit("direct"))
            .arg(junit(mode))
            .arg(mode)
            .output()
            .unwrap();
        eprint!("{mode}: {}", show(&compared));
        if !compared.status.success() {
            let log = std::fs::read_to_string(format!("{}.log", junit(mode).display())).unwrap_or_default();
            failed.push(format!("{mode}:\n{}\npytest ({mode}):\n{log}", show(&compared)));
        }
    }
    assert!(failed.is_empty(), "tests pass direct but fail through the gateway:\n{}", failed.join("\n"));
    // The suite really ran: hundreds of its tests passed through the gateway.
    let passed: usize = String::from_utf8_lossy(&gateway_out.stdout)
        .split_once(": ")
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(passed > 500, "only {passed} pg8000 tests passed through the gateway: {}", show(&gateway_out));
}
