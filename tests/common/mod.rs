//! Shared fixture for the integration tests: a fresh state dir per test, the offline-built
//! PostgreSQL image, unique tenant ids, and cleanup of every Docker object a test made (by the
//! installation label), even when the test fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::Rng;

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
    /// The installation id from `config.json` (labels its Docker objects).
    pub instance: String,
    /// The test image.
    pub image: String,
}

impl Home {
    /// Runs `pgs setup --yes` in a new temporary state dir, with the test image as default.
    pub fn new() -> Self {
        let image = image();
        let dir = tempfile::tempdir().unwrap();
        let mut home = Self { dir, instance: String::new(), image: image.clone() };
        home.ok(&["setup", "--yes", "--domain", "pgs.test", "--image", &image]);
        let config: serde_json::Value =
            serde_json::from_slice(&std::fs::read(home.path().join("config.json")).unwrap()).unwrap();
        home.instance = config["instance"].as_str().unwrap().to_string();
        home
    }

    /// The state dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `pgs` command with this state dir.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pgs"));
        c.args(args).env("PGS_HOME", self.path()).env_remove("DOCKER_HOST");
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

/// Connects to a tenant directly on its loopback port as its own role.
pub async fn connect(port: u16, user: &str, password: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host("127.0.0.1").port(port).user(user).dbname(user).password(password);
    cfg.connect_timeout(std::time::Duration::from_secs(5));
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    Ok(client)
}

/// Connects using `create --json` / `info --show-password --json` output.
pub async fn connect_tenant(doc: &serde_json::Value) -> tokio_postgres::Client {
    connect(
        doc["local_port"].as_u64().unwrap() as u16,
        doc["user"].as_str().unwrap(),
        doc["password"].as_str().unwrap(),
    )
    .await
    .expect("connect to tenant")
}

/// Path of the built binary.
pub fn pgs_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pgs"))
}
