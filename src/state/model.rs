//! The state dir's schema: what each JSON file holds. Every file carries `schema_version`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::TenantId;

/// Version of every file pgs writes. A file with a newer version is refused, not misread.
pub const SCHEMA_VERSION: u32 = 1;

/// Default public domain: resolves to loopback on most systems and needs nothing from outside.
pub const DEFAULT_DOMAIN: &str = "pgs.localhost";
/// Default image for tenants: the official PostgreSQL image, current major.
pub const DEFAULT_IMAGE: &str = "postgres:17";
/// Default port of the gateway, the one port clients connect to.
pub const DEFAULT_GATEWAY_PORT: u16 = 5432;

/// Where the gateway's TLS certificate comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CertificateSource {
    /// A local CA in the state dir signs a wildcard certificate (development, tests).
    SelfSigned,
    /// An ACME CA issues the certificate through DNS-01.
    Acme,
    /// Files the operator imported.
    Imported,
    /// Not chosen yet.
    None,
}

/// `config.json`: the platform-wide settings chosen by `pgs setup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// File format version.
    pub schema_version: u32,
    /// Random id of this installation; labels every Docker object pgs creates for it.
    pub instance: String,
    /// Public domain: tenants are reached as `TENANT.DOMAIN`.
    pub domain: String,
    /// Default image for new tenants.
    pub image: String,
    /// Port the gateway listens on and clients connect to.
    pub gateway_port: u16,
    /// Where the certificate comes from.
    pub certificate: CertificateSource,
    /// Address printed as `hostaddr` in connection strings, for domains without DNS records.
    #[serde(default)]
    pub hostaddr: Option<String>,
    /// Host port (on 127.0.0.1) of the managed gateway's health endpoints.
    #[serde(default = "default_health_port")]
    pub health_port: u16,
    /// Whether pgs runs the gateway as a container (`pgs gateway start`).
    #[serde(default)]
    pub managed_gateway: bool,
    /// Backups, once `pgs setup --backups` chose where they go; new tenants get them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups: Option<BackupSettings>,
    /// The swarm this installation spans, once `pgs swarm init` made one (see
    /// `docs/scale-out.md`); none: one host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<SwarmSettings>,
}

/// Name of the node pgs and its state dir run on, once there is a swarm.
pub const MANAGER_NODE: &str = "local";

/// The swarm of an installation on more than one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SwarmSettings {
    /// The manager's Swarm node id.
    pub manager_id: String,
    /// The address the manager advertises to the swarm (and other nodes reach it on).
    pub advertise_addr: String,
    /// The nodes besides the manager ([`MANAGER_NODE`]), by name.
    #[serde(default)]
    pub nodes: BTreeMap<String, NodeRecord>,
    /// The consensus store of high availability, once `pgs ha init` started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreSettings>,
}

/// The etcd cluster that holds who is primary for every HA tenant (one member per node, see
/// `docs/high-availability.md`), and the ports the agents use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreSettings {
    /// The nodes with a member, by name.
    pub members: Vec<String>,
    /// etcd's client port on every member's node.
    pub client_port: u16,
    /// etcd's peer port.
    pub peer_port: u16,
    /// The agents' replication relay port (TLS between nodes).
    pub relay_port: u16,
    /// Unix time the store was made.
    pub created_at: u64,
}

impl Config {
    /// The address other nodes reach node `name` on (the manager's advertised address for
    /// [`MANAGER_NODE`]); none without a swarm or for an unknown node.
    pub fn node_address(&self, name: &str) -> Option<String> {
        let swarm = self.swarm.as_ref()?;
        if name == MANAGER_NODE {
            return Some(swarm.advertise_addr.clone());
        }
        swarm.nodes.get(name).map(|n| n.address.clone())
    }

    /// The store's client URLs, one per member; empty without a store.
    pub fn store_endpoints(&self) -> Vec<String> {
        let Some(store) = self.swarm.as_ref().and_then(|s| s.store.as_ref()) else { return Vec::new() };
        store
            .members
            .iter()
            .filter_map(|m| self.node_address(m))
            .map(|a| format!("http://{a}:{}", store.client_port))
            .collect()
    }
}

