//! More than one host (docs/scale-out.md): two Docker engines in network namespaces of their own
//! stand in for two hosts (tests/swarm/node.sh), so that the test never puts the machine's own
//! engine into a swarm.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Home;

/// The manager's engine and the second node's.
const S1: &str = "unix:///run/pgs-s1/docker.sock";
const S2: &str = "unix:///run/pgs-s2/docker.sock";

fn node_sh(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/swarm/node.sh");
    let out = Command::new(script).args(args).output().unwrap();
    assert!(out.status.success(), "node.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn docker_on(host: &str, args: &[&str]) -> String {
    let out = Command::new("docker").args(args).env("DOCKER_HOST", host).output().unwrap();
    assert!(out.status.success(), "docker {args:?} on {host}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Two engines: `pgs-s1` at 10.250.0.2 (with the test image) and `pgs-s2` at 10.250.0.3 (with
/// no image), destroyed again at the end.
struct TwoHosts;

impl TwoHosts {
    fn start(image: &str) -> Self {
        // What a run that crashed may have left.
        node_sh(&["destroy", "pgs-s2"]);
        node_sh(&["destroy", "pgs-s1"]);
        node_sh(&["start", "pgs-s1", "2"]);
        node_sh(&["start", "pgs-s2", "3"]);
        let load = format!("docker save {image} | DOCKER_HOST={S1} docker load -q");
        let out = Command::new("sh").args(["-c", &load]).output().unwrap();
        assert!(out.status.success(), "{load}: {}", String::from_utf8_lossy(&out.stderr));
        TwoHosts
    }
}

impl Drop for TwoHosts {
    fn drop(&mut self) {
        node_sh(&["destroy", "pgs-s2"]);
        node_sh(&["destroy", "pgs-s1"]);
    }
}

fn node<'a>(list: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    list.as_array().unwrap().iter().find(|n| n["name"] == name).unwrap_or_else(|| panic!("no node {name}: {list}"))
}

#[test]
fn tenants_live_on_either_host_and_a_stopped_host_is_reported_down() {
    let image = common::image();
    let _hosts = TwoHosts::start(&image);
    let home = Home::with_setup_on(Some(S1), &["--yes", "--no-gateway", "--domain", "pgs.test"]);
    let err = home.fails(&["node", "list"]);
    assert!(err.contains("pgs swarm init"), "{err}");

    let swarm = home.json(&["swarm", "init", "--advertise-addr", "10.250.0.2", "--json"]);
    assert_eq!(swarm["advertise_addr"], "10.250.0.2", "{swarm}");
    // The swarm's overlay pool is not Docker's default 10.0.0.0/8, which would shadow private
    // networks the host is on.
    let pool = docker_on(S1, &["info", "--format", "{{.Swarm.Cluster.DefaultAddrPool}}"]);
    assert!(pool.contains("10.251.0.0/16"), "{pool}");

    let started = Instant::now();
    let added = home.json(&["node", "add", "n2", "--docker-host", S2, "--address", "10.250.0.3", "--json"]);
    eprintln!("node add (join, and the tenant image copied through the engines' APIs): {:?}", started.elapsed());
    assert_eq!((added["state"].as_str(), added["address"].as_str()), (Some("ready"), Some("10.250.0.3")), "{added}");
    // No registry: the tenant image reached n2 through the two engines' APIs.
    docker_on(S2, &["image", "inspect", &image]);
    // The swarm knows each node by the name pgs gave it (both engines report the same host name).
    let id = added["swarm_id"].as_str().unwrap();
    assert_eq!(docker_on(S1, &["node", "inspect", id, "--format", "{{index .Spec.Labels \"io.pgs.node\"}}"]), "n2");
    let err = home.fails(&["node", "add", "again", "--docker-host", S2]);
    assert!(err.contains("already has the engine"), "{err}");

    let list = home.json(&["node", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    let local = node(&list, "local");
    assert!(local["manager"] == true && local["state"] == "ready" && local["memory_free"].as_i64() > Some(0), "{list}");
    assert_eq!(node(&list, "n2")["state"], "ready", "{list}");
    // n2's gateway runs there, on n2's own dir (none of the manager's files are mounted).
    let mounts = docker_on(S2, &["inspect", "pgs-gateway", "--format", "{{json .Mounts}}"]);
    assert!(!mounts.contains(home.path().to_str().unwrap()), "{mounts}");

    // One tenant on each node: `--node local`, then placement picks n2 (more memory free).
    let (t1, t2) = (common::unique("sw"), common::unique("sw"));
    let a = home.json(&["create", &t1, "--node", "local", "--json"]);
    assert!(a.get("node").is_none(), "{a}");
    let b = home.json(&["create", &t2, "--json"]);
    assert_eq!((b["node"].as_str(), b["status"].as_str()), (Some("n2"), Some("running")), "{b}");
    // Its container and data live on n2 only.
    docker_on(S2, &["volume", "inspect", &format!("pgs-{t2}-data")]);
    assert!(docker_on(S1, &["ps", "-aq", "--filter", &format!("name=pgs-{t2}")]).is_empty());
    assert_eq!(docker_on(S2, &["inspect", &format!("pgs-{t2}"), "--format", "{{.HostConfig.NetworkMode}}"]), "none");

    // A client reaches it through n2's gateway, with the installation's certificate.
    let ca = home.path().join("certs/ca.pem");
    let conninfo = format!(
        "host={t2}.pgs.test hostaddr=10.250.0.3 port=5432 user={t2} dbname={t2} password={} sslmode=verify-full sslrootcert={}",
        b["password"].as_str().unwrap(),
        ca.display()
    );
    let (ok, _, err) = common::psql(&conninfo, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('on n2')");
    assert!(ok, "{err}");
    let (ok, out, err) = common::psql(&conninfo, "SELECT v FROM kept");
    assert!(ok && out == "on n2", "{out:?} {err}");
    let statuses: std::collections::HashMap<String, String> = home
        .json(&["list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t["status"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!((statuses[&t1].as_str(), statuses[&t2].as_str()), ("running", "running"), "{statuses:?}");

    // Access switched off on the manager: n2's gateway refuses within a second.
    home.ok(&["disable-access", &t2]);
    let switched = Instant::now();
    loop {
        let (ok, _, err) = common::psql(&conninfo, "SELECT 1");
        if !ok && err.contains("does not accept external connections") {
            break;
        }
        assert!(switched.elapsed() < Duration::from_secs(1), "n2's gateway still admits {t2}: {err}");
        std::thread::sleep(Duration::from_millis(50));
    }
    home.ok(&["enable-access", &t2]);
    let (ok, _, err) = common::psql(&conninfo, "SELECT v FROM kept");
    assert!(ok, "{err}");
    // Stop and start reach the tenant's node, and its gateway learns of it.
    home.ok(&["stop", &t2]);
    assert_eq!(home.json(&["info", &t2, "--json"])["status"], "stopped");
    assert!(!common::psql(&conninfo, "SELECT 1").0);
    home.ok(&["start", &t2]);
    let (ok, out, err) = common::psql(&conninfo, "SELECT v FROM kept");
    assert!(ok && out == "on n2", "{out:?} {err}");
    // Verbs that do not reach other nodes yet say so.
    let err = home.fails(&["recreate", &t2]);
    assert!(err.contains("lives on node n2"), "{err}");
    let err = home.fails(&["node", "remove", "n2"]);
    assert!(err.contains("still has tenants"), "{err}");

    // The second host's engine stops: the swarm, and so `pgs node list`, says it is down.
    node_sh(&["stop", "pgs-s2"]);
    let stopped = Instant::now();
    let down = loop {
        let list = home.json(&["node", "list", "--json"]);
        if node(&list, "n2")["state"] == "down" {
            assert_eq!(node(&list, "local")["state"], "ready");
            break stopped.elapsed();
        }
        assert!(stopped.elapsed() < Duration::from_secs(60), "n2 is not reported down: {list}");
        std::thread::sleep(Duration::from_millis(500));
    };
    eprintln!("a stopped node is reported down after {down:?}");
    // Its tenant is `node down`, not `missing`; the manager's tenant is unaffected.
    let list = home.json(&["list", "--json"]);
    let status = |id: &str| list.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()["status"].clone();
    assert_eq!((status(&t1), status(&t2)), ("running".into(), "node down".into()), "{list}");
}
