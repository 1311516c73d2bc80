//! Docker engines in network namespaces of their own, standing in for hosts (the swarm and HA
//! tests, tests/swarm/node.sh): driving them, and the manager's gateway run in the manager's
//! namespace.

use std::process::{Command, Stdio};

use super::Home;

/// `tests/swarm/node.sh ARGS` (start or destroy an engine in a namespace), asserting success.
pub fn node_sh(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/swarm/node.sh");
    let out = Command::new(script).args(args).output().unwrap();
    assert!(out.status.success(), "node.sh {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `docker ARGS` against the engine at `host`, asserting success; its trimmed stdout.
pub fn docker_on(host: &str, args: &[&str]) -> String {
    let out = Command::new("docker").args(args).env("DOCKER_HOST", host).output().unwrap();
    assert!(out.status.success(), "docker {args:?} on {host}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The manager node's gateway, in the foreground, in the manager engine's network namespace
/// (where the managed one would run: on the host network of the manager). Killed on drop; its
/// log is `manager-gateway.log` in the state dir.
pub struct ManagerGateway(std::process::Child);

impl ManagerGateway {
    /// Starts `pgs gateway run` in namespace `ns`, on the engine at `docker_host`.
    pub fn start(home: &Home, ns: &str, docker_host: &str) -> Self {
        let child = Command::new("nsenter")
            .arg(format!("--net=/var/run/netns/{ns}"))
            .args([env!("CARGO_BIN_EXE_pgs"), "gateway", "run"])
            .args(["--listen", "0.0.0.0:5432", "--health-listen", "127.0.0.1:9187"])
            .env("PGS_HOME", home.path())
            .env("DOCKER_HOST", docker_host)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(home.path().join("manager-gateway.log")).unwrap())
            .spawn()
            .unwrap();
        ManagerGateway(child)
    }
}

impl Drop for ManagerGateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A conninfo for `tenant` (with `password`) through the gateway at `addr` as `host`.pgs.test,
/// verify-full.
pub fn through(home: &Home, addr: &str, host: &str, tenant: &str, password: &str) -> String {
    format!(
        "host={host}.pgs.test hostaddr={addr} port=5432 user={tenant} dbname={tenant} password={password} \
         sslmode=verify-full sslrootcert={} connect_timeout=10",
        home.path().join("certs/ca.pem").display()
    )
}
