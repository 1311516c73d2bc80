//! Waiting until a tenant's database accepts a real, authenticated connection.

use std::time::{Duration, Instant};

use super::{Result, fail};

use crate::docker::{Docker, tenant::Status};

/// How to log in to check readiness.
pub struct Probe<'a> {
    /// Container name (to check it is still alive and to fetch logs on failure).
    pub container: &'a str,
    /// Port on 127.0.0.1.
    pub port: u16,
    /// Role and database.
    pub user: &'a str,
    /// Password of the role.
    pub password: &'a str,
}

/// Tries one authenticated connection and asks whether the server still recovers (after a
/// restore it accepts connections while it replays WAL, read-only: not ready yet).
async fn try_connect(probe: &Probe<'_>) -> Result<bool, tokio_postgres::Error> {
    let mut cfg = tokio_postgres::Config::new();
    cfg.host("127.0.0.1")
        .port(probe.port)
        .user(probe.user)
        .dbname(probe.user)
        .password(probe.password)
        .connect_timeout(Duration::from_secs(2));
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    let result = client.query_one("SELECT pg_is_in_recovery()", &[]).await.map(|row| !row.get::<_, bool>(0));
    drop(client);
    let _ = task.await;
    result
}

/// Waits until the database accepts `probe`'s login, the container dies, or `timeout` passes.
/// Failures carry the container's last log lines.
pub async fn wait_ready(docker: &Docker, probe: &Probe<'_>, timeout: Duration) -> Result<()> {
    let spinner = crate::progress::step(&format!("waiting for {} to accept connections", probe.user));
    let started = Instant::now();
    let outcome = loop {
        let last_error = match tokio::time::timeout(Duration::from_secs(5), try_connect(probe)).await {
            Ok(Ok(true)) => break Ok(()),
            Ok(Ok(false)) => "still recovering".to_string(),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "login timed out".to_string(),
        };
        let status = docker.container_status(probe.container).await?;
        if matches!(status, Status::Stopped | Status::Missing | Status::Restarting) {
            break Err(format!("container {} is {status}", probe.container));
        }
        if started.elapsed() > timeout {
            break Err(format!("no successful login within {}s ({last_error})", timeout.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    drop(spinner);
    if let Err(why) = outcome {
        let logs = docker.logs_tail(probe.container, 15).await;
        fail!(Timeout, "{} did not become ready: {why}; last log lines:\n{}", probe.user, logs.trim_end());
    }
    Ok(())
}
