//! Waiting until a tenant's database accepts a real, authenticated connection.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{Platform, Result, fail};

use crate::docker::{Docker, tenant::Status};
use crate::gateway::backend::BackendAddr;
use crate::state::{Secrets, Tenant, TenantId, container_name};

/// Whether the server is the one to stay: not recovering, and listening (the image's temporary
/// init server listens on no address).
const READY_QUERY: &str = "SELECT pg_is_in_recovery(), current_setting('listen_addresses') <> ''";

/// How often a wait asks Docker whether the container still runs.
const INSPECT_EVERY: Duration = Duration::from_millis(500);

/// The pause after a try that found no server (no socket yet): such a try costs next to
/// nothing, and a shorter pause returns sooner once the server is up.
const RETRY_SOON: Duration = Duration::from_millis(20);

/// The pause after a try that a server answered (the image's temporary one, one starting or
/// recovering): each such try costs the tenant a backend and a SCRAM exchange.
const RETRY_LATER: Duration = Duration::from_millis(100);

/// How to log in to check readiness.
pub struct Probe<'a> {
    /// Container name (to check it is still alive and to fetch logs on failure).
    pub container: &'a str,
    /// Where the tenant's PostgreSQL is reached from the host; `None` for a tenant on another
    /// node, whose socket this host cannot reach: it is asked from inside its container.
    pub addr: Option<BackendAddr>,
    /// Role and database.
    pub user: &'a str,
    /// Password of the role.
    pub password: &'a str,
}

impl Platform {
    /// The tenant's stored passwords.
    pub(super) fn stored_secrets(&self, id: &TenantId) -> Result<Secrets> {
        let missing = || super::Error::NoSecrets { id: id.clone(), path: self.state.secrets_path(id) };
        self.state.secrets(id)?.ok_or_else(missing)
    }

    /// Runs `psql` as the superuser in tenant `id`'s container (on `docker`), over its socket,
    /// with `args` after the connection options (`-c SQL`, output options); fails with its
    /// output when psql does.
    pub(super) async fn superuser_psql(
        &self,
        docker: &Docker,
        id: &TenantId,
        args: &[&str],
        timeout: Duration,
    ) -> Result<crate::docker::run::Output> {
        let secrets = self.state.secrets(id)?.filter(|s| !s.superuser_password.is_empty()).ok_or_else(|| {
            super::Error::Invalid(format!("pgs does not know the superuser password of {id} (an adopted tenant?)"))
        })?;
        let argv: Vec<String> =
            ["psql", "-h", crate::state::CONTAINER_SOCKET_DIR, "-U", "postgres", "-d", "postgres", "-X"]
                .iter()
                .chain(args)
                .map(|s| s.to_string())
                .collect();
        let env = [format!("PGPASSWORD={}", secrets.superuser_password)];
        let out = docker.exec(&container_name(id), "postgres", &argv, &env, timeout).await?;
        if !out.success() {
            fail!(Failing, "psql in {id}'s container failed (exit {}):\n{}", out.code, out.tail(5));
        }
        Ok(out)
    }

    /// Where the host reaches a tenant's PostgreSQL (see [`host_addr`]).
    pub(super) fn host_addr(&self, id: &TenantId, tenant: &Tenant) -> BackendAddr {
        host_addr(self.state.tenant_socket(id), tenant.local_port)
    }

    /// Waits until tenant `id` (as `tenant` records it), whose container `docker` runs, accepts
    /// a login of its own role and is the server to stay ([`wait_ready`]): what every verb that
    /// starts a tenant's container does next.
    pub(super) async fn wait_until_ready(
        &self,
        docker: &Docker,
        id: &TenantId,
        tenant: &Tenant,
        timeout: Duration,
    ) -> Result<()> {
        let secrets = self.stored_secrets(id)?;
        let probe = Probe {
            container: &container_name(id),
            addr: tenant.node.is_none().then(|| self.host_addr(id, tenant)),
            user: id.as_str(),
            password: &secrets.password,
        };
        wait_ready(docker, &probe, timeout).await
    }
}

/// Where the host reaches a tenant's PostgreSQL: its socket in the state dir, or, for a tenant
/// made by an earlier release whose container mounts no socket dir, its loopback port.
pub fn host_addr(socket: PathBuf, local_port: Option<u16>) -> BackendAddr {
    match local_port {
        Some(port) if !socket.exists() => BackendAddr::Tcp(std::net::SocketAddr::from(([127, 0, 0, 1], port))),
        _ => BackendAddr::Unix(socket),
    }
}

