//! Per-tenant PostgreSQL statistics on `/metrics`: up, database size, connections by state,
//! commits and rollbacks, deadlocks, cache hit ratio, the oldest open transaction, WAL archiving
//! and, for an HA primary, its standby's replay lag.
//!
//! Collected by the gateway itself rather than by `postgres_exporter`: each node's gateway
//! already knows which of its tenants run and which are suspended or stopped (a scrape must not
//! wake one, nor fail on it), holds their superuser passwords and reaches their sockets. So a
//! scrape opens no connection per tenant: each running tenant's connection (application name
//! `pgs-metrics`, which scale to zero does not count as a client) is opened once and kept, and a
//! scrape sends one query on it. A suspended or stopped tenant is reported as such without
//! being touched, and its connection is dropped. The database size (a walk of its files) is
//! read at most every [`SIZE_EVERY`], and two scrapes within [`MIN_INTERVAL`] share one
//! collection.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::Gateway;
use super::backend::{self, BackendAddr};
use crate::state::TenantId;

/// Scrapes closer together than this get the previous collection.
const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// How often a tenant's database size is read again.
const SIZE_EVERY: Duration = Duration::from_secs(300);
/// How long one tenant has to answer (it is reported down after that).
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a whole collection may take (under Prometheus's default scrape timeout of 10 s):
/// tenants not asked by then are reported down, however many do not answer.
const COLLECTION_TIMEOUT: Duration = Duration::from_secs(8);
/// Tenants queried at once.
const PARALLEL: usize = 16;

/// Everything in one round trip, every column as text. The server's own functions are called
/// rather than the `pg_stat_*` views, which join catalogs and call many more of them (0.37 ms
/// against 1.7 ms per query on this machine's PostgreSQL 15); client backends but this one are
/// counted; the query is prepared once per connection (0.09 ms a run).
macro_rules! columns {
    () => {
        "WITH a AS (SELECT state, count(*) n, max(now() - xact_start) oldest FROM pg_stat_get_activity(NULL) \
           WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY state), \
         w AS (SELECT * FROM pg_stat_get_archiver()) \
         SELECT (SELECT string_agg(coalesce(state, 'unknown') || '=' || n, ',') FROM a), \
           sum(pg_stat_get_db_xact_commit(oid))::text, sum(pg_stat_get_db_xact_rollback(oid))::text, \
           sum(pg_stat_get_db_deadlocks(oid))::text, sum(pg_stat_get_db_blocks_hit(oid))::text, \
           sum(pg_stat_get_db_blocks_fetched(oid) - pg_stat_get_db_blocks_hit(oid))::text, \
           (SELECT coalesce(extract(epoch FROM max(oldest)), 0) FROM a)::text, \
           (SELECT archived_count FROM w)::text, (SELECT failed_count FROM w)::text, \
           (SELECT extract(epoch FROM now() - last_archived_time) FROM w)::text, \
           (SELECT extract(epoch FROM max(replay_lag)) FROM pg_stat_get_wal_senders())::text"
    };
}

/// The statistics without the database size.
const QUERY: &str = concat!(columns!(), " FROM pg_database");

/// [`QUERY`] with the size of every database, as the last column.
const QUERY_WITH_SIZE: &str = concat!(
    columns!(),
    ", (SELECT sum(pg_database_size(oid)) FROM pg_database WHERE datallowconn)::text FROM pg_database"
);

/// The application name of the statistics connections.
pub const APPLICATION_NAME: &str = "pgs-metrics";

/// What one tenant answered.
#[derive(Debug, Default, Clone)]
struct Sample {
    connections: Vec<(String, f64)>,
    commits: f64,
    rollbacks: f64,
    deadlocks: f64,
    blocks_hit: f64,
    blocks_read: f64,
    oldest_xact_secs: f64,
    archived: Option<f64>,
    archive_failed: Option<f64>,
    last_archived_age: Option<f64>,
    replication_lag: Option<f64>,
}

/// How a tenant is, as a scrape reports it.
#[derive(Debug, Clone)]
enum Seen {
    /// It answered.
    Up(Box<Sample>),
    /// Running, but it did not answer (starting, failing, or gone).
    Down,
    /// Suspended for idleness: not touched.
    Suspended,
    /// Stopped by the operator: not touched.
    Stopped,
}

/// A tenant's kept connection, with [`QUERY`] and [`QUERY_WITH_SIZE`] prepared on it.
struct Conn {
    client: tokio_postgres::Client,
    plain: tokio_postgres::Statement,
    sized: tokio_postgres::Statement,
    /// The database size and when it was read.
    size: Option<(f64, Instant)>,
}

/// The statistics collector of one gateway.
#[derive(Default)]
pub struct Stats {
    conns: tokio::sync::Mutex<HashMap<String, Conn>>,
    last: Mutex<Option<(Instant, String)>>,
    /// Serialises collections, so that concurrent scrapes share one.
    running: tokio::sync::Mutex<()>,
}

impl Stats {
    /// The per-tenant series, in the Prometheus text format.
    pub async fn render(&self, gw: &Gateway) -> String {
        let _one = self.running.lock().await;
        if let Some((at, text)) = self.last.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && at.elapsed() < MIN_INTERVAL
        {
            return text.clone();
        }
        let started = Instant::now();
        let seen = self.collect(gw).await;
        let mut text = render(&seen);
        let _ = writeln!(
            text,
            "# HELP pgs_tenant_stats_seconds How long the last collection of the tenants' statistics took.\n\
             # TYPE pgs_tenant_stats_seconds gauge\npgs_tenant_stats_seconds {:.6}",
            started.elapsed().as_secs_f64()
        );
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), text.clone()));
        text
    }

    /// Asks every running tenant of this node, a few at a time.
    async fn collect(&self, gw: &Gateway) -> Vec<(String, Seen, Option<f64>)> {
        let routes = gw.routes.load();
        let mut conns = self.conns.lock().await;
        // Tenants that went away, stopped or were suspended lose their connection.
        conns.retain(|id, _| {
            routes
                .tenants
                .get(id)
                .is_some_and(|r| r.route.running && !r.route.suspended && r.route.backend.peer.is_none())
        });
        let mut todo = Vec::new();
        let mut seen = Vec::new();
        for (id, r) in routes.tenants.iter() {
            if r.route.backend.peer.is_some() {
                continue; // another node's gateway reports it
            }
            if !r.route.running {
                seen.push((id.clone(), Seen::Stopped, None));
            } else if r.route.suspended {
                seen.push((id.clone(), Seen::Suspended, None));
            } else {
                todo.push((id.clone(), r.route.backend.clone(), conns.remove(id)));
            }
        }
        let deadline = tokio::time::Instant::now() + COLLECTION_TIMEOUT;
        let results: Vec<_> = futures_util::stream::iter(todo)
            .map(|(id, backend, conn)| async move {
                let until = (tokio::time::Instant::now() + QUERY_TIMEOUT).min(deadline);
                let outcome = tokio::time::timeout_at(until, ask(gw, &id, &backend, conn)).await;
                (id, outcome.ok().and_then(Result::ok))
            })
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        for (id, outcome) in results {
            match outcome {
                Some((sample, conn)) => {
                    let size = conn.size.map(|(s, _)| s);
                    conns.insert(id.clone(), conn);
                    seen.push((id, Seen::Up(Box::new(sample)), size));
                }
                None => seen.push((id, Seen::Down, None)),
            }
        }
        seen.sort_by(|a, b| a.0.cmp(&b.0));
        seen
    }
}

