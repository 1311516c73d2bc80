//! The whole platform as a new user meets it, with the managed gateway and with
//! `pgs gateway run` in the foreground: setup, two tenants, verify-full through SNI,
//! isolation, access switched off and on, removal, stop and start of everything.

mod common;

use std::time::Duration;

use common::{GatewayProc, Home, finished, free_port, pgbench, pgbench_clean, psql, psql_bg, unique};

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

/// An installation with the managed gateway (and controller) on free ports.
fn managed_home() -> Home {
    let (port, health) = (free_port().to_string(), free_port().to_string());
    Home::with_setup(&managed_setup(&port, &health)[1..])
}

/// `pgs setup` with the managed gateway on these ports.
fn managed_setup<'a>(port: &'a str, health: &'a str) -> [&'a str; 9] {
    ["setup", "--domain", "pgs.test", "--self-signed", "--yes", "--gateway-port", port, "--health-port", health]
}

#[test]
fn new_user_with_the_managed_gateway() {
    let home = managed_home();
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
    home.wait_status(&idle, "suspended", 30);
    let (ok, out, err) = psql(&url_idle, "SELECT 'awake'");
    assert!(ok && out == "awake", "{err}");
    let logs = home.ok(&["gateway", "logs", "--tail", "all"]);
    assert!(logs.contains("\"message\":\"connection\""), "{logs}");
    home.ok(&["gateway", "stop"]);
    assert_eq!(home.json(&["gateway", "status", "--json"])["status"], "stopped");

    // A stopped gateway does not block another installation on this Docker host, and this
    // installation's `gateway stop` then leaves the other's running gateway alone.
    let other = managed_home();
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

/// This test binary's `pgs` with a few bytes appended: the same program, another hash, so
/// another gateway image (what an upgrade of pgs brings).
fn another_build(dir: &std::path::Path) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("pgs-next");
    let mut bytes = std::fs::read(common::pgs_bin()).unwrap();
    bytes.extend(format!("\0{}", unique("build")).as_bytes());
    std::fs::write(&path, bytes).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn the_managed_gateway_is_replaced_refusing_no_one_and_restarts_after_a_crash() {
    let home = managed_home();
    let id = unique("rep");
    let url = home.create(&id)["url"].as_str().unwrap().to_string();
    let init = std::process::Command::new("pgbench").args(["-i", "-s", "1", "-q", &url]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let before = home.json(&["gateway", "status", "--json"]);

    let long = psql_bg(&url, "SELECT pg_sleep(60)");
    let steady = pgbench(&url, &["-S", "-c", "8", "-j", "2", "-T", "6"]);
    let reconnecting = pgbench(&url, &["-S", "-C", "-c", "2", "-T", "6"]);
    std::thread::sleep(Duration::from_millis(1500));

    // An upgrade: `pgs gateway start` from another build replaces the running gateway.
    let dir = tempfile::tempdir().unwrap();
    let next = another_build(dir.path());
    let out = std::process::Command::new(&next)
        .args(["gateway", "start", "--drain", "4s"])
        .env("PGS_HOME", home.path())
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
    let replaced = std::time::Instant::now();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = home.json(&["gateway", "status", "--json"]);
    assert_ne!(after["image"], before["image"], "{after}");
    assert!(after["gateway"]["generation"].as_u64() > before["gateway"]["generation"].as_u64(), "{after}");
    assert_eq!(after["draining"].as_array().map(Vec::len), Some(1), "{after}");

    pgbench_clean(steady, "steady sessions");
    pgbench_clean(reconnecting, "a connection per transaction");
    let (ok, text) = finished(long);
    assert!(!ok && text.contains("the gateway is restarting, reconnect"), "{text}");
    assert!(replaced.elapsed() >= Duration::from_secs(3), "ended before the drain deadline");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !home.json(&["gateway", "status", "--json"])["draining"].as_array().is_some_and(Vec::is_empty) {
        assert!(std::time::Instant::now() < deadline, "the replaced gateway did not exit after its drain deadline");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A crash: Docker restarts the container, and it serves again within 2 s.
    let pid = common::docker(&["inspect", "-f", "{{.State.Pid}}", "pgs-gateway"]);
    let killed = std::time::Instant::now();
    std::process::Command::new("kill").args(["-KILL", pid.trim()]).status().unwrap();
    while !psql(&url, "SELECT 1").0 {
        assert!(killed.elapsed() < Duration::from_secs(10), "the gateway did not come back after a crash");
        std::thread::sleep(Duration::from_millis(20));
    }
    let back = killed.elapsed();
    eprintln!("serving again {back:?} after the crash");
    assert!(back < Duration::from_secs(2), "serving again only after {back:?}");
    std::process::Command::new(&next)
        .args(["gateway", "stop"])
        .env("PGS_HOME", home.path())
        .env_remove("DOCKER_HOST")
        .output()
        .unwrap();
}

/// Connects with psql in a loop until `stop`: (attempts, failed attempts, longest connect).
fn probe_connects(
    url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<(u32, u32, Duration)> {
    std::thread::spawn(move || {
        let (mut attempts, mut failed, mut longest) = (0, 0, Duration::ZERO);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let t = std::time::Instant::now();
            attempts += 1;
            if !psql(&url, "SELECT 1").0 {
                failed += 1;
            }
            longest = longest.max(t.elapsed());
        }
        (attempts, failed, longest)
    })
}

#[test]
fn an_installation_of_the_previous_release_is_upgraded() {
    let prev = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/previous-release/pgs");
    assert!(prev.exists(), "{} is missing: tests/run.sh builds it (tests/previous-release.sh)", prev.display());
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_path_buf();
    let old = |args: &[&str]| {
        let out = std::process::Command::new(&prev)
            .args(args)
            .env("PGS_HOME", &state)
            .env_remove("DOCKER_HOST")
            .output()
            .unwrap();
        assert!(out.status.success(), "previous release: pgs {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (port, health) = (free_port().to_string(), free_port().to_string());
    let image = common::image();
    let mut setup = managed_setup(&port, &health).to_vec();
    setup.extend(["--image", &image]);
    old(&setup);
    // From here on the current binary manages the same state dir (and cleans up after the test).
    let home = Home::adopt(dir);
    let (id, off) = (unique("upg"), unique("upg"));
    let doc: serde_json::Value = serde_json::from_str(&old(&["create", &id, "--json"])).unwrap();
    old(&["create", &off]);
    old(&["disable-access", &off]);
    old(&["pool", &id, "--size", "3"]);
    let url = doc["url"].as_str().unwrap().to_string();
    assert!(psql(&url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('made by the previous release')").0);

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = probe_connects(url.clone(), stop.clone());
    std::thread::sleep(Duration::from_millis(500));
    let started = std::time::Instant::now();
    home.ok(&["gateway", "start"]);
    let took = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (attempts, failed, longest) = probe.join().unwrap();
    eprintln!(
        "upgrade from the previous release: `gateway start` {took:?}; {failed} of {attempts} connection attempts failed; longest connect {longest:?}"
    );
    // The previous release's gateway hands its socket over: nobody is refused.
    assert_eq!(failed, 0, "{failed} of {attempts} connection attempts failed during the upgrade");

    // Everything carried over: the tenant's data and password, the other tenant's access flag.
    assert_eq!(common::docker(&["inspect", "-f", "{{.HostConfig.NetworkMode}}", "pgs-gateway"]).trim(), "host");
    let (ok, out, err) = psql(&url, "SELECT v FROM kept");
    assert!(ok && out == "made by the previous release", "{err}");
    // Its container made anew by the current binary, the tenant keeps its data, password and
    // pool settings.
    home.ok(&["recreate", &id]);
    let info = home.json(&["info", &id, "--json"]);
    assert!(info.get("local_port").is_none() && info["pool"]["size"] == 3, "{info}");
    // Tenants made before auto mode existed keep pooling in transaction mode; new ones get auto.
    assert_eq!(info["pool"]["mode"], "transaction", "{info}");
    assert_eq!(home.json(&["pool", &off, "--json"])["mode"], "transaction");
    let (ok, out, err) = psql(&url, "SELECT v FROM kept");
    assert!(ok && out == "made by the previous release", "{err}");
    let url_off = home.json(&["info", &off, "--json", "--show-password"])["url"].as_str().unwrap().to_string();
    let (ok, _, err) = psql(&url_off, "SELECT 1");
    assert!(!ok && err.contains("does not accept external connections"), "{err}");
    assert_eq!(home.json(&["gateway", "status", "--json"])["controller"], "running");
    home.ok(&["gateway", "stop"]);
}