/// A node that `pgs node add` adopted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    /// Its engine's API (`unix:///path`, `tcp://HOST:PORT`).
    pub docker_host: String,
    /// Its Swarm node id.
    pub swarm_id: String,
    /// The address it advertises to the swarm (and gateways reach it on).
    pub address: String,
    /// Its node dir on its host: tenants' sockets, its gateway's state.
    pub data_dir: String,
    /// Seconds since the epoch when it was added.
    pub added_at: u64,
    /// Since when (seconds since the epoch) its gateway has missed changes: a push to it failed.
    /// The next push that succeeds clears it (`pgs node sync` pushes at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_since: Option<u64>,
}

/// Where backups go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BackupRepository {
    /// A Docker volume per tenant on this host (`pgs-TENANT-backup`).
    Local,
    /// An S3-compatible object store, encrypted (one path per tenant in one bucket).
    S3,
}

/// The installation's backup settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupSettings {
    /// Where the repositories are.
    pub repository: BackupRepository,
    /// The object store, for `S3`; its keys and the encryption passphrase are in
    /// `backup-secrets.json` (0600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Settings>,
}

/// Where an S3-compatible repository is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Settings {
    /// Host name or address of the endpoint (as the tenant containers reach it).
    pub endpoint: String,
    /// Port (443 unless given).
    pub port: u16,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Path-style URLs (`https://host/bucket/key`), as most self-hosted stores want.
    pub path_style: bool,
    /// Verify the endpoint's TLS certificate.
    pub verify_tls: bool,
}

/// `backup-secrets.json` (0600): what opens an S3 repository.
#[derive(Clone, Serialize, Deserialize)]
pub struct BackupSecrets {
    /// File format version.
    pub schema_version: u32,
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret_key: String,
    /// Passphrase of the repository encryption (aes-256-cbc), generated by `pgs setup`.
    pub cipher_pass: String,
}

impl std::fmt::Debug for BackupSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BackupSecrets { .. }")
    }
}

/// Default port of the gateway's health endpoints.
pub const DEFAULT_HEALTH_PORT: u16 = 9187;

fn default_health_port() -> u16 {
    DEFAULT_HEALTH_PORT
}

/// Whether the operator wants a tenant running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Desired {
    /// Started (by `create` or `start`).
    Running,
    /// Stopped by `stop`.
    Stopped,
}

/// How far `create` got with a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// `create` has reserved the name and is building the container.
    Provisioning,
    /// The database accepted an authenticated connection.
    Ready,
}

/// One tenant as recorded in `tenants.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenant {
    /// Image the container runs.
    pub image: String,
    /// Port on 127.0.0.1 where the container's 5432 is published: only tenants made by earlier
    /// releases, which had a network of their own, until their container is made anew.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_port: Option<u16>,
    /// Subnet (CIDR) of the tenant's own network (earlier releases only, as `local_port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// The container may open connections out (Docker's default bridge: postgres_fdw, dblink, an
    /// S3 backup repository); otherwise it has no network at all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub egress: bool,
    /// Settings of the pooled endpoint that differ from the ones derived for the tenant
    /// (`pgs pool`); `None`: derived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<PoolSettings>,
    /// The pooled endpoint's mode unless the operator chose one: `auto` for tenants made since
    /// that mode exists, `transaction` for earlier ones (whose state lacks the field).
    #[serde(default = "PoolMode::earlier_default")]
    pub pool_mode: PoolMode,
    /// Path in the container where the data volume is mounted (depends on the major version).
    pub data_mount: String,
    /// Whether the gateway lets clients in.
    pub access: bool,
    /// Client networks (CIDR) allowed in; empty means everyone.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Memory limit in bytes.
    #[serde(default)]
    pub memory: Option<i64>,
    /// CPU limit in CPUs.
    #[serde(default)]
    pub cpus: Option<f64>,
    /// Running or stopped, as the operator last asked.
    pub desired: Desired,
    /// Provisioning or ready.
    pub phase: Phase,
    /// Unix time of creation.
    pub created_at: u64,
    /// Whether the tenant archives WAL and can be backed up (its container runs the image
    /// derived with pgBackRest and mounts its backup volume).
    #[serde(default)]
    pub backups: bool,
    /// The data volume in use, when a restore replaced the original `pgs-TENANT-data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_volume: Option<String>,
    /// The data volume a restore replaced, kept until the operator drops it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_data_volume: Option<String>,
    /// The last backup attempt (`pgs backup run`, the timer's `--due`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup: Option<BackupRecord>,
    /// Unix time of the last backup that succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_backup_ok_at: Option<u64>,
    /// A restore under way: the volume it restores into. Left behind by a restore that was
    /// killed; the next restore removes that half-made volume first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restoring: Option<String>,
    /// The last restore drill (`pgs backup verify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_drill: Option<Drill>,
    /// Scale to zero: stop the tenant after this many seconds without a client or activity of
    /// its own (`pgs create --suspend-after`, `pgs suspend-policy`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_after: Option<u64>,
    /// Stopped for idleness (the operator still wants it running: the next client wakes it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// PostgreSQL settings given for this tenant (`pgs create --pg-setting`); they override the
    /// ones pgs derives from the memory limit.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub settings: BTreeMap<String, String>,
    /// The node the tenant lives on (its volume is there); none: the manager's
    /// ([`MANAGER_NODE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// High availability: a synchronous standby on another node (`pgs create --ha`,
    /// `pgs ha enable`). Which of the two is primary now is the store's to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<HaSettings>,
}

