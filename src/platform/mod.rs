//! The lifecycle verbs, composing the state dir and Docker; knows nothing about packet formats.
//! One file per verb or concern, so that a new verb has an obvious place:
//! [`setup`] and [`certificates`] (the installation), [`create`], [`list`] (`list`, `info`),
//! [`backup`] (`backup`, `restore`),
//! [`lifecycle`] (`start`, `stop`, `remove`), [`moves`] (`move`), [`nodes`] (the swarm), [`access`] (access flags, allowlists), [`url`]
//! (connection strings), [`gateway`] (the managed gateway), [`suspend`] (scale to zero);
//! [`settings`] sizes PostgreSQL to a tenant's memory, [`ready`] waits for a database. Failures
//! are typed ([`Error`]); progress goes to [`crate::progress`], never straight to a terminal.

pub mod access;
pub mod backup;
pub mod certificates;
pub mod controller;
pub mod create;
mod error;
pub mod gateway;
pub mod ha;
pub mod lifecycle;
pub mod list;
pub mod moves;
pub mod nodes;
pub mod ready;
pub mod setup;
pub mod suspend;
pub mod tokens;
pub mod url;
pub mod volumes;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

pub use access::PoolView;
pub use backup::human_bytes;
pub use create::CreateRequest;
pub(crate) use error::fail;
pub use error::{Error, Result};
pub use setup::SetupRequest;

/// How long a replaced managed gateway may serve its open sessions by default (`--drain`).
pub const DEFAULT_DRAIN: std::time::Duration = std::time::Duration::from_secs(3600);

use crate::state::{Config, Phase, StateDir, Tenant, TenantId, container_name};

/// The wall time of an operation's steps, logged at debug level when it ends
/// (`PGS_LOG=pgs=debug pgs create ...`): which step grows with the tenant count is then plain
/// (bench/density.sh reads it).
pub(crate) struct Steps {
    last: std::time::Instant,
    done: Vec<(&'static str, std::time::Duration)>,
}

impl Steps {
    /// Starts timing.
    pub(crate) fn new() -> Self {
        Self { last: std::time::Instant::now(), done: Vec::new() }
    }

    /// Ends step `name` now.
    pub(crate) fn mark(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.done.push((name, now - self.last));
        self.last = now;
    }

