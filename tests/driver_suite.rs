//! A driver's own test suite through the gateway: pg8000's tests (from its source distribution,
//! fetched by `tests/run.sh` into `target/pg8000-suite`, never kept in this repository) run once
//! straight against one tenant and once through the gateway, with SNI and verify-full, against
//! another. A test that passes direct but fails through the gateway fails this test, unless
//! `tests/clients/pg8000_suite/compare.py` lists it as different by design (with the reason).
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
    let (direct, through) = (unique("drv"), unique("drv"));
    let direct_doc = home.create(&direct);
    home.create(&through);
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
    let mut gateway_run = run(
        "gateway",
        vec![
            ("PGPORT", gw.port.to_string()),
            ("PGPASSWORD", superuser_password(&home, &through)),
            ("PGS_SNI_HOST", format!("{through}.pgs.test")),
            ("PGS_CA_FILE", home.ca_file().display().to_string()),
        ],
    );
    // The two runs use separate tenants: run them side by side.
    let gateway_child =
        gateway_run.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let direct_out = direct_run.output().unwrap();
    let gateway_out = gateway_child.wait_with_output().unwrap();
    assert!(direct_out.status.success(), "the direct run could not run: {}", show(&direct_out));
    assert!(
        gateway_out.status.success(),
        "the gateway run could not run: {}\n{}",
        show(&gateway_out),
        home.gateway_log()
    );
    eprint!("{}{}", show(&direct_out), show(&gateway_out));

    let compared = Command::new("python3")
        .arg(scripts().join("compare.py"))
        .arg(junit("direct"))
        .arg(junit("gateway"))
        .output()
        .unwrap();
    eprint!("{}", show(&compared));
    if !compared.status.success() {
        let log = std::fs::read_to_string(format!("{}.log", junit("gateway").display())).unwrap_or_default();
        panic!("tests pass direct but fail through the gateway:\n{}\npytest (gateway):\n{log}", show(&compared));
    }
    // The suite really ran: hundreds of its tests passed through the gateway.
    let passed: usize = String::from_utf8_lossy(&gateway_out.stdout)
        .split_once(": ")
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    assert!(passed > 500, "only {passed} pg8000 tests passed through the gateway: {}", show(&gateway_out));
}
