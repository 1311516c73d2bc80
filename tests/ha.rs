//! High availability (docs/high-availability.md): a tenant with a synchronous standby on another
//! node keeps every acknowledged write and takes writes again after each of a series of faults,
//! and never has two primaries that both accept writes.
//!
//! Three Docker engines in network namespaces of their own stand in for three hosts
//! (tests/swarm/node.sh): `pgs-h1` (10.250.0.11, the manager, node `local`), `pgs-h2` (n2) and
//! `pgs-h3` (n3). `pgs ha init` starts the store (etcd) and the agent on each. The tenant's
//! primary starts on n2 and its standby on n3.
//!
//! While the faults run, 16 writers insert unique ids: 8 through the manager's gateway, 4 through
//! n3's and 4 through the pooled endpoint at the manager. An id counts as acknowledged only when
//! its INSERT returned; after every fault each acknowledged id must be on the primary. A direct
//! checker writes on both members' own sockets every 200 ms (past the gateways), so that a second
//! primary that accepts writes is seen even when no gateway routes to it.
//!
//! Each fault prints `HA-RESULT KIND SECONDS PROMOTED` (bench/ha.sh collects them): SECONDS is
//! the time from the fault to the write that ended the outage (for `switchover`, the write gap
//! pgs measured), PROMOTED whether the primary is on another node afterwards. `PGS_HA_ROUNDS`
//! (default 1) repeats the faults from `docker-kill` to `engine-stopped`.
//!
//! Backups follow the primary: the installation keeps them in S3 (moto on the hosts' bridge),
//! the tenant is backed up before the faults, and after them a backup runs on the primary's
//! node, and the restore drill and `restore --at` recover to a moment between the faults across
//! every timeline the failovers made (a restore drops the standby and streams it anew).

mod common;

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Home;
use common::netns::{ManagerGateway, docker_on, node_sh, through};
use common::s3::S3Server;
use serde_json::Value;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The manager's engine.
const H1: &str = "unix:///run/pgs-h1/docker.sock";

/// How long a writer waits for its INSERT (and a connection) before it gives up on it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// A writer's pause after a failed write or connection, before it connects again.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// A writer's pause after an acknowledged write: about 300 writes a second in all, so that the
/// writers leave the two cores to the store, the agents and PostgreSQL.
const WRITE_PAUSE: Duration = Duration::from_millis(50);
/// How often the direct checker writes on each member, and how long it waits each time.
const PROBE_EVERY: Duration = Duration::from_millis(200);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a fault with a duration lasts (cuts, pauses, a stopped engine).
const FAULT_HOLD: Duration = Duration::from_secs(12);
/// How long the test waits for the agents to bring a killed primary back by themselves before it
/// starts it (the heal of the instant faults).
const SELF_HEAL_WAIT: Duration = Duration::from_secs(20);
/// How long the store stays without quorum in `store-quorum-lost`.
const QUORUM_WINDOW: Duration = Duration::from_secs(15);
/// The first write after a fault must come within this.
const FIRST_WRITE_LIMIT: Duration = Duration::from_secs(60);
/// How long `ha status` may take to show a primary and a synchronous standby again.
const HEALTHY_LIMIT: Duration = Duration::from_secs(90);
/// A gap between acknowledged writes at least this long is an outage (shorter: writes went on).
const OUTAGE_MIN: Duration = Duration::from_secs(1);

/// One of the test's hosts: its pgs node name, network namespace (and engine) and address index.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Host {
    name: &'static str,
    ns: &'static str,
    index: u8,
}

const HOSTS: [Host; 3] = [
    Host { name: "local", ns: "pgs-h1", index: 11 },
    Host { name: "n2", ns: "pgs-h2", index: 12 },
    Host { name: "n3", ns: "pgs-h3", index: 13 },
];

impl Host {
    fn docker(&self) -> String {
        format!("unix:///run/{}/docker.sock", self.ns)
    }

    fn addr(&self) -> String {
        format!("10.250.0.{}", self.index)
    }

    /// Its network interface (inside its namespace).
    fn link(&self) -> String {
        format!("{}-n", self.ns)
    }
}

fn host(name: &str) -> Host {
    HOSTS.iter().copied().find(|h| h.name == name).unwrap_or_else(|| panic!("no test host for node {name:?}"))
}

