//! Scale to zero: `pgs suspend-policy`, `pgs suspend`, and the two moves the controller makes,
//! suspending an idle tenant and waking a suspended one.
//!
//! A suspended tenant is stopped with its data, credentials and access flags kept; the operator
//! still wants it running (`desired` stays `running`), so `suspended` is recorded beside it and in
//! the routes, where it tells the gateway to hold a new client and ask for a wake. A tenant on
//! another node is suspended and woken by that node's controller, which records it in the
//! node's `suspended.json` ([`crate::state::Suspensions`]): the manager's files cannot be
//! written from there.

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
    /// Sets (or with `None` clears) a tenant's suspend-after policy, and tells the other nodes
    /// (a tenant there is suspended by its node's controller, which reads the policy there).
    pub async fn set_suspend_policy(&self, id: &str, after: Option<u64>) -> Result<()> {
        let id = TenantId::parse(id)?;
        self.state.update(|_, tenants, _| -> Result<()> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            if t.ha.is_some() && after.is_some() {
                fail!(
                    Invalid,
                    "{id} has a standby (HA): a suspended primary would fail over; `pgs ha disable {id}` first"
                );
            }
            t.suspend_after = after;
            Ok(())
        })?;
        self.tell_nodes().await
    }

    /// Suspends a tenant: marks it suspended (so that gateways hold new clients), checks that no
    /// client session is open (unless `force`), makes its last WAL archivable, and stops it.
    /// Returns `false` (and leaves it running) when a session is open.
    pub async fn suspend(&self, docker: &Docker, id: &TenantId, force: bool) -> Result<bool> {
        if self.node.is_none()
            && let Some(node) = self.tenant(id.as_str())?.2.node
        {
            fail!(
                Invalid,
                "{id} lives on node {node}: its node's controller suspends it once idle (`pgs suspend-policy`); `pgs stop {id}` stops it now"
            );
        }
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

    /// For a verb that needs tenant `id` running (a backup): if it lives on another node whose
    /// controller suspended it, starts it there and waits until it is ready, and returns that
    /// node's engine, for [`Platform::suspend_again_on_node`]. It stays marked meanwhile: the
    /// node's controller leaves it alone, and a client that comes is woken (which drops the
    /// mark) and keeps it running.
    pub(super) async fn wake_on_node(&self, docker: &Docker, id: &TenantId, tenant: &Tenant) -> Result<Option<Docker>> {
        if tenant.node.is_none() || tenant.ha.is_some() || tenant.suspend_after.is_none() {
            return Ok(None);
        }
        let config = self.state.config()?;
        let engine = self.engine_of(docker, &config, tenant).await?;
        let name = container_name(id);
        if engine.container_status(&name).await? == crate::docker::tenant::Status::Running
            || !self.node_suspensions(&engine).await.tenants.contains(id)
        {
            return Ok(None);
        }
        let node = tenant.home_node();
        crate::progress::note(&format!("{id} is suspended on {node}: waking it"));
        engine.start_container(&name).await?;
        self.wait_until_ready(&engine, id, tenant, Duration::from_secs(120)).await?;
        Ok(Some(engine))
    }

    /// Stops tenant `id` again after [`Platform::wake_on_node`] woke it on `engine`, unless a
    /// client came meanwhile (its wake dropped the node's mark).
    pub(super) async fn suspend_again_on_node(&self, engine: &Docker, id: &TenantId) -> Result<()> {
        if self.node_suspensions(engine).await.tenants.contains(id) {
            engine.stop_container(&container_name(id), STOP_GRACE_SECS).await?;
            crate::progress::note(&format!("{id} is suspended again"));
        }
        Ok(())
    }

    /// Records that a woken tenant is no longer suspended (the routes follow).
    pub fn mark_awake(&self, id: &TenantId) -> Result<()> {
        let suspended = match self.node {
            Some(_) => self.state.suspensions().tenants.contains(id),
            None => self.state.tenants()?.tenants.get(id).is_some_and(|t| t.suspended),
        };
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
                 AND NOT (application_name IN ('pgs-pooler', 'pgs-metrics') AND state = 'idle'))::text, pg_current_wal_lsn()::text",
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

    /// Sets the tenant's suspended mark (the routes follow); returns the tenant as it was
    /// before.
    fn mark_suspended(&self, id: &TenantId, on: bool) -> Result<Tenant> {
        if self.node.is_some() {
            return self.mark_on_node(id, on);
        }
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

    /// [`Platform::mark_suspended`] in a node's controller: the mark goes in the node's
    /// `suspended.json`.
    fn mark_on_node(&self, id: &TenantId, on: bool) -> Result<Tenant> {
        let lock = self.state.lock()?;
        let mut marks = self.state.suspensions();
        let tenant = self.state.tenants()?.tenants.remove(id).ok_or_else(|| Error::NoTenant(id.clone()))?;
        if on && (tenant.desired != Desired::Running || tenant.phase != Phase::Ready) {
            fail!(Invalid, "tenant {id} is not running: only a running tenant can be suspended");
        }
        let before = Tenant { suspended: marks.tenants.contains(id), ..tenant };
        let changed = if on { marks.tenants.insert(id.clone()) } else { marks.tenants.remove(id) };
        if changed {
            self.state.save_suspensions(&lock, &marks)?;
        }
        Ok(before)
    }

    /// Drops the marks of tenants that are no longer this node's running tenants (stopped,
    /// moved or removed by the operator meanwhile), so that a later start is not taken for a
    /// suspension: a node's controller, once a second. Nothing to do on the manager, or when
    /// every mark holds. (A tenant whose policy was dropped stays marked until its next client
    /// wakes it, as on the manager.)
    /// `tenants` is the node's `tenants.json` as the controller last read it.
    pub fn prune_node_marks(&self, tenants: &crate::state::Tenants) -> Result<()> {
        let marks = self.state.suspensions();
        if self.node.is_none() || marks.tenants.is_empty() {
            return Ok(());
        }
        let holds = |id: &TenantId| {
            tenants.tenants.get(id).is_some_and(|t| t.desired == Desired::Running && t.phase == Phase::Ready)
        };
        if marks.tenants.iter().all(holds) {
            return Ok(());
        }
        let lock = self.state.lock()?;
        let mut marks = self.state.suspensions();
        marks.tenants.retain(holds);
        self.state.save_suspensions(&lock, &marks)?;
        Ok(())
    }
}
