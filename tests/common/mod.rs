//! Shared fixture for the integration tests: a fresh state dir per test, the offline-built
//! PostgreSQL image, unique tenant ids, and cleanup of every Docker object a test made (by the
//! installation label), even when the test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::Rng;

pub mod netns;
pub mod s3;

/// The PostgreSQL image tenants run on in tests (built by `tests/image/build.sh`).
pub fn image() -> String {
    let image = std::env::var("PGS_TEST_IMAGE").unwrap_or_else(|_| "pgs-test-postgres:15".to_string());
    let present = Command::new("docker").args(["image", "inspect", &image]).output().map(|o| o.status.success());
    assert!(
        present.unwrap_or(false),
        "test image {image} is missing: run tests/image/build.sh (tests/run.sh does it for you)"
    );
    image
}

/// A tenant id unique across concurrent tests: `prefix` plus random letters.
pub fn unique(prefix: &str) -> String {
    let suffix: String = (0..6).map(|_| rand::rng().random_range(b'a'..=b'z') as char).collect();
    format!("{prefix}-{suffix}")
}

/// A pgs installation in a temporary state dir.
pub struct Home {
    dir: tempfile::TempDir,
    /// The engine pgs talks to (`DOCKER_HOST`; none: the default one).
    docker_host: Option<String>,
    /// The installation id from `config.json` (labels its Docker objects).
    pub instance: String,
    /// The test image.
    pub image: String,
}

impl Home {
    /// Runs `pgs setup --yes` in a new temporary state dir, with the test image as default.
    pub fn new() -> Self {
        Self::with_setup(&["--yes", "--no-gateway", "--domain", "pgs.test"])
    }

    /// Runs `pgs setup ARGS --image TEST_IMAGE` in a new temporary state dir.
    pub fn with_setup(args: &[&str]) -> Self {
        Self::with_setup_on(None, args)
    }

    /// As [`Home::with_setup`], with pgs talking to the engine at `docker_host` (which must have
    /// the test image) instead of the default one.
    pub fn with_setup_on(docker_host: Option<&str>, args: &[&str]) -> Self {
        let image = image();
        let dir = tempfile::tempdir().unwrap();
        let docker_host = docker_host.map(str::to_owned);
        let mut home = Self { dir, docker_host, instance: String::new(), image: image.clone() };
        let mut setup = vec!["setup"];
        setup.extend(args);
        setup.extend(["--image", &image]);
        let out = home.run(&setup);
        // Read the instance first, so that Drop cleans up even if setup failed half-way.
        if let Ok(bytes) = std::fs::read(home.path().join("config.json")) {
            let config: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            home.instance = config["instance"].as_str().unwrap_or_default().to_string();
        }
        assert!(out.status.success(), "pgs setup failed: {}", String::from_utf8_lossy(&out.stderr));
        home
    }

    /// An installation another program set up in `dir` (the previous release, say): this
    /// fixture manages it from now on and removes its Docker objects at the end.
    pub fn adopt(dir: tempfile::TempDir) -> Self {
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
        let instance = config["instance"].as_str().unwrap().to_string();
        Self { dir, docker_host: None, instance, image: image() }
    }