/// Runs `ARGS` in the network namespace `ns` (`ip netns exec`), asserting success.
fn in_netns(ns: &str, args: &[&str]) {
    let out = Command::new("ip").args(["netns", "exec", ns]).args(args).output().unwrap();
    assert!(out.status.success(), "ip netns exec {ns} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `docker kill CONTAINER` on `host`; a container that is already stopped (its agent fenced it:
/// the store was gone first) is fine.
fn kill_container(host: Host, container: &str) {
    let out = Command::new("docker").args(["kill", container]).env("DOCKER_HOST", host.docker()).output().unwrap();
    if !out.status.success() {
        let running = docker_on(&host.docker(), &["inspect", container, "--format", "{{.State.Running}}"]);
        assert_eq!(
            running,
            "false",
            "docker kill {container} on {}: {}",
            host.name,
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{container} on {} was stopped already (fenced)", host.name);
    }
}

/// Starts `container` on `host` unless it runs.
fn start_unless_running(host: Host, container: &str) -> bool {
    let running = docker_on(&host.docker(), &["inspect", container, "--format", "{{.State.Running}}"]);
    if running != "true" {
        docker_on(&host.docker(), &["start", container]);
        return true;
    }
    false
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// Three engines, destroyed at the start (what a crashed run left) and at the end, with the
/// nodes' dirs of the installation.
struct ThreeHosts {
    /// The installation whose node dirs (/var/lib/pgs/INSTANCE) go too.
    instance: String,
}

impl ThreeHosts {
    fn start(image: &str) -> Self {
        for h in HOSTS.iter().rev() {
            node_sh(&["destroy", h.ns]);
        }
        for h in &HOSTS {
            node_sh(&["start", h.ns, &h.index.to_string()]);
        }
        let load = format!("docker save {image} | DOCKER_HOST={H1} docker load -q");
        let out = Command::new("sh").args(["-c", &load]).output().unwrap();
        assert!(out.status.success(), "{load}: {}", String::from_utf8_lossy(&out.stderr));
        ThreeHosts { instance: String::new() }
    }
}

impl Drop for ThreeHosts {
    fn drop(&mut self) {
        for h in &HOSTS {
            // A fault the test did not get to heal: a paused agent would hold its engine's stop up.
            let _ = Command::new("docker").args(["unpause", "pgs-agent"]).env("DOCKER_HOST", h.docker()).output();
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/swarm/node.sh");
        for h in HOSTS.iter().rev() {
            match Command::new(script).args(["destroy", h.ns]).output() {
                Ok(out) if out.status.success() => {}
                Ok(out) => eprintln!("node.sh destroy {}: {}", h.ns, String::from_utf8_lossy(&out.stderr)),
                Err(e) => eprintln!("node.sh destroy {}: {e}", h.ns),
            }
        }
        let instance = &self.instance;
        if !instance.is_empty() && instance.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            let _ = std::fs::remove_dir_all(format!("/var/lib/pgs/{instance}"));
        }
    }
}

/// The last lines each node's agent logged (for a failure's message).
fn agent_logs() -> String {
    HOSTS
        .iter()
        .map(|h| {
            let out = Command::new("docker")
                .args(["logs", "--tail", "40", "pgs-agent"])
                .env("DOCKER_HOST", h.docker())
                .output()
                .map(|o| format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
                .unwrap_or_else(|e| e.to_string());
            format!("--- pgs-agent on {}:\n{out}", h.name)
        })
        .collect()
}

/// `pgs ARGS`, its JSON output; on failure, the agents' logs with the error.
fn ha_json(home: &Home, args: &[&str]) -> Value {
    let out = home.run(args);
    assert!(out.status.success(), "pgs {args:?} failed: {}\n{}", String::from_utf8_lossy(&out.stderr), agent_logs());
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("pgs {args:?}: {e}"))
}

/// `pgs ARGS` that may not take longer than `secs` (`timeout` ends it: exit code 124).
fn pgs_within(home: &Home, args: &[&str], secs: u64) -> Output {
    Command::new("timeout")
        .args(["-k", "5", &secs.to_string(), env!("CARGO_BIN_EXE_pgs")])
        .args(args)
        .env("PGS_HOME", home.path())
        .env("DOCKER_HOST", H1)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Asserts that `pgs ARGS` is refused with one line on stderr that contains `needle`.
fn refused(home: &Home, args: &[&str], needle: &str) {
    let err = home.fails(args);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(err.contains(needle), "pgs {args:?}: expected a refusal mentioning {needle:?}: {err}");
    assert_eq!(lines.len(), 1, "pgs {args:?}: a refusal is one line: {err}");
}

/// The TLS connector of clients that verify the gateways against the installation's CA.
fn tls(home: &Home) -> MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(home.path().join("certs/ca.pem")).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    MakeRustlsConnect::new(config)
}

/// A client configuration for `tenant` through the gateway at `addr`, endpoint `endpoint`
/// (`TENANT` or `TENANT-pooler`; the SNI name is `ENDPOINT.pgs.test`).
fn via_gateway(addr: &str, endpoint: &str, tenant: &str, password: &str) -> tokio_postgres::Config {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(format!("{endpoint}.pgs.test"))
        .hostaddr(addr.parse().unwrap())
        .port(5432)
        .user(tenant)
        .password(password)
        .dbname(tenant)
        .ssl_mode(tokio_postgres::config::SslMode::Require)
        .connect_timeout(WRITE_TIMEOUT);
    cfg
}

/// Connects with `cfg` through a gateway within `limit` (TLS and authentication included).
async fn open(
    cfg: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
    limit: Duration,
) -> Result<tokio_postgres::Client, String> {
    match tokio::time::timeout(limit, cfg.connect(tls.clone())).await {
        Ok(Ok((client, conn))) => {
            tokio::spawn(conn);
            Ok(client)
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no connection within {limit:?}")),
    }
}

/// Connects to the PostgreSQL whose socket is in `dir` as the superuser `postgres`, database `db`.
async fn open_socket(dir: &str, db: &str, password: &str, limit: Duration) -> Result<tokio_postgres::Client, String> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host_path(dir).port(5432).user("postgres").password(password).dbname(db).connect_timeout(limit);
    match tokio::time::timeout(limit, cfg.connect(tokio_postgres::NoTls)).await {
        Ok(Ok((client, conn))) => {
            tokio::spawn(conn);
            Ok(client)
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no connection within {limit:?}")),
    }
}

/// An acknowledged write: its id, when it was sent and acknowledged, and by which writer path.
#[derive(Clone, Copy)]
struct Ack {
    id: i64,
    sent: Instant,
    at: Instant,
    path: usize,
}

/// The writers' paths: (what, gateway address, endpoint suffix, writers).
const PATHS: [(&str, &str, &str, usize); 3] = [
    ("direct through the manager's gateway", "10.250.0.11", "", 8),
    ("direct through n3's gateway", "10.250.0.13", "", 4),
    ("pooled through the manager's gateway", "10.250.0.11", "-pooler", 4),
];

/// The 16 writers, running on the test's runtime until `stop`.
struct Writers {
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    fn start(ha: &Ha) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let next = Arc::new(AtomicI64::new(1));
        let mut tasks = Vec::new();
        for (path, (_, addr, suffix, count)) in PATHS.iter().enumerate() {
            let cfg = via_gateway(addr, &format!("{}{suffix}", ha.tenant), &ha.tenant, &ha.password);
            for _ in 0..*count {
                let (cfg, tls, next, acks, stop) =
                    (cfg.clone(), ha.tls.clone(), next.clone(), ha.acks.clone(), stop.clone());
                tasks.push(ha.rt.spawn(write_loop(cfg, tls, path, next, acks, stop)));
            }
        }
        Writers { stop, tasks }
    }

    fn stop(self, rt: &tokio::runtime::Runtime) {
        self.stop.store(true, Ordering::Relaxed);
        rt.block_on(async {
            for task in self.tasks {
                let abort = task.abort_handle();
                if tokio::time::timeout(Duration::from_secs(15), task).await.is_err() {
                    abort.abort();
                }
            }
        });
    }
}

/// One writer: connects if it has no session, inserts a new id, and records it only when the
/// INSERT returned; a failed or slow write (or connection) drops the session.
async fn write_loop(
    cfg: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    path: usize,
    next: Arc<AtomicI64>,
    acks: Arc<Mutex<Vec<Ack>>>,
    stop: Arc<AtomicBool>,
) {
    let mut session: Option<tokio_postgres::Client> = None;
    while !stop.load(Ordering::Relaxed) {
        let client = match session.take() {
            Some(client) => client,
            None => match open(&cfg, &tls, WRITE_TIMEOUT + Duration::from_secs(1)).await {
                Ok(client) => client,
                Err(_) => {
                    tokio::time::sleep(RETRY_PAUSE).await;
                    continue;
                }
            },
        };
        let id = next.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&id];
        let insert = client.execute("INSERT INTO acked (id) VALUES ($1)", &params);
        match tokio::time::timeout(WRITE_TIMEOUT, insert).await {
            Ok(Ok(_)) => {
                let at = Instant::now();
                acks.lock().unwrap().push(Ack { id, sent, at, path });
                session = Some(client);
                tokio::time::sleep(WRITE_PAUSE).await;
            }
            _ => {
                drop(client);
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
}

/// A write the direct checker got through on a member's own socket.
#[derive(Clone, Debug)]
struct Probe {
    node: String,
    sent: Instant,
    at: Instant,
}

/// The direct checker: writes into `probe` on each member's own socket every 200 ms.
struct Checker {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Probe>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Checker {
    fn start(ha: &Ha, members: &[&str]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let tasks = members
            .iter()
            .map(|node| {
                let (node, dir, db, password) =
                    (node.to_string(), ha.socket_dir(node), ha.tenant.clone(), ha.superuser.clone());
                let (seen, stop) = (seen.clone(), stop.clone());
                ha.rt.spawn(async move {
                    let mut tick = tokio::time::interval(PROBE_EVERY);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let mut session: Option<tokio_postgres::Client> = None;
                    while !stop.load(Ordering::Relaxed) {
                        tick.tick().await;
                        let client = match session.take() {
                            Some(client) => client,
                            None => match open_socket(&dir, &db, &password, PROBE_TIMEOUT).await {
                                Ok(client) => client,
                                Err(_) => continue,
                            },
                        };
                        let sent = Instant::now();
                        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&node];
                        let insert = client.execute("INSERT INTO probe (node, at) VALUES ($1, now())", &params);
                        if let Ok(Ok(_)) = tokio::time::timeout(PROBE_TIMEOUT, insert).await {
                            let at = Instant::now();
                            seen.lock().unwrap().push(Probe { node: node.clone(), sent, at });
                            session = Some(client);
                        }
                    }
                })
            })
            .collect();
        Checker { stop, seen, tasks }
    }

    fn snapshot(&self) -> Vec<Probe> {
        self.seen.lock().unwrap().clone()
    }

    fn finish(self, rt: &tokio::runtime::Runtime) -> Vec<Probe> {
        self.stop.store(true, Ordering::Relaxed);
        rt.block_on(async {
            for task in self.tasks {
                let _ = task.await;
            }
        });
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Milliseconds of `t` since `t0`, for messages.
fn ms(t0: Instant, t: Instant) -> i128 {
    if t >= t0 { (t - t0).as_millis() as i128 } else { -((t0 - t).as_millis() as i128) }
}

/// Never two primaries: when the primary moved from `old` to `new`, `old` took no direct write
/// sent after `new` acknowledged its first; when it stayed, the standby `standby` took none.
fn assert_one_primary(fault: &str, old: &str, new: &str, standby: &str, probes: &[Probe], t0: Instant) {
    let list = |node: &str| -> Vec<String> {
        probes.iter().filter(|p| p.node == node).map(|p| format!("{}..{}ms", ms(t0, p.sent), ms(t0, p.at))).collect()
    };
    if old == new {
        assert!(
            list(standby).is_empty(),
            "{fault}: the standby on {standby} took direct writes while {old} stayed primary \
             (ms since the fault, sent..acknowledged)\n{standby}: {:?}\n{old}: {:?}",
            list(standby),
            list(old)
        );
        return;
    }
    let others: Vec<&Probe> = probes.iter().filter(|p| p.node != old && p.node != new).collect();
    assert!(others.is_empty(), "{fault}: a member that is neither the old nor the new primary took writes: {others:?}");
    let Some(first_new) = probes.iter().filter(|p| p.node == new).map(|p| p.at).min() else { return };
    let late = probes.iter().filter(|p| p.node == old && p.sent > first_new).count();
    assert!(
        late == 0,
        "{fault}: two primaries: {old} took {late} direct writes sent after {new} took its first \
         (ms since the fault, sent..acknowledged)\n{old}: {:?}\n{new}: {:?}",
        list(old),
        list(new)
    );
}

/// The faults, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Switchover,
    DockerKill,
    Kill9,
    NodeCut,
    OneWayCut,
    AgentPaused,
    EngineStopped,
    StoreMemberLost,
    StoreQuorumLost,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Switchover => "switchover",
            Fault::DockerKill => "docker-kill",
            Fault::Kill9 => "kill-9",
            Fault::NodeCut => "node-cut",
            Fault::OneWayCut => "one-way-cut",
            Fault::AgentPaused => "agent-paused",
            Fault::EngineStopped => "engine-stopped",
            Fault::StoreMemberLost => "store-member-lost",
            Fault::StoreQuorumLost => "store-quorum-lost",
        }
    }
}

/// What a fault's run gives: its kind, the seconds to the write that ended the outage, and
/// whether the primary moved.
struct FaultResult {
    kind: &'static str,
    secs: f64,
    promoted: bool,
}

/// The HA tenant under test and what the test needs to reach it.
struct Ha<'a> {
    home: &'a Home,
    rt: &'a tokio::runtime::Runtime,
    tenant: String,
    password: String,
    /// The password of its instances' superuser `postgres` (secrets/TENANT.json).
    superuser: String,
    tls: MakeRustlsConnect,
    acks: Arc<Mutex<Vec<Ack>>>,
}

impl Ha<'_> {
    /// `pgs ha status TENANT --json` (at most 15 s).
    fn status(&self) -> Result<Value, String> {
        let out = pgs_within(self.home, &["ha", "status", &self.tenant, "--json"], 15);
        if !out.status.success() {
            return Err(format!("exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr).trim()));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }

    /// Waits until `ha status` shows the store, a running primary and a synchronous standby on
    /// another node.
    fn wait_healthy(&self, what: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let last = self.status();
            if let Ok(st) = &last {
                let (primary, standby) = (&st["primary"], &st["standby"]);
                if st["store"] == "ok"
                    && primary["state"] == "running"
                    && standby["sync"] == true
                    && standby["node"].is_string()
                    && standby["node"] != primary["node"]
                {
                    return st.clone();
                }
            }
            assert!(
                started.elapsed() < limit,
                "{what}: no running primary with a synchronous standby after {limit:?}: {last:?}\n{}",
                agent_logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The socket dir of the tenant's PostgreSQL on `node`, on this machine.
    fn socket_dir(&self, node: &str) -> String {
        if node == "local" {
            self.home.path().join("sockets").join(&self.tenant).display().to_string()
        } else {
            format!("/var/lib/pgs/{}/{node}/sockets/{}", self.home.instance, self.tenant)
        }
    }

    /// `SELECT pg_is_in_recovery()` on `node`'s own socket (1 s).
    async fn in_recovery(&self, node: &str) -> Result<bool, String> {
        let client = open_socket(&self.socket_dir(node), &self.tenant, &self.superuser, PROBE_TIMEOUT).await?;
        match tokio::time::timeout(PROBE_TIMEOUT, client.query_one("SELECT pg_is_in_recovery()", &[])).await {
            Ok(Ok(row)) => Ok(row.get(0)),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 1 s".into()),
        }
    }

    /// A session on the primary through the manager's gateway (within 30 s).
    async fn primary(&self) -> tokio_postgres::Client {
        let cfg = via_gateway("10.250.0.11", &self.tenant, &self.tenant, &self.password);
        let started = Instant::now();
        loop {
            let last = match open(&cfg, &self.tls, Duration::from_secs(10)).await {
                Ok(client) => match client.query_one("SELECT pg_is_in_recovery()", &[]).await {
                    Ok(row) if !row.get::<_, bool>(0) => return client,
                    Ok(_) => "the gateway routed to a server in recovery".to_string(),
                    Err(e) => e.to_string(),
                },
                Err(e) => e,
            };
            assert!(started.elapsed() < Duration::from_secs(30), "no primary through the manager's gateway: {last}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Inserts marker `n` on the primary and returns the server's time after its commit (UTC,
    /// RFC 3339).
    fn mark(&self, n: i32) -> String {
        self.rt.block_on(async {
            let client = self.primary().await;
            client.execute("INSERT INTO marker VALUES ($1)", &[&n]).await.unwrap();
            client
                .query_one(
                    "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
                    &[],
                )
                .await
                .unwrap()
                .get(0)
        })
    }

    /// When the primary's PostgreSQL started (tells a restart in place).
    fn postmaster_started(&self) -> String {
        self.rt.block_on(async {
            let client = self.primary().await;
            client.query_one("SELECT pg_postmaster_start_time()::text", &[]).await.unwrap().get(0)
        })
    }

    /// Asserts that every id acknowledged so far is in `acked` on the primary; returns how many.
    fn check_acked(&self, what: &str) -> usize {
        let ids: Vec<i64> = self.acks.lock().unwrap().iter().map(|a| a.id).collect();
        self.rt.block_on(async {
            let client = self.primary().await;
            let rows = client
                .query(
                    "SELECT x FROM unnest($1::bigint[]) AS x WHERE NOT EXISTS (SELECT 1 FROM acked WHERE id = x) \
                     ORDER BY x LIMIT 20",
                    &[&ids],
                )
                .await
                .unwrap_or_else(|e| panic!("{what}: checking the acknowledged ids: {e}"));
            let missing: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            assert!(
                missing.is_empty(),
                "{what}: acknowledged writes are missing on the primary (the first of them): {missing:?}"
            );
        });
        ids.len()
    }

    /// The first acknowledged write that was sent at or after `since`: (acknowledged at, path).
    fn first_ack_sent_after(&self, since: Instant) -> Option<(Instant, usize)> {
        let acks = self.acks.lock().unwrap();
        acks.iter()
            .rev()
            .take_while(|a| a.at + Duration::from_secs(1) >= since)
            .filter(|a| a.sent >= since)
            .min_by_key(|a| a.at)
            .map(|a| (a.at, a.path))
    }

    /// Waits until a write sent at or after `since` was acknowledged, at most until `deadline`.
    fn wait_write_after(&self, since: Instant, deadline: Instant) -> Option<(Instant, usize)> {
        loop {
            if let Some(found) = self.first_ack_sent_after(since) {
                return Some(found);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The outage in the acknowledged writes between `t0` and `end`: (time from `t0` to the write
    /// that ended the longest gap, that gap). Without a gap of `OUTAGE_MIN`, writes went on: the
    /// time to the first write after `t0`.
    fn outage(&self, t0: Instant, end: Instant) -> (Duration, Duration) {
        let mut times: Vec<Instant> = {
            let acks = self.acks.lock().unwrap();
            acks.iter()
                .rev()
                .take_while(|a| a.at + Duration::from_secs(1) >= t0)
                .filter(|a| a.at > t0 && a.at <= end)
                .map(|a| a.at)
                .collect()
        };
        times.sort();
        let (mut prev, mut longest, mut back) = (t0, Duration::ZERO, t0);
        for &t in &times {
            if t - prev > longest {
                (longest, back) = (t - prev, t);
            }
            prev = t;
        }
        if longest >= OUTAGE_MIN {
            (back - t0, longest)
        } else {
            (times.first().map_or(Duration::ZERO, |&t| t - t0), longest)
        }
    }

    /// The fault window of `store-quorum-lost`: for 15 s after the primary was killed, the
    /// standby stays in recovery (or does not answer), no member takes a direct write, no client
    /// write is acknowledged, and `ha status` says the store has no quorum.
    fn quorum_window(&self, checker: &Checker, standby: &str, killed: Instant) {
        let until = killed + QUORUM_WINDOW;
        let mut status: Option<std::process::Child> = None;
        let (mut checks, mut answered) = (0, 0);
        while Instant::now() < until {
            if status.is_none() && killed.elapsed() >= Duration::from_secs(6) {
                let child = Command::new("timeout")
                    .args(["-k", "5", "15", env!("CARGO_BIN_EXE_pgs"), "ha", "status", &self.tenant, "--json"])
                    .env("PGS_HOME", self.home.path())
                    .env("DOCKER_HOST", H1)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                status = Some(child);
            }
            checks += 1;
            match self.rt.block_on(self.in_recovery(standby)) {
                Ok(true) => answered += 1,
                Ok(false) => panic!(
                    "store-quorum-lost: the standby on {standby} left recovery {:?} after the primary was killed, \
                     without a store quorum",
                    killed.elapsed()
                ),
                Err(_) => {}
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        eprintln!("store-quorum-lost: the standby answered in recovery {answered} of {checks} times, never as primary");
        // The primary goes on (Docker restarts it) until its agent fences it, 3 s after its last
        // lease renewal at most: writes until then are the one primary's, none after.
        let fenced = killed + Duration::from_millis(4500);
        let late: Vec<Probe> = checker.snapshot().into_iter().filter(|p| p.sent >= fenced).collect();
        assert!(late.is_empty(), "store-quorum-lost: direct writes succeeded without a store quorum: {late:?}");
        let acked_late: Vec<(i64, i128)> = {
            let acks = self.acks.lock().unwrap();
            acks.iter().filter(|a| a.at > fenced).map(|a| (a.id, ms(killed, a.at))).collect()
        };
        assert!(
            acked_late.is_empty(),
            "store-quorum-lost: writes were acknowledged without a store quorum (id, ms after the kill): {acked_late:?}"
        );
        let out = status.expect("ha status was started").wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "store-quorum-lost: `pgs ha status` without quorum: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let st: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(st["store"], "no quorum", "store-quorum-lost: {st}");
    }

    /// Runs one fault (see the module's doc and the brief in each arm) and checks the tenant
    /// afterwards. `to`: the target of a switchover.
    fn fault(&self, kind: Fault, to: Option<&str>) -> FaultResult {
        let name = kind.name();
        let before = self.wait_healthy(&format!("before {name}"), HEALTHY_LIMIT);
        let node_of = |st: &Value, role: &str| st[role]["node"].as_str().unwrap_or("local").to_string();
        let (p, s) = (node_of(&before, "primary"), node_of(&before, "standby"));
        let (ph, sh) = (host(&p), host(&s));
        let third = HOSTS.iter().copied().find(|h| h.name != p && h.name != s).unwrap();
        let epoch_before = before["epoch"].as_f64().unwrap_or_else(|| panic!("epoch: {before}"));
        let started_before = self.postmaster_started();
        let container = format!("pgs-{}", self.tenant);
        let checker = Checker::start(self, &[p.as_str(), s.as_str()]);
        // The checker's sessions are open before the fault.
        std::thread::sleep(Duration::from_millis(600));

        let t0 = Instant::now();
        let mut stated_gap = None;
        match kind {
            Fault::Switchover => {
                let mut args = vec!["switchover", self.tenant.as_str(), "--json"];
                args.extend(to.map(|to| ["--to", to]).into_iter().flatten());
                let out = self.home.json(&args);
                let expected = to.unwrap_or(&s);
                assert!(out["tenant"] == self.tenant.as_str() && out["from"] == p && out["to"] == expected, "{out}");
                let gap = out["write_gap_ms"].as_f64().unwrap_or_else(|| panic!("write_gap_ms: {out}"));
                // The target (2 s) is bench/ha.sh's to judge; this only catches a hand-off that hangs.
                assert!(gap <= 10_000.0, "switchover: a write gap of {gap} ms: {out}");
                stated_gap = Some(gap / 1000.0);
            }
            Fault::DockerKill => {
                docker_on(&ph.docker(), &["kill", &container]);
            }
            Fault::Kill9 => {
                let kill = r#"kill -9 $(head -1 "$PGDATA/postmaster.pid")"#;
                // The container may go down under the exec: its exit status says little.
                let out = Command::new("docker")
                    .args(["exec", &container, "sh", "-c", kill])
                    .env("DOCKER_HOST", ph.docker())
                    .output()
                    .unwrap();
                eprintln!(
                    "kill-9: docker exec exited {:?} {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            Fault::NodeCut => in_netns(ph.ns, &["ip", "link", "set", &ph.link(), "down"]),
            Fault::OneWayCut => in_netns(ph.ns, &["iptables", "-I", "INPUT", "1", "-i", &ph.link(), "-j", "DROP"]),
            Fault::AgentPaused => {
                docker_on(&ph.docker(), &["pause", "pgs-agent"]);
            }
            Fault::EngineStopped => node_sh(&["stop", ph.ns]),
            Fault::StoreMemberLost => {
                // The primary's agent hangs while a third of the store is gone: the two members
                // left (the primary's and the standby's) still elect, and the lease expires.
                // (A killed container would come back in place: Docker restarts it.)
                docker_on(&third.docker(), &["stop", "pgs-etcd"]);
                docker_on(&ph.docker(), &["pause", "pgs-agent"]);
            }
            Fault::StoreQuorumLost => {
                for h in [third, sh] {
                    docker_on(&h.docker(), &["stop", "pgs-etcd"]);
                }
                kill_container(ph, &container);
            }
        }
        let injected = Instant::now();
        eprintln!("{name}: primary {p}, standby {s}; injected in {:?}", injected - t0);

        let heal = || match kind {
            Fault::Switchover | Fault::Kill9 => {}
            Fault::DockerKill => {
                start_unless_running(ph, &container);
            }
            Fault::NodeCut => {
                in_netns(ph.ns, &["ip", "link", "set", &ph.link(), "up"]);
                // The default route went with the link.
                in_netns(ph.ns, &["ip", "route", "replace", "default", "via", "10.250.0.1"]);
            }
            Fault::OneWayCut => in_netns(ph.ns, &["iptables", "-D", "INPUT", "-i", &ph.link(), "-j", "DROP"]),
            Fault::AgentPaused => {
                docker_on(&ph.docker(), &["unpause", "pgs-agent"]);
            }
            Fault::EngineStopped => node_sh(&["start", ph.ns, &ph.index.to_string()]),
            Fault::StoreMemberLost => {
                docker_on(&third.docker(), &["start", "pgs-etcd"]);
                docker_on(&ph.docker(), &["unpause", "pgs-agent"]);
            }
            Fault::StoreQuorumLost => {
                for h in [third, sh] {
                    docker_on(&h.docker(), &["start", "pgs-etcd"]);
                }
                start_unless_running(ph, &container);
            }
        };
        match kind {
            Fault::Switchover => {}
            Fault::DockerKill | Fault::Kill9 => {
                // The agents bring the old primary back as standby; the test starts its container
                // only if they have not after a while.
                if self.wait_write_after(injected, t0 + SELF_HEAL_WAIT).is_none() {
                    eprintln!("{name}: no write within {SELF_HEAL_WAIT:?}: the test heals before the first write");
                }
                heal();
            }
            Fault::NodeCut | Fault::OneWayCut | Fault::AgentPaused | Fault::EngineStopped | Fault::StoreMemberLost => {
                sleep_until(t0 + FAULT_HOLD);
                heal();
            }
            Fault::StoreQuorumLost => {
                self.quorum_window(&checker, &s, injected);
                heal();
            }
        }
        let healed = Instant::now();

        let (first, path) = self.wait_write_after(injected, t0 + FIRST_WRITE_LIMIT).unwrap_or_else(|| {
            panic!("{name}: no write acknowledged within {FIRST_WRITE_LIMIT:?} of the fault (primary {p})")
        });
        let after = self.wait_healthy(&format!("after {name}"), HEALTHY_LIMIT);
        let healthy = Instant::now();
        // The outage is over in the writers' record too.
        self.wait_write_after(healthy, healthy + Duration::from_secs(30))
            .unwrap_or_else(|| panic!("{name}: ha status shows a healthy pair but no write went through: {after}"));
        let probes = checker.finish(self.rt);
        let q = node_of(&after, "primary");
        assert_one_primary(name, &p, &q, &s, &probes, t0);

        let promoted = q != p;
        let epoch_after = after["epoch"].as_f64().unwrap_or_else(|| panic!("epoch: {after}"));
        if promoted {
            assert!(epoch_after > epoch_before, "{name}: a new primary ({q}) without a new epoch: {before} -> {after}");
        }
        let restarted = self.postmaster_started() != started_before;
        match kind {
            Fault::Switchover => {
                assert_eq!(q, to.unwrap_or(&s), "{name}: {after}");
            }
            Fault::StoreQuorumLost => {}
            _ => assert!(
                promoted || restarted,
                "{name}: neither a promotion nor a restart of the primary on {p}: {after}"
            ),
        }
        if kind == Fault::StoreMemberLost {
            assert!(promoted, "{name}: no failover with two of three store members: {after}");
        }
        if promoted && kind != Fault::Switchover {
            let last = &after["last_failover"];
            assert!(
                last["from"] == p.as_str()
                    && last["to"] == q.as_str()
                    && last["at_ms"].is_number()
                    && last["reason"].is_string(),
                "{name}: last_failover does not name the failover {p} -> {q}: {after}"
            );
        }
        let acked = self.check_acked(&format!("after {name}"));

        let (back, longest_gap) = self.outage(t0, Instant::now());
        let secs = stated_gap.unwrap_or(back.as_secs_f64());
        assert!(secs <= FIRST_WRITE_LIMIT.as_secs_f64(), "{name}: writes were back only {secs:.1} s after the fault");
        eprintln!(
            "{name}: first write sent after the fault acknowledged {:.2} s after it ({}), writes back after {:.2} s \
             (longest gap {:.2} s), healed at {:.1} s, healthy at {:.1} s; primary {p} -> {q} (promoted {promoted}, \
             restarted in place {}), epoch {epoch_before} -> {epoch_after}, {} direct writes checked, {acked} \
             acknowledged writes all on the primary",
            (first - t0).as_secs_f64(),
            PATHS[path].0,
            back.as_secs_f64(),
            longest_gap.as_secs_f64(),
            (healed - t0).as_secs_f64(),
            (healthy - t0).as_secs_f64(),
            restarted && !promoted,
            probes.len(),
        );
        println!("HA-RESULT {name} {secs:.2} {promoted}");
        FaultResult { kind: name, secs, promoted }
    }
}

#[test]
fn a_tenant_with_a_synchronous_standby_keeps_acknowledged_writes_through_faults() {
    let rounds: usize = std::env::var("PGS_HA_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(1).max(1);
    let image = common::image();
    let mut hosts = ThreeHosts::start(&image);
    // The repository on the hosts' bridge, which every node's containers reach.
    let s3 = S3Server::start("10.250.0.1", "pgs-ha");
    // SAFETY: no other thread of this test runs yet; the pgs commands it runs inherit the keys.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "pgs-test");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "pgs-test-secret");
    }
    let home = Home::with_setup_on(
        Some(H1),
        &[
            "--yes",
            "--no-gateway",
            "--domain",
            "pgs.test",
            "--backups",
            "s3",
            "--s3-endpoint",
            &s3.endpoint,
            "--s3-bucket",
            "pgs-ha",
            "--s3-path-style",
            "--s3-no-verify-tls",
        ],
    );
    hosts.instance = home.instance.clone();
    home.json(&["swarm", "init", "--advertise-addr", "10.250.0.11", "--json"]);
    for h in &HOSTS[1..] {
        let added = home.json(&["node", "add", h.name, "--docker-host", &h.docker(), "--address", &h.addr(), "--json"]);
        assert_eq!(added["state"], "ready", "{added}");
    }

    // Without the store, no HA tenant.
    let early = common::unique("ha");
    refused(&home, &["create", &early, "--ha"], "pgs ha init");
    let list = home.json(&["list", "--json"]);
    assert!(list.as_array().unwrap().iter().all(|t| t["id"] != early.as_str()), "{list}");

    let started = Instant::now();
    let init = home.json(&["ha", "init", "--json"]);
    eprintln!("ha init (a store member and an agent on each of three nodes): {:?}: {init}", started.elapsed());
    for h in &HOSTS {
        for container in ["pgs-etcd", "pgs-agent"] {
            let state = docker_on(
                &h.docker(),
                &["inspect", container, "--format", "{{.State.Running}} {{.HostConfig.NetworkMode}}"],
            );
            assert_eq!(state, "true host", "{container} on {}", h.name);
        }
        let store: std::net::SocketAddr = format!("{}:2379", h.addr()).parse().unwrap();
        assert!(
            std::net::TcpStream::connect_timeout(&store, Duration::from_secs(2)).is_ok(),
            "the store member on {} does not listen on {store}",
            h.name
        );
    }
    let _manager_gateway = ManagerGateway::start(&home, "pgs-h1", H1);

    let tenant = common::unique("ha");
    let started = Instant::now();
    let created = home.json(&[
        "create",
        &tenant,
        "--ha",
        "--node",
        "n2",
        "--standby-node",
        "n3",
        "--durability",
        "required",
        "--json",
    ]);
    eprintln!("create --ha (primary on n2, synchronous standby on n3): {:?}", started.elapsed());
    assert_eq!(
        (created["id"].as_str(), created["node"].as_str(), created["status"].as_str()),
        (Some(tenant.as_str()), Some("n2"), Some("running")),
        "{created}"
    );
    // Its role set, as `pgs list` shows it.
    assert_eq!(created["ha"].as_str(), Some("primary@n2 + standby@n3 (sync)"), "{created}");
    let password = created["password"].as_str().unwrap().to_string();
    let secrets = home.state_file(&format!("secrets/{tenant}.json"));
    let superuser = secrets["superuser_password"].as_str().unwrap().to_string();

    // What is refused, in one line each.
    let other = common::unique("ha");
    refused(&home, &["create", &other, "--ha", "--node", "n2", "--standby-node", "n2"], "standby");
    refused(&home, &["switchover", &tenant, "--to", "local"], "no standby");
    refused(&home, &["stop", &tenant], "pgs ha disable");
    refused(&home, &["move", &tenant, "--to", "local", "--yes"], "pgs ha disable");
    refused(&home, &["remove", &tenant, "--yes"], "pgs ha disable");

    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let ha = Ha {
        home: &home,
        rt: &rt,
        tenant: tenant.clone(),
        password: password.clone(),
        superuser,
        tls: tls(&home),
        acks: Arc::new(Mutex::new(Vec::new())),
    };

    let st = ha.wait_healthy("after create", HEALTHY_LIMIT);
    eprintln!("ha status: {st}");
    assert_eq!((st["tenant"].as_str(), st["durability"].as_str()), (Some(tenant.as_str()), Some("required")), "{st}");
    assert_eq!((st["primary"]["node"].as_str(), st["standby"]["node"].as_str()), (Some("n2"), Some("n3")), "{st}");
    assert!(st["epoch"].is_number() && st["last_failover"].is_null(), "{st}");
    assert!(st["standby"]["lag_bytes"].is_number() || st["standby"]["lag_bytes"].is_null(), "{st}");
    let all = home.json(&["ha", "status", "--json"]);
    assert!(all.as_array().is_some_and(|a| a.iter().any(|t| t["tenant"] == tenant.as_str())), "{all}");
    let list = home.json(&["list", "--json"]);
    let entry =
        list.as_array().unwrap().iter().find(|t| t["id"] == tenant.as_str()).unwrap_or_else(|| panic!("{list}"));
    let shown = entry["ha"].as_str().unwrap_or_else(|| panic!("no ha in list: {entry}"));
    assert!(shown.contains("primary@n2") && shown.contains("standby@n3"), "{shown}");

    // Each member's own socket: n2 is the primary, n3 in recovery.
    rt.block_on(async {
        assert_eq!(ha.in_recovery("n2").await, Ok(false), "n2's socket: {}", ha.socket_dir("n2"));
        assert_eq!(ha.in_recovery("n3").await, Ok(true), "n3's socket: {}", ha.socket_dir("n3"));
    });

    // Every gateway path the writers use serves, and the tables are made.
    rt.block_on(async {
        for (what, addr, suffix, _) in PATHS {
            let cfg = via_gateway(addr, &format!("{tenant}{suffix}"), &tenant, &password);
            let started = Instant::now();
            loop {
                let last = match open(&cfg, &ha.tls, Duration::from_secs(10)).await {
                    Ok(client) => match client.simple_query("SELECT 1").await {
                        Ok(_) => break,
                        Err(e) => e.to_string(),
                    },
                    Err(e) => e,
                };
                assert!(started.elapsed() < Duration::from_secs(30), "{what}: {last}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        let client = ha.primary().await;
        client
            .batch_execute(
                "CREATE TABLE acked (id bigint PRIMARY KEY); CREATE TABLE probe (node text, at timestamptz); \
                 CREATE TABLE marker (n int)",
            )
            .await
            .unwrap();
    });
    // The first backup, on n2's primary (timeline 1).
    let backup = home.json(&["backup", "run", &tenant, "--json"]);
    assert_eq!(backup["kind"], "full", "{backup}");

    // The read-only endpoint `TENANT-ro` reaches the streaming standby (through the manager's
    // gateway, relayed to n3's), read-only; the manager's gateway reports the tenant's HA state.
    rt.block_on(async {
        let cfg = via_gateway("10.250.0.11", &format!("{tenant}-ro"), &tenant, &password);
        let started = Instant::now();
        let client = loop {
            match open(&cfg, &ha.tls, Duration::from_secs(10)).await {
                Ok(c) => match c.query_one("SELECT pg_is_in_recovery()", &[]).await {
                    Ok(row) if row.get::<_, bool>(0) => break c,
                    other => assert!(started.elapsed() < Duration::from_secs(20), "{tenant}-ro: {other:?}"),
                },
                Err(e) => assert!(started.elapsed() < Duration::from_secs(20), "{tenant}-ro: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        };
        let err = client.batch_execute("CREATE TABLE nope (x int)").await.expect_err("a write on -ro");
        assert_eq!(err.code(), Some(&tokio_postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION), "{err}");
    });
    let metrics = Command::new("ip")
        .args(["netns", "exec", "pgs-h1", "curl", "-s", "http://127.0.0.1:9187/metrics"])
        .output()
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics.stdout);
    for series in ["pgs_ha_has_primary", "pgs_ha_standby_streaming"] {
        assert!(metrics.contains(&format!("{series}{{tenant=\"{tenant}\"}} 1")), "{series}: {metrics}");
    }

    let writers = Writers::start(&ha);
    let started = Instant::now();
    for (path, (what, ..)) in PATHS.iter().enumerate() {
        while !ha.acks.lock().unwrap().iter().any(|a| a.path == path) {
            assert!(started.elapsed() < Duration::from_secs(30), "no write acknowledged {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    let mut results = Vec::new();
    results.push(ha.fault(Fault::Switchover, None));
    results.push(ha.fault(Fault::Switchover, Some("n2")));
    for round in 1..=rounds {
        eprintln!("unplanned faults, round {round} of {rounds}");
        for kind in [
            Fault::DockerKill,
            Fault::Kill9,
            Fault::NodeCut,
            Fault::OneWayCut,
            Fault::AgentPaused,
            Fault::EngineStopped,
        ] {
            results.push(ha.fault(kind, None));
        }
    }
    // A moment between the faults that `restore --at` goes back to: marker 1 is committed
    // before it, marker 2 after the last failover.
    let moment = ha.mark(1);
    std::thread::sleep(Duration::from_secs(1));
    results.push(ha.fault(Fault::StoreMemberLost, None));
    results.push(ha.fault(Fault::StoreQuorumLost, None));

    writers.stop(&rt);
    let acknowledged = ha.check_acked("at the end");
    let rows: i64 = rt.block_on(async {
        let client = ha.primary().await;
        client.query_one("SELECT count(*) FROM acked", &[]).await.unwrap().get(0)
    });
    assert!(rows as usize >= acknowledged, "{rows} rows in acked, {acknowledged} writes acknowledged");
    ha.mark(2);

    // Backups followed the primary: archiving went on from each new primary (a backup needs
    // the WAL up to now archived), a backup runs on the primary's node, and the drill recovers
    // to the moment across every timeline since the first backup.
    let st = ha.wait_healthy("before the backups", HEALTHY_LIMIT);
    let started = Instant::now();
    let backup = home.json(&["backup", "run", &tenant, "--json"]);
    eprintln!("backup run on the primary ({}): {:?}: {backup}", st["primary"]["node"], started.elapsed());
    let list = home.json(&["backup", "list", &tenant, "--json"]);
    assert!(list["backups"].as_array().is_some_and(|b| b.len() == 2), "{list}");
    let started = Instant::now();
    let drill = home.json(&["backup", "verify", &tenant, "--at", &moment, "--json"]);
    eprintln!("backup verify --at {moment}: {:?}: {drill}", started.elapsed());
    assert_eq!(drill["ok"], true, "{drill}");

    // Back to a plain tenant: its data stays and serves.
    let st = ha.wait_healthy("before ha disable", HEALTHY_LIMIT);
    // `pgs node drain` of the primary's node switches it over (to n2 if it is on n3).
    let primary = st["primary"]["node"].as_str().unwrap().to_string();
    let drained = home.json(&["node", "drain", &primary, "--json"]);
    eprintln!("node drain {primary}: {drained}");
    let switched = drained["switched"].as_array().unwrap();
    assert!(switched.len() == 1 && switched[0]["from"] == primary.as_str(), "{drained}");
    let st = ha.wait_healthy("after node drain", HEALTHY_LIMIT);
    // `ha disable` keeps the primary where it runs: its node becomes the tenant's.
    let (kept, other) =
        (st["primary"]["node"].as_str().unwrap().to_string(), st["standby"]["node"].as_str().unwrap().to_string());
    home.ok(&["ha", "disable", &tenant]);
    let list = home.json(&["list", "--json"]);
    let entry =
        list.as_array().unwrap().iter().find(|t| t["id"] == tenant.as_str()).unwrap_or_else(|| panic!("{list}"));
    assert!(entry.get("ha").is_none_or(Value::is_null), "still HA after ha disable: {entry}");
    assert_eq!(entry["node"].as_str(), Some(kept.as_str()), "{entry}");
    let other_docker = HOSTS.iter().find(|h| h.name == other).unwrap().docker();
    let left = docker_on(&other_docker, &["ps", "-aq", "--filter", &format!("name=^pgs-{tenant}$")]);
    assert!(left.is_empty(), "the standby's container is still on {other}: {left}");
    let conninfo = through(&home, "10.250.0.11", &tenant, &tenant, &password);
    let started = Instant::now();
    loop {
        let (ok, out, err) = common::psql(&conninfo, "SELECT count(*) FROM acked");
        if ok && out.parse::<usize>().is_ok_and(|n| n >= acknowledged) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "after ha disable: {out:?} {err}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // `ha enable` on the existing tenant: a standby streamed from its running primary.
    let started = Instant::now();
    let enabled = ha_json(&home, &["ha", "enable", &tenant, "--standby-node", &other, "--json"]);
    eprintln!("ha enable of the existing tenant: {:?}: {enabled}", started.elapsed());
    assert_eq!(
        (enabled["primary"]["node"].as_str(), enabled["standby"]["node"].as_str()),
        (Some(kept.as_str()), Some(other.as_str())),
        "{enabled}"
    );
    ha.wait_healthy("after ha enable", HEALTHY_LIMIT);

    // `restore --at` the moment between the faults: marker 1 is there, marker 2 is not, and the
    // standby is back, synchronous.
    let started = Instant::now();
    let restored = ha_json(&home, &["restore", &tenant, "--at", &moment, "--yes", "--json"]);
    eprintln!("restore --at {moment} of the HA tenant: {:?}: {restored}", started.elapsed());
    assert!(restored["events"].to_string().contains("synchronous again"), "{restored}");
    ha.wait_healthy("after restore", HEALTHY_LIMIT);
    let (ok, out, err) = common::psql(&conninfo, "SELECT string_agg(n::text, ',' ORDER BY n) FROM marker");
    assert!(ok && out == "1", "the markers after restore --at {moment}: {out:?} {err}");

    // `preferred`: commits go on while the standby does not answer (asynchronous then, and
    // `ha status` says so; `required` would wait as long as it is away), and the standby is
    // synchronous again once it is back.
    home.ok(&["ha", "disable", &tenant]);
    let enabled =
        ha_json(&home, &["ha", "enable", &tenant, "--standby-node", &other, "--durability", "preferred", "--json"]);
    assert_eq!(enabled["durability"], "preferred", "{enabled}");
    ha.wait_healthy("with preferred durability", HEALTHY_LIMIT);
    let standby_engine = host(&other).docker();
    docker_on(&standby_engine, &["pause", &format!("pgs-{tenant}")]);
    let started = Instant::now();
    let (ok, _, err) = common::psql(&conninfo, "INSERT INTO marker VALUES (3)");
    let took = started.elapsed();
    eprintln!("preferred: a commit with the standby paused took {took:?}");
    assert!(ok && took < Duration::from_secs(30), "a commit with the standby paused (preferred): {took:?} {err}");
    let st = ha.status().unwrap_or_default();
    // Unless its agent restarted it meanwhile (a copy that does not answer for 20 s rejoins).
    let _ =
        Command::new("docker").args(["unpause", &format!("pgs-{tenant}")]).env("DOCKER_HOST", &standby_engine).output();
    assert_ne!(st["standby"]["sync"], true, "the paused standby still counts as synchronous: {st}");
    ha.wait_healthy("preferred, the standby back", HEALTHY_LIMIT);

    println!();
    println!("HA summary: {acknowledged} acknowledged writes, all on the primary at the end ({rows} rows)");
    println!("{:<20} {:>10} {:>9}", "fault", "seconds", "promoted");
    for r in &results {
        println!("{:<20} {:>10.2} {:>9}", r.kind, r.secs, r.promoted);
    }
}

// The benchmark of HA's costs (bench/ha.sh runs it): write TPS with a synchronous standby, with
// an asynchronous one and without HA; the memory and CPU of an idle HA tenant against a plain
// one; the same with 100 HA tenants present.

/// How long the tenants stay idle before the idle cost is sampled.
const BENCH_IDLE: Duration = Duration::from_secs(60);
/// How often `docker stats` samples the engines, and how many samples (30 s).
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
const SAMPLES: u32 = 7;
/// How many `pgs create --ha` run at once.
const CREATE_BATCH: usize = 4;
/// How long the HA tenants of the second part may take to all have a synchronous standby.
const ALL_HEALTHY_LIMIT: Duration = Duration::from_secs(900);

/// A number from the environment, or `default`.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `pgs swarm init`, `pgs node add` of n2 and n3 (engines pgs-h2 and pgs-h3) and `pgs ha init`,
/// as the fault test does them (without its checks).
fn swarm_with_ha(home: &Home) {
    home.json(&["swarm", "init", "--advertise-addr", "10.250.0.11", "--json"]);
    for h in &HOSTS[1..] {
        let added = home.json(&["node", "add", h.name, "--docker-host", &h.docker(), "--address", &h.addr(), "--json"]);
        assert_eq!(added["state"], "ready", "{added}");
    }
    let started = Instant::now();
    let init = home.json(&["ha", "init", "--json"]);
    eprintln!("ha init: {:?}: {init}", started.elapsed());
}

/// Waits until `conninfo` answers `SELECT 1` (within 60 s).
fn wait_serving(conninfo: &str, what: &str) {
    let started = Instant::now();
    loop {
        let (ok, out, err) = common::psql(conninfo, "SELECT 1");
        if ok && out == "1" {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{what} does not serve through the gateway: {out} {err}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Runs SQL through `conninfo`, asserting success; returns its output.
fn sql_ok(conninfo: &str, sql: &str) -> String {
    let (ok, out, err) = common::psql(conninfo, sql);
    assert!(ok, "{sql}: {out} {err}");
    out
}

/// `pgbench -i -s SCALE` through `conninfo`.
fn pgbench_init(conninfo: &str, scale: u32, what: &str) {
    let started = Instant::now();
    let out = Command::new("pgbench")
        .args(["-i", "-q", "-s", &scale.to_string(), conninfo])
        .stdin(Stdio::null())
        .output()
        .expect("pgbench (apt-get install postgresql-contrib)");
    assert!(
        out.status.success(),
        "pgbench -i {what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("pgbench -i -s {scale} {what}: {:?}", started.elapsed());
}

/// `pgbench -N -c 8 -j 2 -T SECS -n` through `conninfo`: its TPS (no transaction may fail).
fn pgbench_write_tps(conninfo: &str, secs: u64, what: &str) -> f64 {
    let out = Command::new("pgbench")
        .args(["-N", "-c", "8", "-j", "2", "-T", &secs.to_string(), "-n", conninfo])
        .stdin(Stdio::null())
        .output()
        .expect("pgbench (apt-get install postgresql-contrib)");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "pgbench -N {what}:\n{text}");
    if let Some(failed) = text.lines().find(|l| l.starts_with("number of failed transactions:")) {
        assert!(failed.starts_with("number of failed transactions: 0 "), "pgbench -N {what}: {failed}\n{text}");
    }
    // "tps = 1234.567890 (without initial connection time)"
    text.lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("pgbench -N {what}: no tps line:\n{text}"))
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A size as `docker stats` prints it (`12.5MiB`, `1.9GiB`, `512KiB`, `0B`), in MiB.
fn mib(size: &str) -> Option<f64> {
    let split = size.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = size.split_at(split);
    let factor = match unit {
        "B" => 1.0 / 1048576.0,
        "KiB" => 1.0 / 1024.0,
        "kB" | "KB" => 1000.0 / 1048576.0,
        "MiB" => 1.0,
        "MB" => 1e6 / 1048576.0,
        "GiB" => 1024.0,
        "GB" => 1e9 / 1048576.0,
        "TiB" => 1048576.0,
        _ => return None,
    };
    number.trim().parse::<f64>().ok().map(|n| n * factor)
}

/// One line of `docker stats --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}'`: (name, CPU % of
/// one core, memory MiB). None for a container without figures (stopped: `--`).
fn stats_line(line: &str) -> Option<(String, f64, f64)> {
    let mut fields = line.split_whitespace();
    let name = fields.next()?;
    let cpu = fields.next()?.strip_suffix('%')?.parse().ok()?;
    let mem = mib(fields.next()?)?;
    Some((name.to_string(), cpu, mem))
}

/// The samples of every container: (node, container) -> (CPU %, memory MiB) per sample.
type Samples = std::collections::BTreeMap<(String, String), Vec<(f64, f64)>>;

/// Samples `docker stats` on the three engines every 5 s, 7 times (30 s), the engines at once.
fn sample_engines() -> Samples {
    let mut samples = Samples::new();
    let start = Instant::now();
    for i in 0..SAMPLES {
        sleep_until(start + SAMPLE_EVERY * i);
        let outs: Vec<(Host, String)> = std::thread::scope(|s| {
            let running: Vec<_> = HOSTS
                .iter()
                .map(|h| {
                    s.spawn(move || {
                        let format = "{{.Name}} {{.CPUPerc}} {{.MemUsage}}";
                        (*h, docker_on(&h.docker(), &["stats", "--no-stream", "--format", format]))
                    })
                })
                .collect();
            running.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for (h, out) in outs {
            for (name, cpu, mem) in out.lines().filter_map(stats_line) {
                samples.entry((h.name.to_string(), name)).or_default().push((cpu, mem));
            }
        }
    }
    samples
}

/// The average (CPU %, memory MiB) of a container's samples.
fn average(samples: &[(f64, f64)]) -> (f64, f64) {
    let n = samples.len().max(1) as f64;
    (samples.iter().map(|s| s.0).sum::<f64>() / n, samples.iter().map(|s| s.1).sum::<f64>() / n)
}

/// The average of `container` on `node`; panics if it was not sampled.
fn idle_of(samples: &Samples, node: &str, container: &str) -> (f64, f64) {
    let sampled = samples.get(&(node.to_string(), container.to_string()));
    average(sampled.unwrap_or_else(|| panic!("{container} on {node} was not sampled: {:?}", samples.keys())))
}

/// `pgs ha status --json` of every HA tenant (at most 60 s).
fn ha_status_all(home: &Home) -> Result<Vec<Value>, String> {
    let out = pgs_within(home, &["ha", "status", "--json"], 60);
    if !out.status.success() {
        return Err(format!("exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let all: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&out.stdout)))?;
    all.as_array().cloned().ok_or_else(|| format!("not an array: {all}"))
}

/// A tenant's `ha status` shows the store, a running primary and a synchronous standby elsewhere.
fn healthy(st: &Value) -> bool {
    let (primary, standby) = (&st["primary"], &st["standby"]);
    st["store"] == "ok"
        && primary["state"] == "running"
        && standby["sync"] == true
        && standby["node"].is_string()
        && standby["node"] != primary["node"]
}

/// Waits until each of `tenants` has a running primary and a synchronous standby; returns their
/// statuses.
fn wait_all_healthy(home: &Home, tenants: &[String], limit: Duration) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let last = ha_status_all(home);
        if let Ok(all) = &last {
            let unhealthy: Vec<&String> =
                tenants.iter().filter(|t| !all.iter().any(|st| st["tenant"] == t.as_str() && healthy(st))).collect();
            if unhealthy.is_empty() {
                return all.clone();
            }
            assert!(
                started.elapsed() < limit,
                "{} of {} HA tenants without a running primary and a synchronous standby after {limit:?}: {unhealthy:?}",
                unhealthy.len(),
                tenants.len()
            );
        } else {
            assert!(started.elapsed() < limit, "pgs ha status: {last:?}");
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

/// The benchmark: one run, on the three engines of the fault test.
///
/// 1. Write TPS (`pgbench -N -c 8 -j 2 -T PGS_BENCH_SECONDS`, default 15 s, through the
///    manager's gateway, scale 5), median of `PGS_BENCH_TPS_ROUNDS` (3) interleaved rounds of: a
///    plain tenant on n2 (no HA), an HA tenant (primary on n2, `required`) with its synchronous
///    standby on n3, and the same tenant asynchronous (`ALTER ROLE ... SET synchronous_commit =
///    local`: commits stop waiting for the standby, which still streams).
/// 2. Idle cost: after 60 s idle, `docker stats` on the engines every 5 s for 30 s: the plain
///    tenant, the HA tenant's primary and standby, `pgs-agent` and `pgs-etcd` on each node.
/// 3. `PGS_BENCH_HA_TENANTS` (100) HA tenants in all: the others (`--memory 128m`) created 4 at a
///    time, then 60 s idle and the same sampling: per-tenant memory and CPU of primaries and
///    standbys, the agents and the store members.
///
/// Prints a table of `HA-BENCH ...` lines at the end (bench/ha.sh collects them): `HA-BENCH tps
/// MODE MEDIAN ROUND...`, `HA-BENCH idle WHAT CPU% MEM_MIB` (WHAT@NODE), `HA-BENCH idle-N WHAT
/// CPU% MEM_MIB` (with N HA tenants; `-each`: the average of one tenant's container) and
/// `HA-BENCH create N TOTAL_S P50_S MAX_S`. CPU is in % of one core, as `docker stats` shows it.
#[test]
#[ignore = "a benchmark: bench/ha.sh runs it"]
fn bench_write_tps_and_idle_cost() {
    let secs: u64 = env_or("PGS_BENCH_SECONDS", 15);
    let rounds: usize = env_or("PGS_BENCH_TPS_ROUNDS", 3usize).max(1);
    let ha_tenants: usize = env_or("PGS_BENCH_HA_TENANTS", 100usize).max(1);
    let image = common::image();
    let mut hosts = ThreeHosts::start(&image);
    let home = Home::with_setup_on(Some(H1), &["--yes", "--no-gateway", "--domain", "pgs.test"]);
    hosts.instance = home.instance.clone();
    swarm_with_ha(&home);
    let _manager_gateway = ManagerGateway::start(&home, "pgs-h1", H1);
    let mut table: Vec<String> = Vec::new();

    // The two tenants, on the same node, reached the same way (the manager's gateway, relayed to
    // n2's).
    let plain = home.json(&["create", "plain", "--node", "n2", "--json"]);
    assert_eq!((plain["node"].as_str(), plain["status"].as_str()), (Some("n2"), Some("running")), "{plain}");
    let started = Instant::now();
    let hasync = home.json(&[
        "create",
        "hasync",
        "--ha",
        "--node",
        "n2",
        "--standby-node",
        "n3",
        "--durability",
        "required",
        "--json",
    ]);
    eprintln!("create --ha hasync: {:?}", started.elapsed());
    assert_eq!(hasync["ha"].as_str(), Some("primary@n2 + standby@n3 (sync)"), "{hasync}");
    let plain_conn = through(&home, "10.250.0.11", "plain", "plain", plain["password"].as_str().unwrap());
    let ha_conn = through(&home, "10.250.0.11", "hasync", "hasync", hasync["password"].as_str().unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let ha = Ha {
        home: &home,
        rt: &rt,
        tenant: "hasync".into(),
        password: hasync["password"].as_str().unwrap().to_string(),
        superuser: home.state_file("secrets/hasync.json")["superuser_password"].as_str().unwrap().to_string(),
        tls: tls(&home),
        acks: Arc::new(Mutex::new(Vec::new())),
    };
    ha.wait_healthy("hasync after create", HEALTHY_LIMIT);
    wait_serving(&plain_conn, "plain");
    wait_serving(&ha_conn, "hasync");
    pgbench_init(&plain_conn, 5, "plain");
    pgbench_init(&ha_conn, 5, "hasync");

    // Write TPS, the three modes in turn in every round, so that drifts of the machine hit all.
    let modes = ["plain", "sync", "async"];
    let mut tps: Vec<Vec<f64>> = vec![Vec::new(); modes.len()];
    for round in 1..=rounds {
        for (i, mode) in modes.iter().enumerate() {
            let conn = if *mode == "plain" { &plain_conn } else { &ha_conn };
            if *mode != "plain" {
                ha.wait_healthy(&format!("before the {mode} round"), HEALTHY_LIMIT);
            }
            if *mode == "async" {
                sql_ok(&ha_conn, "ALTER ROLE hasync SET synchronous_commit = local");
                assert_eq!(sql_ok(&ha_conn, "SHOW synchronous_commit"), "local");
            }
            let value = pgbench_write_tps(conn, secs, mode);
            if *mode == "async" {
                sql_ok(&ha_conn, "ALTER ROLE hasync RESET synchronous_commit");
                assert_eq!(sql_ok(&ha_conn, "SHOW synchronous_commit"), "on");
                let st = ha.wait_healthy("after the async round", HEALTHY_LIMIT);
                eprintln!("after the async round: the standby streams, lag {}", st["standby"]["lag_bytes"]);
            }
            eprintln!("round {round} of {rounds}: {mode} {value:.0} TPS");
            tps[i].push(value);
        }
    }
    for (mode, values) in modes.iter().zip(&tps) {
        let rounds: Vec<String> = values.iter().map(|v| format!("{v:.0}")).collect();
        table.push(format!("tps {mode} {:.0} {}", median(values), rounds.join(" ")));
    }

    // Idle cost of one HA tenant against a plain one.
    let st = ha.wait_healthy("before the idle sampling", HEALTHY_LIMIT);
    let (p, s) =
        (st["primary"]["node"].as_str().unwrap().to_string(), st["standby"]["node"].as_str().unwrap().to_string());
    eprintln!("idle {BENCH_IDLE:?}, then docker stats every {SAMPLE_EVERY:?}, {SAMPLES} times");
    std::thread::sleep(BENCH_IDLE);
    let idle = sample_engines();
    let mut rows = vec![
        ("plain@n2".to_string(), idle_of(&idle, "n2", "pgs-plain")),
        (format!("ha-primary@{p}"), idle_of(&idle, &p, "pgs-hasync")),
        (format!("ha-standby@{s}"), idle_of(&idle, &s, "pgs-hasync")),
    ];
    for h in &HOSTS {
        rows.push((format!("agent@{}", h.name), idle_of(&idle, h.name, "pgs-agent")));
        rows.push((format!("etcd@{}", h.name), idle_of(&idle, h.name, "pgs-etcd")));
    }
    for (what, (cpu, mem)) in &rows {
        eprintln!("idle, one HA tenant: {what}: {cpu:.2} % CPU, {mem:.1} MiB");
        table.push(format!("idle {what} {cpu:.2} {mem:.1}"));
    }

    // The other HA tenants, CREATE_BATCH at a time.
    let names: Vec<String> = (1..ha_tenants).map(|i| format!("ha-{i:03}")).collect();
    let started = Instant::now();
    let mut took: Vec<f64> = Vec::new();
    for (b, batch) in names.chunks(CREATE_BATCH).enumerate() {
        let results: Vec<(String, Output, Duration)> = std::thread::scope(|scope| {
            let running: Vec<_> = batch
                .iter()
                .map(|name| {
                    let home = &home;
                    scope.spawn(move || {
                        let t = Instant::now();
                        let args = [
                            "create",
                            name.as_str(),
                            "--ha",
                            "--node",
                            "n2",
                            "--standby-node",
                            "n3",
                            "--memory",
                            "128m",
                            "--json",
                        ];
                        let out = home.run(&args);
                        (name.clone(), out, t.elapsed())
                    })
                })
                .collect();
            running.into_iter().map(|r| r.join().unwrap()).collect()
        });
        for (name, out, elapsed) in results {
            assert!(
                out.status.success(),
                "pgs create {name} --ha (batch {}): {}",
                b + 1,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            took.push(elapsed.as_secs_f64());
        }
        eprintln!("created {} of {} more HA tenants in {:?}", took.len(), names.len(), started.elapsed());
    }
    let create_total = started.elapsed();
    let mut all_ha = names.clone();
    all_ha.push("hasync".into());
    let statuses = wait_all_healthy(&home, &all_ha, ALL_HEALTHY_LIMIT);
    eprintln!(
        "{} HA tenants created in {create_total:?} ({CREATE_BATCH} at a time), all with a synchronous standby after {:?}",
        names.len(),
        started.elapsed()
    );
    if !took.is_empty() {
        let max = took.iter().copied().fold(0.0, f64::max);
        table.push(format!("create {} {:.1} {:.1} {max:.1}", names.len(), create_total.as_secs_f64(), median(&took)));
    }

    // Idle cost with all of them: each tenant's primary and standby, by its role now.
    eprintln!("idle {BENCH_IDLE:?} with {ha_tenants} HA tenants, then docker stats");
    std::thread::sleep(BENCH_IDLE);
    let many = sample_engines();
    let phase = format!("idle-{ha_tenants}");
    for role in ["primary", "standby"] {
        let mut per_node: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
        for name in &names {
            let st = statuses.iter().find(|st| st["tenant"] == name.as_str()).unwrap();
            let node = st[role]["node"].as_str().unwrap_or("local").to_string();
            if let Some(sampled) = many.get(&(node.clone(), format!("pgs-{name}"))) {
                per_node.entry(node).or_default().push(average(sampled));
            }
        }
        for (node, each) in per_node {
            let (cpu, mem) = average(&each);
            let (sum_cpu, sum_mem) = (each.iter().map(|e| e.0).sum::<f64>(), each.iter().map(|e| e.1).sum::<f64>());
            eprintln!(
                "{phase}: {} {role}s on {node}: {cpu:.2} % CPU, {mem:.1} MiB each; {sum_cpu:.1} % and {sum_mem:.0} MiB in all",
                each.len()
            );
            table.push(format!("{phase} ha-{role}-each@{node} {cpu:.2} {mem:.1}"));
            table.push(format!("{phase} ha-{role}-all@{node} {sum_cpu:.2} {sum_mem:.1}"));
        }
    }
    for h in &HOSTS {
        for (what, container) in [("agent", "pgs-agent"), ("etcd", "pgs-etcd")] {
            let (cpu, mem) = idle_of(&many, h.name, container);
            eprintln!("{phase}: {what}@{}: {cpu:.2} % CPU, {mem:.1} MiB", h.name);
            table.push(format!("{phase} {what}@{} {cpu:.2} {mem:.1}", h.name));
        }
    }

    println!();
    println!("HA-BENCH seconds {secs} rounds {rounds} ha-tenants {ha_tenants} samples {SAMPLES}");
    for line in &table {
        println!("HA-BENCH {line}");
    }
}
