//! The web console in a real browser (Debian's chromium and chromedriver, driven by Python
//! selenium: `tests/console/browser.py`): log in, create a tenant and watch its job, refuse its
//! clients (and see a client refused at the gateway), back it up and watch the progress,
//! restore it behind the typed confirmation; forms without the CSRF token are refused. The
//! screenshots land in `target/console-screens/` (those in `docs/console/` are copies).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{GatewayProc, Home, free_port, unique};

#[test]
fn an_operator_logs_in_creates_refuses_backs_up_and_restores_in_a_browser() {
    let home = Home::with_setup(&["--yes", "--no-gateway", "--domain", "pgs.test", "--backups", "local"]);
    let gw = GatewayProc::start(&home, &["--no-controller"]);
    let token = home.json(&["token", "create", "ops", "--json"])["token"].as_str().unwrap().to_string();
    let port = free_port();
    let mut api = home
        .cmd(&["api", "run", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(home.path().join("api.log")).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !Command::new("curl").args(["-sf", &format!("{base}/v1/health")]).output().unwrap().status.success() {
        assert!(Instant::now() < deadline, "the API did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let tenant = unique("web");
    let screens = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/console-screens");
    let out = Command::new("python3")
        .args(["tests/console/browser.py", &base, &token, &tenant])
        .arg(&screens)
        .output()
        .expect("python3 with selenium (tests/run.sh installs it)");
    let log = std::fs::read_to_string(home.path().join("api.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "{}{}\nAPI log:\n{log}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // What the browser did is what the CLI sees: access off, a restore's new volume.
    let info = home.json(&["info", &tenant, "--json"]);
    assert_eq!(info["access"], false, "{info}");
    assert_ne!(info["volume"], format!("pgs-{tenant}-data"), "{info}");
    // A client is refused at the gateway.
    let secrets: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(format!("secrets/{tenant}.json"))).unwrap())
            .unwrap();
    let conninfo = format!(
        "host=127.0.0.1 port={} user={tenant} dbname={tenant} password={} sslmode=require",
        gw.port,
        secrets["password"].as_str().unwrap()
    );
    let (ok, _, err) = common::psql(&conninfo, "SELECT 1");
    assert!(!ok && err.contains("does not accept external connections"), "{err}");
    // No page or log line holds the token.
    assert!(!log.contains(&token), "the API logged a token");
    let _ = api.kill();
    let _ = api.wait();
}