/// Logs in to `addr` as `cfg` says (no TLS: a socket, or the host's own loopback); the
/// connection runs in a task of its own until the client is dropped.
pub async fn login(addr: &BackendAddr, cfg: &tokio_postgres::Config) -> Result<tokio_postgres::Client, String> {
    let stream = addr.connect().await.map_err(|e| e.to_string())?;
    let (client, conn) = cfg.connect_raw(stream, tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(client)
}

/// Tries one authenticated connection and asks whether the server is the one to stay: not the
/// image's temporary server that runs the init scripts of a new data dir (it listens on no
/// address: pgs's servers listen on the container's loopback), and not recovering (after a
/// restore it accepts connections while it replays WAL, read-only). A failure comes with the
/// pause before the next try: short when nothing answered, longer when a server did.
async fn try_connect(docker: &Docker, probe: &Probe<'_>) -> Result<bool, (String, Duration)> {
    let Some(addr) = &probe.addr else { return try_in_container(docker, probe).await };
    let mut cfg = tokio_postgres::Config::new();
    cfg.user(probe.user).dbname(probe.user).password(probe.password);
    let stream = addr.connect().await.map_err(|e| (e.to_string(), RETRY_SOON))?;
    let (client, conn) =
        cfg.connect_raw(stream, tokio_postgres::NoTls).await.map_err(|e| (e.to_string(), RETRY_LATER))?;
    tokio::spawn(conn);
    let row = client.query_one(READY_QUERY, &[]).await.map_err(|e| (e.to_string(), RETRY_LATER))?;
    Ok(!row.get::<_, bool>(0) && row.get::<_, bool>(1))
}

/// As [`try_connect`], with `psql` inside the tenant's container over its socket: one `docker
/// exec` per try while a tenant on another node is made, never a recurring one.
async fn try_in_container(docker: &Docker, probe: &Probe<'_>) -> Result<bool, (String, Duration)> {
    let cmd =
        ["psql", "-h", crate::state::CONTAINER_SOCKET_DIR, "-U", probe.user, "-d", probe.user, "-XAtqc", READY_QUERY];
    let cmd: Vec<String> = cmd.map(String::from).to_vec();
    let env = [format!("PGPASSWORD={}", probe.password), "PGCONNECT_TIMEOUT=5".to_string()];
    let out = docker
        .exec(probe.container, "postgres", &cmd, &env, Duration::from_secs(10))
        .await
        .map_err(|e| (e.to_string(), RETRY_LATER))?;
    if !out.success() {
        return Err((out.tail(2), RETRY_LATER));
    }
    Ok(out.stdout.trim() == "f|t")
}

/// Waits until the database accepts `probe`'s login, the container dies, or `timeout` passes.
/// Failures carry the container's last log lines.
pub async fn wait_ready(docker: &Docker, probe: &Probe<'_>, timeout: Duration) -> Result<()> {
    let spinner = crate::progress::step(&format!("waiting for {} to accept connections", probe.user));
    let started = Instant::now();
    let mut last_inspect = started;
    let outcome = loop {
        let (last_error, pause) = match tokio::time::timeout(Duration::from_secs(12), try_connect(docker, probe)).await
        {
            Ok(Ok(true)) => break Ok(()),
            Ok(Ok(false)) => ("still initialising or recovering".to_string(), RETRY_LATER),
            Ok(Err(failed)) => failed,
            Err(_) => ("login timed out".to_string(), RETRY_SOON),
        };
        // Whether the container died: asked of Docker at most every half second (one inspect
        // per try made create slower as Docker's state grew with the tenant count).
        if last_inspect.elapsed() >= INSPECT_EVERY {
            last_inspect = Instant::now();
            let status = docker.container_status(probe.container).await?;
            if matches!(status, Status::Stopped | Status::Missing | Status::Restarting) {
                break Err(format!("container {} is {status}", probe.container));
            }
        }
        if started.elapsed() > timeout {
            break Err(format!("no successful login within {}s ({last_error})", timeout.as_secs()));
        }
        tokio::time::sleep(pause).await;
    };
    drop(spinner);
    if let Err(why) = outcome {
        let logs = docker.logs_tail(probe.container, 15).await;
        fail!(Timeout, "{} did not become ready: {why}; last log lines:\n{}", probe.user, logs.trim_end());
    }
    Ok(())
}