/// What a commit of an HA tenant waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// A commit returns only once the standby has it; without the standby, commits wait.
    /// Only a standby that was synchronous is ever promoted.
    #[default]
    Required,
    /// Synchronous while the standby is there, asynchronous while it is not; a standby more
    /// than [`PREFERRED_LAG_CAP`] behind is not promoted.
    Preferred,
}

impl std::fmt::Display for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Durability::Required => "required",
            Durability::Preferred => "preferred",
        })
    }
}

/// How far behind (bytes of WAL) a standby of a `preferred` tenant may be and still be promoted.
pub const PREFERRED_LAG_CAP: u64 = 1 << 20;

/// A tenant's high availability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HaSettings {
    /// The node of the standby (the other member is the tenant's own node).
    pub standby_node: String,
    /// What a commit waits for.
    pub durability: Durability,
    /// Unix time HA was enabled.
    pub enabled_at: u64,
}

/// One backup attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BackupRecord {
    /// Unix time it ended.
    pub at: u64,
    /// full, diff or incr.
    pub kind: String,
    /// The backup's label, when it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outcome of a restore drill: the latest backup and WAL restored into a throwaway container,
/// recovered and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Drill {
    /// Unix time it ran.
    pub at: u64,
    /// Whether the backup was proven restorable.
    pub ok: bool,
    /// How long it took, in seconds.
    pub seconds: u64,
    /// What it checked (databases and their relations, pg_amcheck).
    pub report: Vec<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Tenant {
    /// The node the tenant was made on (for an HA tenant, one of its two members).
    pub fn home_node(&self) -> &str {
        self.node.as_deref().unwrap_or(MANAGER_NODE)
    }

    /// The nodes with a copy of the tenant: its own, and its standby's if it has HA.
    pub fn members(&self) -> Vec<String> {
        let mut members = vec![self.home_node().to_string()];
        members.extend(self.ha.as_ref().map(|h| h.standby_node.clone()));
        members
    }

    /// The data volume the tenant's container mounts.
    pub fn data_volume(&self, id: &TenantId) -> String {
        self.data_volume.clone().unwrap_or_else(|| volume_name(id))
    }

    /// The pooled endpoint's settings in force: the operator's (`pgs pool`), else those its
    /// memory limit gives ([`super::settings::pool`]).
    pub fn pool_settings(&self) -> PoolSettings {
        self.pool.unwrap_or_else(|| self.derived_pool())
    }

    /// The pool settings its memory limit and PostgreSQL settings give.
    pub fn derived_pool(&self) -> PoolSettings {
        PoolSettings { mode: self.pool_mode, ..super::settings::pool(self.memory, &self.settings) }
    }
}

/// `tenants.json`: every tenant, by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tenants {
    /// File format version.
    pub schema_version: u32,
    /// The tenants.
    pub tenants: BTreeMap<TenantId, Tenant>,
    /// Tenants removed with their data kept: the data volume each last ran on, for
    /// `pgs create ID --adopt` (a restore's volume is not `pgs-ID-data`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub retired: BTreeMap<TenantId, String>,
    /// Set in the copy pushed to a node's dir: whose tenants these are (that node's own, for
    /// its controller). None in the manager's state dir, the truth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl Default for Tenants {
    fn default() -> Self {
        Self { schema_version: SCHEMA_VERSION, tenants: BTreeMap::new(), retired: BTreeMap::new(), node: None }
    }
}

/// A random password of 32 letters and digits (about 190 bits).
pub fn generate_password() -> String {
    use rand::Rng;
    rand::rng().sample_iter(&rand::distr::Alphanumeric).take(32).map(char::from).collect()
}