/// One tenant's sample, on its kept connection (opened now if there is none).
async fn ask(
    gw: &Gateway,
    id: &str,
    backend: &crate::state::Backend,
    conn: Option<Conn>,
) -> Result<(Sample, Conn), String> {
    let mut conn = match conn.filter(|c| !c.client.is_closed()) {
        Some(c) => c,
        None => {
            let client = open(gw, id, backend).await?;
            let plain = client.prepare(QUERY).await.map_err(|e| e.to_string())?;
            let sized = client.prepare(QUERY_WITH_SIZE).await.map_err(|e| e.to_string())?;
            Conn { client, plain, sized, size: None }
        }
    };
    let size_due = conn.size.is_none_or(|(_, at)| at.elapsed() >= SIZE_EVERY);
    let statement = if size_due { &conn.sized } else { &conn.plain };
    let row = conn.client.query_one(statement, &[]).await.map_err(|e| e.to_string())?;
    let text = |i: usize| row.try_get::<_, Option<String>>(i).ok().flatten();
    let num = |i: usize| text(i).and_then(|v| v.parse::<f64>().ok());
    let sample = Sample {
        connections: text(0)
            .unwrap_or_default()
            .split(',')
            .filter_map(|p| p.split_once('='))
            .filter_map(|(state, n)| Some((state.to_string(), n.parse().ok()?)))
            .collect(),
        commits: num(1).unwrap_or(0.0),
        rollbacks: num(2).unwrap_or(0.0),
        deadlocks: num(3).unwrap_or(0.0),
        blocks_hit: num(4).unwrap_or(0.0),
        blocks_read: num(5).unwrap_or(0.0),
        oldest_xact_secs: num(6).unwrap_or(0.0),
        archived: num(7),
        archive_failed: num(8),
        last_archived_age: num(9),
        replication_lag: num(10),
    };
    if size_due && let Some(size) = num(11) {
        conn.size = Some((size, Instant::now()));
    }
    Ok((sample, conn))
}

