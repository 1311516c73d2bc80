//! The whole platform as a new user meets it, with the managed gateway and with
//! `pgs gateway run` in the foreground: setup, two tenants, verify-full through SNI,
//! isolation, access switched off and on, removal, stop and start of everything.

mod common;

use std::time::Duration;

use common::{GatewayProc, Home, free_port, psql, unique};

/// The scenario after setup, against whichever gateway serves `home`'s gateway port.
fn scenario(home: &Home) {
    let (a, b) = (unique("e2e"), unique("e2e"));
    let url_a = home.create(&a)["url"].as_str().unwrap().to_string();
    let url_b = home.create(&b)["url"].as_str().unwrap().to_string();
    assert!(url_a.contains("sslmode=verify-full") && url_a.contains("sslrootcert="), "{url_a}");

    // Each tenant through SNI with verify-full; data is isolated.
    let (ok, _, err) = psql(&url_a, "CREATE TABLE notes (v text); INSERT INTO notes VALUES ('from a')");
    assert!(ok, "{err}");
    let (ok, _, err) = psql(&url_b, "SELECT * FROM notes");
    assert!(!ok && err.contains("relation \"notes\" does not exist"), "{err}");

    // Disabled: refused with a clear message; the other tenant is unaffected.
    home.ok(&["disable-access", &a]);
    let (ok, _, err) = psql(&url_a, "SELECT 1");
    assert!(!ok && err.contains(&format!("tenant {a} does not accept external connections")), "{err}");
    assert!(psql(&url_b, "SELECT 1").0);
    home.ok(&["enable-access", &a]);
    let (ok, out, err) = psql(&url_a, "SELECT v FROM notes");
    assert!(ok, "{err}");
    assert_eq!(out, "from a");

    // Removed: its hostname is refused; the other still works.
    home.ok(&["remove", &b, "--yes", "--purge"]);
    let (ok, _, err) = psql(&url_b, "SELECT 1");
    assert!(!ok && err.contains(&format!("tenant {b} does not exist")), "{err}");
    assert!(psql(&url_a, "SELECT 1").0);

    // Stop and start everything: the data is still there.
    home.ok(&["stop"]);
    assert!(!psql(&url_a, "SELECT 1").0);
    home.ok(&["start"]);
    let (ok, out, err) = psql(&url_a, "SELECT v FROM notes");
    assert!(ok, "{err}");
    assert_eq!(out, "from a");
}

#[test]
fn new_user_with_the_managed_gateway() {
    let (port, health) = (free_port().to_string(), free_port().to_string());
    let home = Home::with_setup(&[
        "--domain", "pgs.test", "--self-signed", "--yes", "--gateway-port", &port, "--health-port", &health,
    ]);
    let status = home.json(&["gateway", "status", "--json"]);
    assert_eq!(status["status"], "running", "{status}");
    assert_eq!(status["ready"], true, "{status}");
    assert_eq!(status["gateway"]["version"], env!("CARGO_PKG_VERSION"));
    scenario(&home);
    // `pgs start` brought the gateway back; it reports its sessions and uptime.
    let status = home.json(&["gateway", "status", "--json"]);
    assert_eq!(status["ready"], true, "{status}");
    assert!(status["gateway"]["open_sessions"].is_u64());
    // Scale to zero through the managed gateway: its controller container (the gateway has no
    // Docker socket) suspends an idle tenant and wakes it for the next client.
    assert_eq!(status["controller"], "running", "{status}");
    let idle = unique("e2e");
    home.ok(&["create", &idle, "--suspend-after", "2s"]);
    let url_idle = home.json(&["info", &idle, "--json", "--show-password"])["url"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while home.status(&idle) != "suspended" {
        assert!(std::time::Instant::now() < deadline, "{idle} was not suspended");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (ok, out, err) = psql(&url_idle, "SELECT 'awake'");
    assert!(ok && out == "awake", "{err}");
    let logs = home.ok(&["gateway", "logs", "--tail", "all"]);
    assert!(logs.contains("\"message\":\"connection\""), "{logs}");
    home.ok(&["gateway", "stop"]);
    assert_eq!(home.json(&["gateway", "status", "--json"])["status"], "stopped");

    // A stopped gateway does not block another installation on this Docker host, and this
    // installation's `gateway stop` then leaves the other's running gateway alone.
    let (port2, health2) = (free_port().to_string(), free_port().to_string());
    let other = Home::with_setup(&[
        "--domain", "pgs.test", "--self-signed", "--yes", "--gateway-port", &port2, "--health-port", &health2,
    ]);
    assert_eq!(other.json(&["gateway", "status", "--json"])["ready"], true);
    let err = home.fails(&["gateway", "stop"]);
    assert!(err.contains("belongs to another pgs installation"), "{err}");
    assert_eq!(other.json(&["gateway", "status", "--json"])["ready"], true);
    other.ok(&["gateway", "stop"]);
    std::thread::sleep(Duration::from_millis(100));
}

#[test]
fn new_user_with_the_gateway_in_the_foreground() {
    let home = Home::with_setup(&["--domain", "pgs.test", "--self-signed", "--yes", "--no-gateway"]);
    let _gw = GatewayProc::start(&home, &[]);
    scenario(&home);
}