    /// The state dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `pgs` command with this state dir.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pgs"));
        c.args(args).env("PGS_HOME", self.path()).env_remove("DOCKER_HOST");
        if let Some(host) = &self.docker_host {
            c.env("DOCKER_HOST", host);
        }
        c
    }

    /// Runs `pgs ARGS`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs `pgs ARGS`, asserts success and returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "pgs {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs `pgs ARGS`, asserts failure and returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "pgs {args:?} should have failed: {}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8(out.stderr).unwrap()
    }

    /// Runs `pgs ARGS` (which must print JSON) and parses stdout.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Creates a tenant and returns `create --json`'s document.
    pub fn create(&self, id: &str) -> serde_json::Value {
        self.json(&["create", id, "--json"])
    }

    /// A state file, parsed.
    pub fn state_file(&self, name: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.path().join(name)).unwrap()).unwrap()
    }

    /// The status `pgs info` reports for a tenant.
    pub fn status(&self, id: &str) -> String {
        self.json(&["info", id, "--json"])["status"].as_str().unwrap().to_string()
    }

    /// Waits (at most `secs`) until `pgs info` reports tenant `id` as `want`; how long it took.
    pub fn wait_status(&self, id: &str, want: &str, secs: u64) -> std::time::Duration {
        let started = std::time::Instant::now();
        loop {
            let status = self.status(id);
            if status == want {
                return started.elapsed();
            }
            assert!(started.elapsed().as_secs() < secs, "{id} is {status}, not {want}, after {secs}s");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        if self.instance.is_empty() {
            return;
        }
        let filter = format!("label=io.pgs.instance={}", self.instance);
        for (list, rm) in [
            (vec!["ps", "-aq", "--filter", &filter], vec!["rm", "-f"]),
            (vec!["network", "ls", "-q", "--filter", &filter], vec!["network", "rm"]),
            (vec!["volume", "ls", "-q", "--filter", &filter], vec!["volume", "rm", "-f"]),
        ] {
            let ids = docker(&list);
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = rm.clone();
                args.extend(ids);
                docker(&args);
            }
        }
    }
}

/// Runs the docker CLI (tests only; pgs itself talks to the API) and returns stdout.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker CLI");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether `docker ARGS` succeeds.
pub fn docker_ok(args: &[&str]) -> bool {
    Command::new("docker").args(args).output().map(|o| o.status.success()).unwrap_or(false)
}

/// Connects to a tenant directly over its socket (in `socket_dir`) as its own role.
pub async fn connect(
    socket_dir: &str,
    user: &str,
    password: &str,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host_path(socket_dir).port(5432).user(user).dbname(user).password(password);
    cfg.connect_timeout(std::time::Duration::from_secs(5));
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// Connects using `create --json` / `info --show-password --json` output.
pub async fn connect_tenant(doc: &serde_json::Value) -> tokio_postgres::Client {
    connect(doc["socket_dir"].as_str().unwrap(), doc["user"].as_str().unwrap(), doc["password"].as_str().unwrap())
        .await
        .expect("connect to tenant")
}

/// A port on 127.0.0.1 relayed to the Unix socket `socket`: TCP access to a tenant (which
/// listens on no network) for a client that speaks only TCP. The relay lives as long as the
/// test process.
pub fn tcp_relay(socket: PathBuf) -> u16 {
    use std::io::copy;
    use std::net::Shutdown;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let socket = socket.clone();
            std::thread::spawn(move || {
                let Ok(unix) = std::os::unix::net::UnixStream::connect(&socket) else { return };
                let (Ok(mut tcp_in), Ok(mut unix_out)) = (tcp.try_clone(), unix.try_clone()) else { return };
                let up = std::thread::spawn(move || {
                    let _ = copy(&mut tcp_in, &mut unix_out);
                    let _ = unix_out.shutdown(Shutdown::Write);
                });
                let (mut tcp, mut unix) = (tcp, unix);
                let _ = copy(&mut unix, &mut tcp);
                let _ = tcp.shutdown(Shutdown::Write);
                let _ = up.join();
            });
        }
    });
    port
}

/// Path of the built binary.
pub fn pgs_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pgs"))
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `pgs gateway run` child process on free loopback ports; killed on drop.
pub struct GatewayProc {
    child: std::process::Child,
    /// Client port.
    pub port: u16,
    /// Health port.
    pub health: u16,
}

