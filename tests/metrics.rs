//! Per-tenant PostgreSQL metrics on the gateway's `/metrics`, scraped by a real Prometheus
//! (Debian's): one series per tenant, a suspended tenant reported and never woken, one kept
//! connection per tenant rather than one per scrape, the Grafana dashboard's queries accepted;
//! and the alert rules in `templates/prometheus/`, checked and unit-tested with `promtool`.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{GatewayProc, Home, free_port, unique};

#[test]
fn alert_rules_are_valid_and_fire_on_what_they_should() {
    let check =
        Command::new("promtool").args(["check", "rules", "templates/prometheus/pgs-alerts.yml"]).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let test =
        Command::new("promtool").args(["test", "rules", "tests/prometheus/pgs-alerts.test.yml"]).output().unwrap();
    assert!(
        test.status.success(),
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}

/// The value of the series `name{tenant="id"...}` in a scrape, if present.
fn value(text: &str, name: &str, labels: &str) -> Option<f64> {
    let prefix = format!("{name}{{{labels}}} ");
    text.lines().find_map(|l| l.strip_prefix(&prefix)).and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_one_series_per_tenant_and_no_scrape_wakes_a_suspended_one() {
    let home = Home::new();
    let running = unique("mt");
    let asleep = unique("mts");
    let doc = home.create(&running);
    home.create(&asleep);
    let gw = GatewayProc::start(&home, &["--no-controller"]);
    home.ok(&["suspend", &asleep]);
    assert_eq!(home.status(&asleep), "suspended");

    // The gateway picks the suspension up at its next route reload (scrapes within 5 s share
    // one collection).
    let t = |id: &str| format!("tenant=\"{id}\"");
    let suspended_state = format!("{},state=\"suspended\"", t(&asleep));
    let deadline = Instant::now() + Duration::from_secs(20);
    let first = loop {
        let (status, text) = gw.http("/metrics");
        assert_eq!(status, 200);
        if value(&text, "pgs_tenant_state", &suspended_state) == Some(1.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "the gateway never reported {asleep} suspended: {text}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(value(&first, "pgs_tenant_up", &t(&running)), Some(1.0), "{first}");
    assert_eq!(value(&first, "pgs_tenant_up", &t(&asleep)), Some(0.0), "{first}");
    assert!(value(&first, "pgs_tenant_database_size_bytes", &t(&running)).unwrap() > 1e6, "{first}");
    assert!(value(&first, "pgs_tenant_xact_commit_total", &t(&running)).is_some(), "{first}");
    assert!(value(&first, "pgs_tenant_cache_hit_ratio", &t(&running)).is_some(), "{first}");
    assert!(value(&first, "pgs_tenant_xact_commit_total", &t(&asleep)).is_none(), "a suspended tenant was asked");
    assert!(value(&first, "pgs_certificate_expiry_timestamp_seconds", "").is_none_or(|v| v > 0.0));

    // The statistics connection is kept: the same backend answers the next collection.
    let c = common::connect_tenant(&doc).await;
    let pid_of_metrics = || async {
        let rows =
            c.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'pgs-metrics'", &[]).await.unwrap();
        rows.iter().map(|r| r.get::<_, i32>(0)).collect::<Vec<_>>()
    };
    let before = pid_of_metrics().await;
    assert_eq!(before.len(), 1, "{before:?}");
    c.batch_execute("CREATE TABLE t (n int); INSERT INTO t VALUES (1)").await.unwrap();
    tokio::time::sleep(Duration::from_millis(5100)).await;
    let (_, second) = gw.http("/metrics");
    assert_eq!(pid_of_metrics().await, before, "a scrape opened a new connection");
    let commits = |text: &str| value(text, "pgs_tenant_xact_commit_total", &t(&running)).unwrap();
    assert!(commits(&second) > commits(&first), "{second}");
    // It is no client: the tenant can still be suspended for idleness.
    drop(c);
    home.ok(&["suspend", &running]);
    home.ok(&["start", &running]);

    // A real Prometheus scrapes the gateway and has one series per tenant; the rules load.
    let dir = tempfile::tempdir().unwrap();
    let rules = std::fs::canonicalize("templates/prometheus/pgs-alerts.yml").unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: pgs-gateway\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
        rules.display(),
        gw.health
    );
    std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
    let port = free_port();
    let mut prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", dir.path().join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus (Debian's package) is installed by tests/run.sh");
    let query = |q: &str| -> serde_json::Value {
        let out = Command::new("curl")
            .args(["-s", "-m", "5", "--data-urlencode", &format!("query={q}")])
            .arg(format!("http://127.0.0.1:{port}/api/v1/query"))
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let series = loop {
        let result = query("pgs_tenant_up");
        let series = result["data"]["result"].as_array().cloned().unwrap_or_default();
        if series.len() == 2 {
            break series;
        }
        assert!(Instant::now() < deadline, "Prometheus has no pgs_tenant_up per tenant: {result}");
        std::thread::sleep(Duration::from_millis(500));
    };
    let mut tenants: Vec<&str> = series.iter().filter_map(|s| s["metric"]["tenant"].as_str()).collect();
    tenants.sort();
    let mut want = vec![running.as_str(), asleep.as_str()];
    want.sort();
    assert_eq!(tenants, want);
    let suspended = query("pgs_tenant_state{state=\"suspended\"} == 1");
    assert_eq!(suspended["data"]["result"][0]["metric"]["tenant"], asleep.as_str(), "{suspended}");
    let rules = Command::new("curl").args(["-s", &format!("http://127.0.0.1:{port}/api/v1/rules")]).output().unwrap();
    let rules: serde_json::Value = serde_json::from_slice(&rules.stdout).unwrap();
    assert_eq!(rules["data"]["groups"][0]["rules"].as_array().map(Vec::len), Some(9), "{rules}");
    // Every query of the Grafana dashboard is one Prometheus accepts, and the tenants' ones
    // find series.
    let dashboard: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("templates/grafana/pgs-dashboard.json").unwrap()).unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap().replace("$tenant", ".*");
            let answer = query(&expr);
            assert_eq!(answer["status"], "success", "{}: {expr}: {answer}", panel["title"]);
        }
    }
    let _ = prometheus.kill();
    let _ = prometheus.wait();

    // Nothing of it woke the suspended tenant.
    assert_eq!(home.status(&asleep), "suspended");
}