/// `api-tokens.json` (mode 0600): the HTTP API's tokens, by name. Only a hash of each is kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiTokens {
    /// File format version.
    pub schema_version: u32,
    /// Tokens by name.
    #[serde(default)]
    pub tokens: BTreeMap<String, ApiToken>,
}

/// One API token (`pgs token create`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiToken {
    /// SHA-256 of the token, hex.
    pub sha256: String,
    /// It may read but not change anything.
    pub read_only: bool,
    /// When it was made (seconds since the epoch).
    pub created_at: u64,
}

/// `secrets/TENANT.json` (mode 0600): the passwords of one tenant's instance.
#[derive(Clone, Serialize, Deserialize)]
pub struct Secrets {
    /// File format version.
    pub schema_version: u32,
    /// Password of the tenant's role.
    pub password: String,
    /// Password of the instance's superuser `postgres`, for the operator only.
    pub superuser_password: String,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets { .. }")
    }
}

/// `routes.json`: everything the gateway needs to route and admit clients. Derived from
/// `config.json` and `tenants.json` and rewritten atomically with every change to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routes {
    /// File format version.
    pub schema_version: u32,
    /// Increases with every write, so a reader can tell versions apart.
    pub generation: u64,
    /// Public domain; tenants are `TENANT.DOMAIN`.
    pub domain: String,
    /// Port clients connect to.
    pub gateway_port: u16,
    /// One entry per ready tenant.
    pub tenants: Vec<Route>,
}

/// How to reach and admit one tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Route {
    /// Tenant id.
    pub id: TenantId,
    /// Public hostname, `TENANT.DOMAIN`.
    pub host: String,
    /// Whether clients may connect.
    pub access: bool,
    /// Client networks allowed in (CIDR); empty means everyone.
    pub allow: Vec<String>,
    /// Whether the operator wants the tenant running (false after `stop`).
    pub running: bool,
    /// Suspended for idleness: the gateway holds a client and asks the controller to wake it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
    /// Whether the tenant may be suspended (a failed dial then asks for a wake too).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wakeable: bool,
    /// Backend addresses.
    pub backend: Backend,
    /// The pooled endpoint `TENANT-pooler` (absent in routes of earlier releases: defaults).
    #[serde(default)]
    pub pool: PoolSettings,
    /// For an HA tenant: both copies. The gateway routes to the one the store names primary
    /// ([`HaView`]); `backend` is then the copy on the gateway's own node, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<HaRoute>,
}

/// The two copies of an HA tenant, as one node's gateway and agent reach them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaRoute {
    /// What a commit waits for.
    pub durability: Durability,
    /// By node name: how this node reaches that copy (its socket here, else that node's gateway).
    pub members: BTreeMap<String, Backend>,
    /// By node name: that node's agent relay (`IP:PORT`), where a standby's replication goes.
    pub relays: BTreeMap<String, String>,
    /// The tenant's image, volume and data mount (what a copy on this node is made with).
    pub image: String,
    /// The data volume's name.
    pub volume: String,
    /// Where the volume is mounted.
    pub data_mount: String,
}

/// `ha.json` in a node's dir, written by its agent: who is primary now for each HA tenant, as
/// the store says (the gateway beside it routes by it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HaView {
    /// Unix time in milliseconds the agent last confirmed it with the store.
    pub at_ms: u64,
    /// By tenant id.
    pub tenants: BTreeMap<String, HaRoles>,
}

/// `suspended.json` in a node's dir, written by that node's controller only: which of the node's
/// tenants it suspended. The manager's `tenants.json` (pushed to the node) cannot say it: the
/// manager does not see the node's controller act, and its next push would undo the mark. The
/// node's gateway holds the clients of the tenants named here; `pgs list` on the manager reads
/// the file from the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspensions {
    /// The suspended tenants.
    pub tenants: std::collections::BTreeSet<TenantId>,
}

/// Who holds what for one HA tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HaRoles {
    /// The node whose copy is primary and holds the lease; none while failing over.
    pub primary: Option<String>,
    /// The node whose copy streams from it now (`TENANT-ro` goes there); none when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standby: Option<String>,
    /// Increases with every change of primary.
    pub epoch: u64,
    /// Why the last failover or switchover was refused, until the standby is synchronous again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// How the pooled endpoint `TENANT-pooler` shares server connections among clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PoolMode {
    /// A server connection per transaction: many clients share few connections.
    Transaction,
    /// A server connection per client for its whole session, reset before the next client.
    Session,
    /// A server connection per transaction, kept for a client while it holds session state
    /// (LISTEN, a session advisory lock, SET ROLE, a WITH HOLD cursor, a temporary table, SQL
    /// PREPARE): what transaction mode refuses works, and other clients still share.
    Auto,
}