/// Logs in as the tenant's superuser over its socket (no wake: a stopped server refuses).
async fn open(gw: &Gateway, id: &str, backend: &crate::state::Backend) -> Result<tokio_postgres::Client, String> {
    let tenant = TenantId::parse(id).map_err(|e| e.to_string())?;
    let secrets = gw.state.secrets(&tenant).map_err(|e| e.to_string())?;
    let password = secrets.map(|s| s.superuser_password).filter(|p| !p.is_empty()).ok_or("no superuser password")?;
    let addr: BackendAddr =
        backend::address(gw.opts.backend, backend, gw.state.root()).await.ok_or("no address to reach it")?;
    let mut cfg = tokio_postgres::Config::new();
    cfg.user("postgres").dbname("postgres").password(password).application_name(APPLICATION_NAME);
    let stream = addr.connect().await.map_err(|e| e.to_string())?;
    let (client, connection) = cfg.connect_raw(stream, tokio_postgres::NoTls).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(client)
}

/// The values of one series family for one tenant (its state, its database size): extra labels
/// and value of each series.
type Values<'a> = &'a dyn Fn(&Seen, Option<f64>) -> Vec<(String, f64)>;

/// The series of one collection.
fn render(seen: &[(String, Seen, Option<f64>)]) -> String {
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, value: Values| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (id, s, size) in seen {
            for (labels, v) in value(s, *size) {
                let _ = writeln!(out, "{name}{{tenant=\"{id}\"{labels}}} {v}");
            }
        }
    };
    let up = |s: &Seen| matches!(s, Seen::Up(_));
    let sample = |s: &Seen| match s {
        Seen::Up(x) => Some(x.as_ref().clone()),
        _ => None,
    };
    let one = |v: Option<f64>| v.map(|v| (String::new(), v)).into_iter().collect::<Vec<_>>();
    family("pgs_tenant_up", "gauge", "1 if the tenant's PostgreSQL answered this scrape.", &|s, _| {
        one(Some(f64::from(u8::from(up(s)))))
    });
    family(
        "pgs_tenant_state",
        "gauge",
        "The tenant's state as the gateway routes it (1 for the state it is in).",
        &|s, _| {
            let now = match s {
                Seen::Up(_) | Seen::Down => "running",
                Seen::Suspended => "suspended",
                Seen::Stopped => "stopped",
            };
            ["running", "suspended", "stopped"]
                .iter()
                .map(|st| (format!(",state=\"{st}\""), f64::from(u8::from(*st == now))))
                .collect()
        },
    );
    family(
        "pgs_tenant_database_size_bytes",
        "gauge",
        "Size of the tenant's databases (read every 5 minutes).",
        &|_, size| one(size),
    );
    family("pgs_tenant_connections", "gauge", "Client connections to the tenant's PostgreSQL, by state.", &|s, _| {
        sample(s)
            .map(|x| x.connections.into_iter().map(|(st, n)| (format!(",state=\"{st}\""), n)).collect())
            .unwrap_or_default()
    });
    family("pgs_tenant_xact_commit_total", "counter", "Transactions committed.", &|s, _| {
        one(sample(s).map(|x| x.commits))
    });
    family("pgs_tenant_xact_rollback_total", "counter", "Transactions rolled back.", &|s, _| {
        one(sample(s).map(|x| x.rollbacks))
    });
    family("pgs_tenant_deadlocks_total", "counter", "Deadlocks detected.", &|s, _| one(sample(s).map(|x| x.deadlocks)));
    family(
        "pgs_tenant_cache_hit_ratio",
        "gauge",
        "Share of block reads served from shared buffers since the server started.",
        &|s, _| {
            one(sample(s).and_then(|x| {
                let total = x.blocks_hit + x.blocks_read;
                (total > 0.0).then(|| x.blocks_hit / total)
            }))
        },
    );
    family(
        "pgs_tenant_oldest_xact_seconds",
        "gauge",
        "Age of the oldest open transaction of a client (0: none).",
        &|s, _| one(sample(s).map(|x| x.oldest_xact_secs)),
    );
    family("pgs_tenant_wal_archived_total", "counter", "WAL segments archived.", &|s, _| {
        one(sample(s).and_then(|x| x.archived))
    });
    family("pgs_tenant_wal_archive_failed_total", "counter", "Failed attempts to archive a WAL segment.", &|s, _| {
        one(sample(s).and_then(|x| x.archive_failed))
    });
    family(
        "pgs_tenant_wal_last_archived_age_seconds",
        "gauge",
        "Seconds since the last WAL segment was archived (absent: none yet).",
        &|s, _| one(sample(s).and_then(|x| x.last_archived_age)),
    );
    family(
        "pgs_tenant_replication_lag_seconds",
        "gauge",
        "An HA primary's standby replay lag (absent: no standby connected).",
        &|s, _| one(sample(s).and_then(|x| x.replication_lag)),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspended_tenant_is_reported_without_numbers() {
        let sample = Sample {
            connections: vec![("active".into(), 2.0), ("idle".into(), 1.0)],
            commits: 10.0,
            blocks_hit: 9.0,
            blocks_read: 1.0,
            ..Default::default()
        };
        let text = render(&[
            ("a".into(), Seen::Up(Box::new(sample)), Some(1024.0)),
            ("b".into(), Seen::Suspended, None),
            ("c".into(), Seen::Down, None),
        ]);
        assert!(text.contains("pgs_tenant_up{tenant=\"a\"} 1\n"), "{text}");
        assert!(text.contains("pgs_tenant_up{tenant=\"b\"} 0\n"), "{text}");
        assert!(text.contains("pgs_tenant_state{tenant=\"b\",state=\"suspended\"} 1\n"), "{text}");
        assert!(text.contains("pgs_tenant_state{tenant=\"c\",state=\"running\"} 1\n"), "{text}");
        assert!(text.contains("pgs_tenant_connections{tenant=\"a\",state=\"active\"} 2\n"), "{text}");
        assert!(text.contains("pgs_tenant_cache_hit_ratio{tenant=\"a\"} 0.9\n"), "{text}");
        assert!(text.contains("pgs_tenant_database_size_bytes{tenant=\"a\"} 1024\n"), "{text}");
        assert!(!text.contains("pgs_tenant_xact_commit_total{tenant=\"b\""), "{text}");
    }
}
