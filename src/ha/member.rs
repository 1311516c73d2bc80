//! One copy of an HA tenant as its node's agent sees it: a session on the copy's own socket,
//! as the superuser, and the few statements the agent needs (observe, make synchronous,
//! promote). Every statement has a timeout: a hung server is a server that is down.

use std::path::Path;
use std::time::Duration;

/// How long connecting or one statement may take.
const TIMEOUT: Duration = Duration::from_secs(1);

/// What one look at a copy shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// A standby (in recovery), not a primary.
    pub in_recovery: bool,
    /// Its `synchronous_standby_names`.
    pub synchronous_names: String,
    /// On a primary: the walsender's state for the standby (`streaming`, `catchup`, ...).
    pub sender_state: Option<String>,
    /// On a primary: `sync`, `async`, `potential` or `quorum` for the standby.
    pub sync_state: Option<String>,
    /// On a primary: bytes of WAL the standby has not flushed.
    pub lag_bytes: Option<u64>,
    /// On a primary: the standby's replay lag in seconds.
    pub lag_seconds: Option<f64>,
    /// On a standby: the walreceiver's status (`streaming`, ...), none when it runs none.
    pub receiver: Option<String>,
    /// On a standby: when (Unix ms) its walreceiver last heard from the primary.
    pub last_message_ms: Option<u64>,
}

/// A session on a copy's socket.
pub struct Member {
    client: tokio_postgres::Client,
}

/// Errors talking to a copy: it is down, or not answering in time.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// PostgreSQL answered with an error or the connection failed.
    #[error("{0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No answer within the timeout.
    #[error("no answer within {}s", TIMEOUT.as_secs())]
    Timeout,
}

async fn timed<T>(f: impl Future<Output = Result<T, tokio_postgres::Error>>) -> Result<T, MemberError> {
    Ok(tokio::time::timeout(TIMEOUT, f).await.map_err(|_| MemberError::Timeout)??)
}

/// The quoted form of a node name in `synchronous_standby_names` (node names are lower-case
/// letters, digits and hyphens; quoting keeps the hyphen).
pub fn quoted(node: &str) -> String {
    format!("\"{}\"", node.replace('"', ""))
}

impl Member {
    /// Connects to the copy whose socket dir is `socket_dir`, as `postgres` with `password`.
    pub async fn connect(socket_dir: &Path, password: &str) -> Result<Self, MemberError> {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(socket_dir)
            .port(5432)
            .user("postgres")
            .password(password)
            .dbname("postgres")
            .application_name("pgs-agent")
            .connect_timeout(TIMEOUT);
        let (client, connection) = timed(config.connect(tokio_postgres::NoTls)).await?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self { client })
    }

    /// Whether the session has ended (the server went away).
    pub fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

    /// Looks at the copy: its role and, on a primary, the standby named `standby` (its
    /// `application_name`).
    pub async fn observe(&self, standby: &str) -> Result<Observed, MemberError> {
        let sql = "SELECT pg_is_in_recovery(), current_setting('synchronous_standby_names'), \
             r.state, r.sync_state, \
             CASE WHEN pg_is_in_recovery() OR r.flush_lsn IS NULL THEN NULL \
                  ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), r.flush_lsn)::int8 END, \
             extract(epoch FROM r.replay_lag)::float8, \
             (SELECT status FROM pg_stat_wal_receiver LIMIT 1), \
             (SELECT (extract(epoch FROM last_msg_receipt_time) * 1000)::int8 FROM pg_stat_wal_receiver LIMIT 1) \
             FROM (SELECT 1) one LEFT JOIN pg_stat_replication r ON r.application_name = $1";
        let row = timed(self.client.query_one(sql, &[&standby])).await?;
        Ok(Observed {
            in_recovery: row.get(0),
            synchronous_names: row.get(1),
            sender_state: row.get(2),
            sync_state: row.get(3),
            lag_bytes: row.get::<_, Option<i64>>(4).map(|b| b.max(0) as u64),
            lag_seconds: row.get(5),
            receiver: row.get(6),
            last_message_ms: row.get::<_, Option<i64>>(7).map(|ms| ms.max(0) as u64),
        })
    }

    /// Makes `standby` the synchronous standby (commits wait for it), or none (asynchronous).
    pub async fn set_synchronous(&self, standby: Option<&str>) -> Result<(), MemberError> {
        let names = standby.map(quoted).unwrap_or_default();
        let sql = format!("ALTER SYSTEM SET synchronous_standby_names = '{names}'");
        timed(self.client.batch_execute(&sql)).await?;
        timed(self.client.batch_execute("SELECT pg_reload_conf()")).await?;
        Ok(())
    }

    /// Promotes a standby and waits (at most 10 s) until it is a primary.
    pub async fn promote(&self) -> Result<bool, MemberError> {
        let promote = self.client.query_one("SELECT pg_promote(true, 10)", &[]);
        let row = tokio::time::timeout(Duration::from_secs(12), promote).await.map_err(|_| MemberError::Timeout)??;
        Ok(row.get(0))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_names_are_quoted() {
        assert_eq!(super::quoted("n-2"), "\"n-2\"");
    }
}