impl PoolMode {
    /// The mode new tenants get.
    pub const NEW: PoolMode = PoolMode::Auto;

    /// The mode of tenants made by releases before `auto` existed.
    pub fn earlier_default() -> PoolMode {
        PoolMode::Transaction
    }

    /// Its name, as `pgs pool --mode` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            PoolMode::Transaction => "transaction",
            PoolMode::Session => "session",
            PoolMode::Auto => "auto",
        }
    }
}

/// A tenant's pool settings (`pgs pool TENANT ...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PoolSettings {
    /// Transaction or session pooling.
    pub mode: PoolMode,
    /// Server connections per role and database.
    pub size: u32,
    /// Pooled clients at once per tenant.
    pub max_clients: u32,
    /// How long a client waits for a server connection before it is refused (53300).
    pub queue_timeout_secs: u64,
    /// How long an unused server connection is kept.
    pub server_idle_timeout_secs: u64,
    /// In `auto` mode, server connections per role and database that may be reserved for
    /// clients holding session state; `None`: half of `size`, at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserve: Option<u32>,
}

impl PoolSettings {
    /// Server connections per role and database that `auto` mode may reserve at once.
    pub fn reserve_limit(&self) -> u32 {
        self.reserve.unwrap_or(self.size / 2).clamp(1, self.size.max(1))
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            mode: PoolMode::Transaction,
            size: 20,
            max_clients: 1000,
            queue_timeout_secs: 30,
            server_idle_timeout_secs: 600,
            reserve: None,
        }
    }
}

/// The addresses of a tenant's PostgreSQL, for a gateway on the host or inside Docker. The TCP
/// ones are those of tenants made by earlier releases (a network of their own), empty for others; they
/// are written even when empty, for gateways of earlier releases that read these routes while a
/// newer one takes over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backend {
    /// Published port on the host's loopback (through Docker's port forwarding).
    #[serde(default)]
    pub loopback: String,
    /// The container's fixed address on its own network (reachable from the host directly).
    #[serde(default)]
    pub address: String,
    /// Name of the tenant's Docker network.
    #[serde(default)]
    pub network: String,
    /// `container:5432`, for a gateway attached to the tenant's network.
    #[serde(default)]
    pub container: String,
    /// The tenant's Unix socket, relative to the state dir (`sockets/TENANT/.s.PGSQL.5432`);
    /// absent for tenants whose container does not mount a socket dir.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
    /// For a tenant on another node of a swarm: that node's gateway (`IP:PORT`), which this
    /// one relays its clients to (then none of the fields above is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<String>,
}

impl Backend {
    /// A tenant on this node, reached on its socket.
    pub fn socket(id: &TenantId) -> Self {
        Self {
            loopback: String::new(),
            address: String::new(),
            network: String::new(),
            container: String::new(),
            socket: Some(super::paths::socket_path(id)),
            peer: None,
        }
    }

    /// A tenant on another node, reached through that node's gateway at `peer` (`IP:PORT`).
    pub fn peer(peer: String) -> Self {
        Self {
            loopback: String::new(),
            address: String::new(),
            network: String::new(),
            container: String::new(),
            socket: None,
            peer: Some(peer),
        }
    }
}

/// Name of a tenant's container.
pub fn container_name(id: &TenantId) -> String {
    format!("pgs-{id}")
}

/// Name of a tenant's data volume.
pub fn volume_name(id: &TenantId) -> String {
    format!("pgs-{id}-data")
}

/// Name of a tenant's backup repository volume.
pub fn backup_volume_name(id: &TenantId) -> String {
    format!("pgs-{id}-backup")
}

/// Name of a tenant's own network (tenants made by earlier releases).
pub fn network_name(id: &TenantId) -> String {
    format!("pgs-{id}")
}

/// The fixed address of a tenant's container inside its subnet: the second host address.
pub fn container_address(subnet: &str) -> Option<std::net::Ipv4Addr> {
    let (base, _) = parse_cidr(subnet)?;
    Some(std::net::Ipv4Addr::from(u32::from(base) + 2))
}

