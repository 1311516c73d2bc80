//! Scale to zero: `pgs suspend-policy`, `pgs suspend`, and the two moves the controller makes,
//! suspending an idle tenant and waking a suspended one.
//!
//! A suspended tenant is stopped with its data, credentials and access flags kept; the operator
//! still wants it running (`desired` stays `running`), so `suspended` is recorded beside it and in
//! the routes, where it tells the gateway to hold a new client and ask for a wake.

use std::time::{Duration, Instant};

use super::{Error, Platform, Result, fail};
use crate::controller::Activity;
use crate::docker::Docker;
use crate::gateway::probe::Answer;
use crate::state::{Desired, Phase, Tenant, TenantId, container_name};

use super::lifecycle::STOP_GRACE_SECS;

/// How often a wake probes the starting server.
const WAKE_POLL: Duration = Duration::from_millis(20);

impl Platform {
    /// Sets (or with `None` clears) a tenant's suspend-after policy.
    pub fn set_suspend_policy(&self, id: &str, after: Option<u64>) -> Result<()> {
        let id = TenantId::parse(id)?;
        self.state.update(|_, tenants, _| -> Result<()> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            if let Some(node) = t.node.as_ref().filter(|_| after.is_some()) {
                fail!(
                    Invalid,
                    "{id} lives on node {node}: scale to zero does not reach other nodes yet (docs/scale-out.md)"
                );
            }
            t.suspend_after = after;
            Ok(())
        })
    }

    /// Suspends a tenant: marks it suspended (so that gateways hold new clients), checks that no
    /// client session is open (unless `force`), makes its last WAL archivable, and stops it.
    /// Returns `false` (and leaves it running) when a session is open.
    pub async fn suspend(&self, docker: &Docker, id: &TenantId, force: bool) -> Result<bool> {
        let tenant = self.mark_suspended(id, true)?;
        if tenant.suspended {
            // Suspended already: its database cannot be asked, and the mark must stay.
            docker.stop_container(&container_name(id), STOP_GRACE_SECS).await?;
            return Ok(true);
        }
        let checked = async {
            if force {
                return Ok(true);
            }
            let activity = self.activity(id).await?;
            if activity.sessions > 0 {
                return Ok(false);
            }
            if tenant.backups {
                // The segment in progress would wait for more WAL; archive it before stopping.
                let _ = self.query(id, "SELECT pg_switch_wal()::text").await;
            }
            Ok::<_, Error>(true)
        }
        .await;
        let outcome = match checked {
            Ok(true) => {
                docker.stop_container(&container_name(id), STOP_GRACE_SECS).await.map(|()| true).map_err(Error::from)
            }
            other => other,
        };
        if !matches!(outcome, Ok(true)) {
            self.mark_suspended(id, false)?;
        }
        outcome
    }

    /// Wakes a suspended tenant (starts its container) and waits until its PostgreSQL accepts
    /// connections, at most `timeout`. A tenant that runs already answers at once. The tenant
    /// stays marked suspended until [`Platform::mark_awake`]: the controller answers the waiting
    /// gateway first and writes the state after. Returns how long it took.
    pub async fn wake(&self, docker: &Docker, id: &TenantId, timeout: Duration) -> Result<Duration> {
        let started = Instant::now();
        let (_, id, tenant) = self.tenant(id.as_str())?;
        if tenant.desired == Desired::Stopped || tenant.phase != Phase::Ready {
            fail!(Invalid, "tenant {id} is stopped by the operator: `pgs start {id}` starts it");
        }
        match docker.start_container(&container_name(&id)).await {
            Err(e) if e.is_not_found() => {
                fail!(Failing, "the container of tenant {id} is missing: `pgs start {id}` recreates it")
            }
            other => other?,
        }
        // Containers made before sockets existed have no socket dir: probe their port instead.
        let has_socket = self.state.socket_dir_path(&id).is_dir();
        loop {
            match self.probe(&id, &tenant, has_socket).await {
                Answer::Accepting => break,
                answer if started.elapsed() > timeout => {
                    fail!(Timeout, "tenant {id} did not accept connections within {}s ({answer:?})", timeout.as_secs())
                }
                _ => tokio::time::sleep(WAKE_POLL).await,
            }
        }
        Ok(started.elapsed())
    }

    /// Records that a woken tenant is no longer suspended (the routes follow).
    pub fn mark_awake(&self, id: &TenantId) -> Result<()> {
        let suspended = self.state.tenants()?.tenants.get(id).is_some_and(|t| t.suspended);
        if suspended {
            self.mark_suspended(id, false)?;
        }
        Ok(())
    }

    /// What the tenant's database is doing: its other client sessions and its WAL position.
    pub async fn activity(&self, id: &TenantId) -> Result<Activity> {
        let row = self
            .query(
                id,
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
                 AND pid <> pg_backend_pid() \
                 AND NOT (application_name = 'pgs-pooler' AND state = 'idle'))::text, pg_current_wal_lsn()::text",
            )
            .await?;
        let sessions = row.first().and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok(Activity { sessions, wal_lsn: row.get(1).cloned().unwrap_or_default() })
    }

    /// Runs one query over the tenant's socket as its superuser (its own role for an adopted
    /// tenant without a stored superuser password); the first row's columns as text.
    async fn query(&self, id: &TenantId, sql: &str) -> Result<Vec<String>> {
        let secrets = self.stored_secrets(id)?;
        let (user, password, db) = if secrets.superuser_password.is_empty() {
            (id.as_str(), secrets.password.as_str(), id.as_str())
        } else {
            ("postgres", secrets.superuser_password.as_str(), "postgres")
        };
        let mut cfg = tokio_postgres::Config::new();
        cfg.user(user).dbname(db).password(password).application_name("pgs-controller");
        let addr = self.host_addr(id, &self.tenant(id.as_str())?.2);
        let work = async {
            let client = super::ready::login(&addr, &cfg).await?;
            let rows = client.simple_query(sql).await.map_err(|e| e.to_string())?;
            let row = rows.into_iter().find_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => Some(r),
                _ => None,
            });
            Ok::<_, String>(
                row.map(|r| (0..r.len()).map(|i| r.get(i).unwrap_or_default().to_string()).collect())
                    .unwrap_or_default(),
            )
        };
        match tokio::time::timeout(Duration::from_secs(10), work).await {
            Ok(Ok(row)) => Ok(row),
            Ok(Err(e)) => fail!(Failing, "cannot query tenant {id}: {e}"),
            Err(_) => fail!(Timeout, "tenant {id} did not answer a query within 10s"),
        }
    }

    /// Records whether a tenant is suspended (the routes follow); returns the tenant.
    /// Sets the tenant's suspended mark; returns the tenant as it was before.
    fn mark_suspended(&self, id: &TenantId, on: bool) -> Result<Tenant> {
        self.state.update(|_, tenants, _| -> Result<Tenant> {
            let t = tenants.tenants.get_mut(id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            if on && (t.desired != Desired::Running || t.phase != Phase::Ready) {
                fail!(Invalid, "tenant {id} is not running: only a running tenant can be suspended");
            }
            let before = t.clone();
            t.suspended = on;
            Ok(before)
        })
    }
}
