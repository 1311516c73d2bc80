//! Real client libraries through the gateway: psycopg 3 with its bundled (newer) libpq, for
//! direct TLS, protocol 3.2 negotiation and cancels sent by libpq's newer cancel API.

mod common;

use common::{GatewayProc, Home, unique};

fn psycopg(url: &str, mode: &str) -> (bool, String) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/psycopg_check.py");
    let out = std::process::Command::new("python3").args([script, url, mode]).output().expect("python3");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn psycopg_classic_direct_tls_and_protocol_3_2() {
    let home = Home::new();
    let _gw = GatewayProc::start(&home, &[]);
    let id = unique("psy");
    let url = home.create(&id)["url"].as_str().unwrap().to_string();
    for mode in ["classic", "direct", "proto32"] {
        let (ok, out) = psycopg(&url, mode);
        assert!(ok, "psycopg {mode}: {out}\n{}", home.gateway_log());
        assert!(out.contains("cancel_after="), "{out}");
    }
}