/// Parses `a.b.c.d/len` into its network address and prefix length.
pub fn parse_cidr(s: &str) -> Option<(std::net::Ipv4Addr, u8)> {
    let (ip, len) = s.split_once('/')?;
    let ip: std::net::Ipv4Addr = ip.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    if len > 32 {
        return None;
    }
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((std::net::Ipv4Addr::from(u32::from(ip) & mask), len))
}

impl Routes {
    /// Builds the route data from the config and the tenants; provisioning tenants are left out.
    pub fn build(config: &Config, tenants: &Tenants, generation: u64) -> Self {
        Self::build_on(config, tenants, generation, None)
    }

    /// The routes of the gateway on `node` (none: the manager's): the tenants that live there.
    /// Tenants of other nodes are routed to those nodes' gateways.
    pub fn build_on(config: &Config, tenants: &Tenants, generation: u64, node: Option<&str>) -> Self {
        // The gateway of the node a tenant lives on, if that is not `node`.
        let peer = |t: &Tenant| -> Option<String> {
            let swarm = config.swarm.as_ref()?;
            if t.node.as_deref() == node {
                return None;
            }
            let address = match &t.node {
                Some(other) => &swarm.nodes.get(other)?.address,
                None => &swarm.advertise_addr,
            };
            Some(format!("{address}:{}", config.gateway_port))
        };
        let own = |id: &TenantId, t: &Tenant| -> Backend {
            match &t.subnet {
                Some(subnet) => Backend {
                    loopback: t.local_port.map(|p| format!("127.0.0.1:{p}")).unwrap_or_default(),
                    address: container_address(subnet).map(|a| format!("{a}:5432")).unwrap_or_default(),
                    network: network_name(id),
                    container: format!("{}:5432", container_name(id)),
                    socket: Some(super::paths::socket_path(id)),
                    peer: None,
                },
                None => Backend::socket(id),
            }
        };
        let here = node.unwrap_or(MANAGER_NODE);
        let ha = |id: &TenantId, t: &Tenant| -> Option<HaRoute> {
            let settings = t.ha.as_ref()?;
            let store = config.swarm.as_ref()?.store.as_ref()?;
            let members = t.members();
            Some(HaRoute {
                durability: settings.durability,
                members: members
                    .iter()
                    .filter_map(|m| {
                        let backend = if m == here {
                            Backend::socket(id)
                        } else {
                            Backend::peer(format!("{}:{}", config.node_address(m)?, config.gateway_port))
                        };
                        Some((m.clone(), backend))
                    })
                    .collect(),
                relays: members
                    .iter()
                    .filter_map(|m| Some((m.clone(), format!("{}:{}", config.node_address(m)?, store.relay_port))))
                    .collect(),
                image: t.image.clone(),
                volume: t.data_volume(id),
                data_mount: t.data_mount.clone(),
            })
        };
        let routes = tenants
            .tenants
            .iter()
            .filter(|(_, t)| t.phase == Phase::Ready && (t.node.as_deref() == node || peer(t).is_some()))
            .map(|(id, t)| Route {
                ha: ha(id, t),
                id: id.clone(),
                host: format!("{id}.{}", config.domain),
                access: t.access,
                allow: t.allow.clone(),
                running: t.desired == Desired::Running,
                // The owning node's gateway holds the clients of a suspended tenant.
                suspended: t.suspended && peer(t).is_none(),
                wakeable: t.suspend_after.is_some() && peer(t).is_none(),
                pool: t.pool_settings(),
                backend: match peer(t) {
                    // An HA tenant's standby node has a copy of its own.
                    Some(_) if t.ha.as_ref().is_some_and(|h| h.standby_node == here) => Backend::socket(id),
                    Some(peer) => Backend::peer(peer),
                    None => own(id, t),
                },
            })
            .collect();
        Self {
            schema_version: SCHEMA_VERSION,
            generation,
            domain: config.domain.clone(),
            gateway_port: config.gateway_port,
            tenants: routes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_and_container_address() {
        assert_eq!(parse_cidr("10.213.0.37/27"), Some(("10.213.0.32".parse().unwrap(), 27)));
        assert_eq!(container_address("10.213.0.32/27"), Some("10.213.0.34".parse().unwrap()));
        assert_eq!(parse_cidr("10.0.0.0/33"), None);
        assert_eq!(parse_cidr("nonsense"), None);
    }
}
