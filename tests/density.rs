//! Density and scale to zero: status without a healthcheck process, settings sized to the memory
//! limit, idle tenants suspended by the controller and woken by their next clients through the
//! gateway (once for many clients, cancel requests of held clients answered, 57P03 when a wake
//! fails), and backups of suspended tenants.

mod common;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use common::{GatewayProc, Home, docker, psql, unique};

fn url(home: &Home, id: &str) -> String {
    home.json(&["info", id, "--json", "--show-password"])["url"].as_str().unwrap().to_string()
}

/// Waits until `pgs info` reports `want` for `id`, at most `secs`; returns how long it took.
fn running(container: &str) -> bool {
    docker(&["inspect", "-f", "{{.State.Running}}", container]).trim() == "true"
}

fn metric(gw: &GatewayProc, line_start: &str) -> String {
    let (_, body) = gw.http("/metrics");
    body.lines()
        .find_map(|l| {
            l.strip_prefix(line_start).filter(|r| r.starts_with([' ', '{'])).and_then(|r| r.rsplit(' ').next())
        })
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no {line_start} in metrics:\n{body}"))
}

#[test]
fn idle_tenants_are_suspended_and_woken_by_their_clients() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &["--wake-timeout", "20s"]);
    let t = unique("sz");
    let container = format!("pgs-{t}");
    home.ok(&["create", &t, "--memory", "256m", "--suspend-after", "2s", "--pg-setting", "work_mem=8MB"]);
    // What `create` verified is what `info` says at once (no healthcheck still "starting").
    assert_eq!(home.status(&t), "running");
    let docker_health = docker(&["inspect", "-f", "{{json .Config.Healthcheck}}", &container]);
    assert!(docker_health.contains("NONE"), "no per-tenant healthcheck process: {docker_health}");
    let url = url(&home, &t);
    // Settings derived from --memory, and the operator's override.
    let (ok, out, err) = psql(
        &url,
        "SELECT current_setting('max_connections'), current_setting('shared_buffers'), current_setting('work_mem')",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "64|64MB|8MB");

    // Idle: suspended by the controller inside `pgs gateway run`; data and flags stay.
    home.wait_status(&t, "suspended", 30);
    assert!(!running(&container), "a suspended tenant's container is stopped");
    assert!(metric(&gw, "pgs_tenants{state=\"suspended\"}") == "1");

    // Five clients at once: held, one wake, all served.
    let started = Instant::now();
    let clients: Vec<_> = (0..5)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || psql(&url, &format!("SELECT {i}")))
        })
        .collect();
    for (i, c) in clients.into_iter().enumerate() {
        let (ok, out, err) = c.join().unwrap();
        assert!(ok && out == i.to_string(), "held client {i}: {err}");
    }
    assert!(started.elapsed() < Duration::from_secs(10), "woken in {:?}", started.elapsed());
    assert_eq!(metric(&gw, "pgs_gateway_wakes_total"), "1", "one wake for five clients");
    assert_eq!(metric(&gw, "pgs_gateway_wake_seconds_count"), "5");
    assert_eq!(home.status(&t), "running");

    // A cancel request that arrives while a client is held is answered (the connection closes)
    // and does not disturb the held client.
    home.ok(&["suspend", &t]);
    assert_eq!(home.status(&t), "suspended");
    // Suspending it again changes nothing (it used to lose the mark, and clients got "not
    // reachable" instead of a wake).
    home.ok(&["suspend", &t]);
    assert_eq!(home.status(&t), "suspended");
    let held = {
        let url = url.clone();
        std::thread::spawn(move || psql(&url, "SELECT 'held'"))
    };
    std::thread::sleep(Duration::from_millis(100));
    let mut cancel = std::net::TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    cancel.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut packet = Vec::new();
    packet.extend(16u32.to_be_bytes());
    packet.extend(80877102u32.to_be_bytes());
    packet.extend(4242u32.to_be_bytes());
    packet.extend([1, 2, 3, 4]);
    cancel.write_all(&packet).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(cancel.read(&mut buf).unwrap(), 0, "a cancel is closed without an answer");
    let (ok, out, err) = held.join().unwrap();
    assert!(ok && out == "held", "{err}");
    assert_eq!(metric(&gw, "pgs_gateway_wakes_total"), "2");

    // A wake that cannot succeed: the client gets 57P03 and a message that says why, quickly.
    home.ok(&["suspend", &t]);
    docker(&["rm", "-f", &container]);
    let started = Instant::now();
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(!ok && err.contains("is starting up (it was suspended)"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(metric(&gw, "pgs_gateway_wake_failures_total"), "1");
    assert!(home.gateway_log().contains("is missing"), "{}", home.gateway_log());
    // `pgs start` recreates the container on its data: back to normal.
    home.ok(&["start", &t]);
    assert_eq!(home.status(&t), "running");
    home.ok(&["suspend-policy", &t, "--never"]);
    assert!(psql(&url, "SELECT 1").0);
}

#[test]
fn a_database_that_stops_answering_is_unhealthy_within_seconds() {
    let home = Home::new();
    let t = unique("hl");
    home.create(&t);
    let container = format!("pgs-{t}");
    // Frozen: the container still "runs", its PostgreSQL answers nothing.
    docker(&["pause", &container]);
    let started = Instant::now();
    let status = home.status(&t);
    docker(&["unpause", &container]);
    assert_eq!(status, "unhealthy");
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(home.status(&t), "running");
    // `pgs recreate` (after an upgrade: containers of earlier versions had a healthcheck process)
    // makes the container anew on the same data.
    let before = docker(&["inspect", "-f", "{{.Id}}", &container]);
    let doc = home.json(&["info", &t, "--json", "--show-password"]);
    let direct = format!(
        "host={} user={t} password={} dbname={t}",
        doc["socket_dir"].as_str().unwrap(),
        doc["password"].as_str().unwrap()
    );
    assert!(psql(&direct, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)").0);
    home.ok(&["recreate", &t]);
    assert_ne!(docker(&["inspect", "-f", "{{.Id}}", &container]), before);
    assert_eq!(psql(&direct, "SELECT v FROM kept").1, "7");
    assert_eq!(home.status(&t), "running");
    home.ok(&["stop", &t]);
    assert_eq!(home.status(&t), "stopped");
    // A stopped tenant is not suspended, and cannot be.
    let err = home.fails(&["suspend", &t]);
    assert!(err.contains("not running"), "{err}");
}