impl GatewayProc {
    /// Starts the gateway for `home` (whose config gets this gateway's port) and waits until
    /// `/ready` answers 200.
    pub fn start(home: &Home, extra: &[&str]) -> Self {
        let port = free_port();
        let health = free_port();
        home.ok(&[
            "setup",
            "--yes",
            "--no-gateway",
            "--gateway-port",
            &port.to_string(),
            "--health-port",
            &health.to_string(),
        ]);
        let listen = format!("127.0.0.1:{port}");
        let health_listen = format!("127.0.0.1:{health}");
        let mut args = vec!["gateway", "run", "--listen", &listen, "--health-listen", &health_listen];
        args.extend(extra);
        let log = std::fs::File::create(home.path().join("gateway.log")).unwrap();
        let child = home.cmd(&args).stdout(std::process::Stdio::null()).stderr(log).spawn().unwrap();
        let gw = Self { child, port, health };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while gw.http("/ready").0 != 200 {
            assert!(std::time::Instant::now() < deadline, "gateway not ready: {}", home.gateway_log());
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        gw
    }

    /// Starts a second `pgs gateway run` on the same ports, which takes the listeners over from
    /// this one; waits until it accepts. Its log is `gateway-2.log` in the state dir.
    pub fn successor(&self, home: &Home, extra: &[&str]) -> Self {
        let listen = format!("127.0.0.1:{}", self.port);
        let health_listen = format!("127.0.0.1:{}", self.health);
        let mut args = vec!["gateway", "run", "--listen", &listen, "--health-listen", &health_listen];
        args.extend(extra);
        let log_path = home.path().join("gateway-2.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = home.cmd(&args).stdout(std::process::Stdio::null()).stderr(log).spawn().unwrap();
        let gw = Self { child, port: self.port, health: self.health };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !std::fs::read_to_string(&log_path).unwrap_or_default().contains("gateway listening") {
            assert!(
                std::time::Instant::now() < deadline,
                "successor not listening: {}",
                std::fs::read_to_string(&log_path).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        gw
    }

    /// GETs a path on the health port: (status, body).
    pub fn http(&self, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.health)) else { return (0, String::new()) };
        let _ = write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        let mut resp = String::new();
        let _ = s.read_to_string(&mut resp);
        let status = resp.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = resp.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }

    /// Sends a signal to the gateway process.
    pub fn signal(&self, sig: &str) {
        Command::new("kill").args([&format!("-{sig}"), &self.child.id().to_string()]).status().unwrap();
    }

    /// Waits for the process to exit (up to `secs`), returning whether it did.
    pub fn wait_exit(&mut self, secs: u64) -> bool {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    }
}

impl Drop for GatewayProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Home {
    /// The gateway's log so far (for assertion messages).
    pub fn gateway_log(&self) -> String {
        std::fs::read_to_string(self.path().join("gateway.log")).unwrap_or_default()
    }

    /// The local CA file clients trust.
    pub fn ca_file(&self) -> PathBuf {
        self.path().join("certs/ca.pem")
    }
}

/// Runs psql with a connection string and SQL; returns (success, stdout, stderr).
pub fn psql(conninfo: &str, sql: &str) -> (bool, String, String) {
    let out = Command::new("psql")
        .args([conninfo, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("psql");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// `pgbench ARGS URL`, in the background, output captured.
pub fn pgbench(url: &str, args: &[&str]) -> std::process::Child {
    std::process::Command::new("pgbench")
        .args(args)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for pgbench; panics unless it ran transactions and none failed. Returns its output.
pub fn pgbench_clean(child: std::process::Child, what: &str) -> String {
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what}: pgbench failed:\n{text}");
    assert!(text.contains("number of failed transactions: 0 "), "{what}:\n{text}");
    assert!(!text.contains("error"), "{what}:\n{text}");
    text
}

/// `psql URL -c SQL` in the background, output captured.
pub fn psql_bg(url: &str, sql: &str) -> std::process::Child {
    std::process::Command::new("psql")
        .args([url, "-X", "-A", "-t", "-c", sql])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a background command: (success, stdout and stderr).
pub fn finished(child: std::process::Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}