    /// Logs the steps of `what`, as `what steps: a=12ms b=3ms`.
    pub(crate) fn log(&self, what: &str) {
        let steps: Vec<String> = self.done.iter().map(|(n, d)| format!("{n}={}ms", d.as_millis())).collect();
        tracing::debug!("{what} steps: {}", steps.join(" "));
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A tenant as shown by `create`, `list` and `info`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenantInfo {
    /// Tenant id.
    pub id: String,
    /// Public hostname.
    pub host: String,
    /// Gateway port.
    pub port: u16,
    /// Role to log in as.
    pub user: String,
    /// Database name.
    pub database: String,
    /// Whether the gateway admits clients.
    pub access: bool,
    /// Client networks allowed (empty: everyone).
    pub allow: Vec<String>,
    /// Container status (or `creating`).
    pub status: String,
    /// Image.
    pub image: String,
    /// Host directory of the tenant's PostgreSQL socket: operator access on the host, bypassing
    /// the gateway (`psql "host=DIR user=ID dbname=ID"`).
    pub socket_dir: String,
    /// Port on 127.0.0.1 where the container listens (tenants made by earlier releases only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_port: Option<u16>,
    /// Whether the container may open connections out (`create --egress`, S3 backups).
    pub egress: bool,
    /// Container name.
    pub container: String,
    /// Data volume name.
    pub volume: String,
    /// Every data volume of the tenant, the one in use and those restores left (`info` only;
    /// `pgs prune-volumes` removes those not in use).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub data_volumes: Vec<volumes::DataVolume>,
    /// Whether the tenant archives WAL and is backed up (`pgs backup list` shows its backups).
    pub backups: bool,
    /// How WAL archiving is doing (`info` of a running tenant with backups only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archiving: Option<crate::backup::Archiving>,
    /// The last backup attempt, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<crate::state::BackupRecord>,
    /// The last restore drill (`pgs backup verify`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<crate::state::Drill>,
    /// Tenant password, only when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Connection URL through the gateway, only with the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Connection URL of the pooled endpoint (`TENANT-pooler.DOMAIN`), only with the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooled_url: Option<String>,
    /// The pooled endpoint's host name.
    pub pooled_host: String,
    /// The pooled endpoint's settings.
    pub pool: crate::state::PoolSettings,
    /// The node it lives on (with a swarm; none: this host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// For an HA tenant (`list` only): its role set, `primary@n1 + standby@n2 (sync)`, or
    /// what is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ha: Option<String>,
}

/// What `pgs pool` changes (`None`: kept).
#[derive(Debug, Clone, Default)]
pub struct PoolChange {
    /// Transaction or session pooling.
    pub mode: Option<crate::state::PoolMode>,
    /// Server connections per role and database.
    pub size: Option<u32>,
    /// Pooled clients at once.
    pub max_clients: Option<u32>,
    /// Seconds a client waits for a server connection.
    pub queue_timeout_secs: Option<u64>,
    /// Seconds an unused server connection is kept.
    pub server_idle_timeout_secs: Option<u64>,
    /// Connections `auto` mode may reserve per role and database.
    pub reserve: Option<u32>,
    /// Back to the derived settings.
    pub reset: bool,
}

/// The platform: a state dir plus the operations on it.
pub struct Platform {
    state: StateDir,
    /// Set in a node's controller, whose state dir is that node's dir: the copies the manager
    /// pushed, with suspensions recorded in the node's own `suspended.json`.
    node: Option<String>,
    /// Connections to other nodes' engines, by address ([`Platform::node_engine`]).
    engines: std::sync::Mutex<std::collections::HashMap<String, crate::docker::Docker>>,
}

impl Platform {
    /// The platform kept in `state`.
    pub fn new(state: StateDir) -> Self {
        Self { state, node: None, engines: Default::default() }
    }

    /// The platform as node `node`'s controller sees it: `state` is that node's dir
    /// (`docs/scale-out.md`), which only the manager changes, except for `suspended.json`.
    pub fn on_node(state: StateDir, node: &str) -> Self {
        Self { state, node: Some(node.to_string()), engines: Default::default() }
    }

    /// The state dir.
    pub fn state(&self) -> &StateDir {
        &self.state
    }

    /// How `create`, `list` and `info` show a tenant.
    fn info_of(&self, config: &Config, id: &TenantId, t: &Tenant, status: String) -> TenantInfo {
        TenantInfo {
            id: id.to_string(),
            host: format!("{id}.{}", config.domain),
            port: config.gateway_port,
            user: id.to_string(),
            database: id.to_string(),
            access: t.access,
            allow: t.allow.clone(),
            status,
            image: t.image.clone(),
            socket_dir: self.state.socket_dir_path(id).to_string_lossy().into_owned(),
            local_port: t.local_port,
            egress: t.egress,
            container: container_name(id),
            volume: t.data_volume(id),
            data_volumes: Vec::new(),
            backups: t.backups,
            archiving: None,
            last_backup: t.last_backup.clone(),
            last_drill: t.last_drill.clone(),
            password: None,
            url: None,
            pooled_url: None,
            pooled_host: format!("{id}{}.{}", crate::gateway::route::POOLER_SUFFIX, config.domain),
            pool: t.pool_settings(),
            node: t.node.clone(),
            ha: None,
        }
    }

    /// `info` with the tenant's password and connection URL.
    fn with_secret(&self, config: &Config, id: &TenantId, mut info: TenantInfo) -> Result<TenantInfo> {
        let secrets = self.stored_secrets(id)?;
        info.url = Some(self.url(config, id, &secrets.password));
        info.pooled_url = Some(self.pooled_url(config, id, &secrets.password));
        info.password = Some(secrets.password);
        Ok(info)
    }

    /// Checks that tenant `id` exists (nothing else is read but the state dir).
    pub fn known_tenant(&self, id: &str) -> Result<TenantId> {
        Ok(self.tenant(id)?.1)
    }

    /// The config and the tenant named `id` (validated), or [`Error::NoTenant`].
    fn tenant(&self, id: &str) -> Result<(Config, TenantId, Tenant)> {
        let id = TenantId::parse(id)?;
        let config = self.state.config()?;
        let Some(tenant) = self.state.tenants()?.tenants.remove(&id) else { return Err(Error::NoTenant(id)) };
        Ok((config, id, tenant))
    }

    /// The tenant named `id`, or every ready tenant.
    fn ids(&self, id: Option<&str>) -> Result<Vec<TenantId>> {
        match id {
            Some(id) => Ok(vec![self.tenant(id)?.1]),
            None => Ok(self
                .state
                .tenants()?
                .tenants
                .into_iter()
                .filter(|(_, t)| t.phase == Phase::Ready)
                .map(|(id, _)| id)
                .collect()),
        }
    }

    /// The engine of the node tenant `t` lives on: `docker` for this host's tenants.
    async fn engine_of(
        &self,
        docker: &crate::docker::Docker,
        config: &Config,
        t: &Tenant,
    ) -> Result<crate::docker::Docker> {
        match &t.node {
            Some(node) => self.node_engine(config, node).await,
            None => Ok(docker.clone()),
        }
    }
}
