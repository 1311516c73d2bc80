//! The command line, as clap definitions. `pgs completions` and `completions/` derive from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// pgs: one PostgreSQL container per tenant on a Docker host, one TLS port for all of them.
#[derive(Debug, Parser)]
#[command(name = "pgs", version, about, propagate_version = true)]
pub struct Cli {
    /// State dir (default: the per-user data dir, e.g. ~/.local/share/pgs)
    #[arg(long, global = true, env = "PGS_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or update the configuration: state dir, domain, certificate choice
    Setup(SetupArgs),
    /// Create a tenant: container, volume, network and credentials
    Create(CreateArgs),
    /// List tenants with their hostname, status and access
    List(JsonArg),
    /// Show a tenant's connection details
    Info(InfoArgs),
    /// Start a tenant, or every tenant
    Start(StartArgs),
    /// Stop a tenant, or every tenant
    Stop(OptionalTenant),
    /// Recreate a tenant's container, or every tenant's one at a time, on the same data (after an
    /// upgrade of pgs: no healthcheck process, sockets, settings); each restarts
    Recreate(RecreateArgs),
    /// Remove a tenant (keeps its data volume unless --purge)
    Remove(RemoveArgs),
    /// Delete a tenant's data volumes that it does not run on (what restores left; `pgs info` lists them)
    PruneVolumes(PruneVolumesArgs),
    /// Let the gateway admit a tenant's clients
    EnableAccess(TenantArg),
    /// Refuse a tenant's clients at the gateway
    DisableAccess(TenantArg),
    /// Add client networks (CIDR) to a tenant's allowlist (an empty list admits everyone)
    Allow(CidrArgs),
    /// Remove client networks (CIDR) from a tenant's allowlist
    Deny(CidrArgs),
    /// Scale to zero: suspend a tenant after a time without clients (--after), or never (--never)
    SuspendPolicy(SuspendPolicyArgs),
    /// Suspend a tenant now (stopped until its next client wakes it)
    Suspend(SuspendArgs),
    /// Show or change the pooled endpoint TENANT-pooler (applies while the gateway runs)
    Pool(PoolArgs),
    /// The controller: suspends idle tenants and wakes them for the gateway (the managed
    /// gateway's `pgs-controller` container runs it; `pgs gateway run` runs one inside)
    #[command(subcommand)]
    Controller(ControllerCommand),
    /// The gateway: one TLS port for every tenant
    #[command(subcommand)]
    Gateway(GatewayCommand),
    /// Certificates for the gateway
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Backups (pgBackRest): turn them on, take one, list them
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Restore a tenant to a point in time, its latest state or a backup (keeps the current data)
    Restore(RestoreArgs),
    /// Create a tenant from another tenant's backups (its latest state, or --at / --backup); the source keeps running
    Clone(CloneArgs),
    /// More than one host: make this host's engine a Docker Swarm manager and the first pgs node
    #[command(subcommand)]
    Swarm(SwarmCommand),
    /// The hosts of a swarm: add one, list them, remove one
    #[command(subcommand)]
    Node(NodeCommand),
    /// Move a tenant to another node of the swarm with its data (states the downtime first)
    Move(MoveArgs),
    /// High availability: the store, a synchronous standby per tenant, its status
    #[command(subcommand)]
    Ha(HaCommand),
    /// Make an HA tenant's standby its primary, planned (maintenance); the old primary rejoins as standby
    Switchover(SwitchoverArgs),
    /// The per-node agent of high availability (run by `pgs ha init` in the container pgs-agent)
    #[command(subcommand)]
    Agent(AgentCommand),
    /// The HTTP API: a second front end over the same verbs (`pgs api run`)
    #[command(subcommand)]
    Api(ApiCommand),
    /// Bearer tokens of the HTTP API: make one, list them, revoke one
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print a shell completion script
    Completions(CompletionsArgs),
}

/// `pgs api`.
#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// Serve the HTTP API in the foreground until SIGINT/SIGTERM (HTTP on loopback, HTTPS elsewhere)
    Run(ApiRunArgs),
    /// Print the API's OpenAPI document (also served at /v1/openapi.json)
    Openapi,
}

/// `pgs api run`.
#[derive(Debug, Args)]
pub struct ApiRunArgs {
    /// Address to listen on: plain HTTP on loopback, TLS with the platform certificate on any other
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8433")]
    pub listen: std::net::SocketAddr,
    /// Log format
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `pgs token`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token (printed once; only its hash is kept)
    Create(TokenCreateArgs),
    /// List the tokens (names and access, never the tokens)
    List(JsonArg),
    /// Revoke a token: it stops working at once
    Revoke(TokenNameArg),
}

/// `pgs token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Name of the token (lowercase letters, digits, '-', '_')
    pub name: String,
    /// It may read but not change anything
    #[arg(long)]
    pub read_only: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// A token's name.
#[derive(Debug, Args)]
pub struct TokenNameArg {
    /// Name of the token
    pub name: String,
}

/// `pgs recreate`.
#[derive(Debug, Args)]
pub struct RecreateArgs {
    /// Tenant id (default: every tenant)
    pub tenant: Option<String>,
    /// Seconds to wait for each database to accept connections
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub timeout: u64,
}

/// `pgs suspend-policy`.
#[derive(Debug, Args)]
pub struct SuspendPolicyArgs {
    /// Tenant id
    pub tenant: String,
    /// Suspend after this long without clients or activity, e.g. 15m
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, required_unless_present = "never")]
    pub after: Option<u64>,
    /// Never suspend the tenant
    #[arg(long, conflicts_with = "after")]
    pub never: bool,
}

/// `pgs pool`.
#[derive(Debug, Args)]
pub struct PoolArgs {
    /// Tenant id
    pub tenant: String,
    /// Transaction pooling (a server connection per transaction), session pooling, or auto (per
    /// transaction, kept for a client while it holds session state such as LISTEN)
    #[arg(long, value_enum)]
    pub mode: Option<crate::state::PoolMode>,
    /// Server connections per role and database
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub size: Option<u32>,
    /// Pooled clients at once for the tenant
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_clients: Option<u32>,
    /// Seconds a client waits for a server connection before it is refused (53300)
    #[arg(long, value_name = "SECS")]
    pub queue_timeout: Option<u64>,
    /// Seconds an unused server connection is kept
    #[arg(long, value_name = "SECS")]
    pub server_idle_timeout: Option<u64>,
    /// In auto mode, server connections per role and database that clients holding session
    /// state (LISTEN, SET ROLE, ...) may keep for themselves [default: half of --size]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub reserve: Option<u32>,
    /// Back to the settings derived from the tenant's memory
    #[arg(long, conflicts_with_all = ["mode", "size", "max_clients", "queue_timeout", "server_idle_timeout", "reserve"])]
    pub reset: bool,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

/// `pgs suspend`.
#[derive(Debug, Args)]
pub struct SuspendArgs {
    /// Tenant id
    pub tenant: String,
    /// Suspend even with client sessions open (they are closed)
    #[arg(long)]
    pub force: bool,
}

/// `pgs controller ...`.
#[derive(Debug, Subcommand)]
pub enum ControllerCommand {
    /// Run the controller in the foreground
    Run(ControllerRunArgs),
}

/// `pgs controller run`.
#[derive(Debug, Args)]
pub struct ControllerRunArgs {
    /// The node of a swarm whose dir PGS_HOME is (its `pgs-controller` container): watch that
    /// node's tenants (pgs starts it there; not for the manager's state dir)
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// How long a wake may take before the held clients are told to retry
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub wake_timeout: u64,
    /// Log format
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// `pgs backup ...`.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Turn backups on for a tenant created before (or every tenant): restarts it with WAL archiving, then takes a full backup
    Enable(BackupEnableArgs),
    /// Take a backup now
    Run(BackupRunArgs),
    /// List a tenant's backups and archived WAL
    List(BackupListArgs),
    /// The restore drill: recover a throwaway copy to a random moment of the restorable window (checked), then to the latest state, check every database, record
    Verify(BackupVerifyArgs),
}

/// `pgs backup verify`.
#[derive(Debug, Args)]
pub struct BackupVerifyArgs {
    /// Tenant id
    pub tenant: String,
    /// The moment to recover to first (default: a random one of the restorable window)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs backup enable`.
#[derive(Debug, Args)]
pub struct BackupEnableArgs {
    /// Tenant id
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub tenant: Option<String>,
    /// Every tenant that has no backups yet
    #[arg(long)]
    pub all: bool,
    /// Seconds to wait for each database to accept connections after the restart
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub timeout: u64,
}

/// `pgs backup run`.
#[derive(Debug, Args)]
pub struct BackupRunArgs {
    /// Tenant id
    #[arg(required_unless_present = "due", conflicts_with = "due")]
    pub tenant: Option<String>,
    /// Every tenant with backups whose backup is due: full weekly, diff daily (for a timer)
    #[arg(long, conflicts_with = "kind")]
    pub due: bool,
    /// What to copy: everything, or the changes since the last full (diff) or last backup (incr)
    #[arg(long = "type", value_enum, default_value = "full")]
    pub kind: crate::backup::Kind,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs backup list`.
#[derive(Debug, Args)]
pub struct BackupListArgs {
    /// Tenant id
    pub tenant: String,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs restore`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["at", "latest", "backup"])))]
pub struct RestoreArgs {
    /// Tenant id
    pub tenant: String,
    /// Recover everything committed before this time (RFC 3339, e.g. 2026-11-26T21:00:00Z)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Recover everything archived (the newest state)
    #[arg(long)]
    pub latest: bool,
    /// Recover to the end of one backup (a label from `pgs backup list`)
    #[arg(long, value_name = "LABEL")]
    pub backup: Option<String>,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Seconds to wait for the restored database to accept connections
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// What `pgs create` and `pgs clone` set for a new tenant.
#[derive(Debug, Args)]
pub struct NewTenantArgs {
    /// Password for the tenant's role (default: generated)
    #[arg(long)]
    pub password: Option<String>,
    /// Memory limit, e.g. 512m or 2g
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory: Option<i64>,
    /// CPU limit, e.g. 1.5
    #[arg(long, value_name = "N")]
    pub cpus: Option<f64>,
    /// Create the tenant with access disabled
    #[arg(long)]
    pub no_access: bool,
    /// Scale to zero: stop the tenant after this long without clients or activity (e.g. 15m);
    /// the next client wakes it
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub suspend_after: Option<u64>,
    /// A PostgreSQL setting for this tenant, over the ones pgs derives from --memory
    /// (repeatable), e.g. --pg-setting max_connections=200
    #[arg(long = "pg-setting", value_name = "NAME=VALUE", value_parser = parse_setting)]
    pub pg_settings: Vec<(String, String)>,
    /// Let the tenant's PostgreSQL connect out (postgres_fdw, dblink): its container joins
    /// Docker's default bridge. Without it the container has no network (nothing connects in
    /// either way: clients come through the gateway)
    #[arg(long)]
    pub egress: bool,
}

/// `pgs clone`.
#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The tenant whose backups to copy
    pub source: String,
    /// The new tenant's id
    pub new: String,
    /// Copy the source as it was at this time (RFC 3339), not its latest state
    #[arg(long, value_name = "TIME", conflicts_with = "backup")]
    pub at: Option<String>,
    /// Copy the source as of one backup (a label from `pgs backup list`)
    #[arg(long, value_name = "LABEL")]
    pub backup: Option<String>,
    /// Credentials, limits and access of the new tenant
    #[command(flatten)]
    pub tenant: NewTenantArgs,
    /// Seconds to wait for the clone to accept connections
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs gateway ...`.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Run the gateway in the foreground until SIGINT/SIGTERM
    Run(GatewayRunArgs),
    /// Start the managed gateway container (pgs-gateway), building its image from this binary;
    /// a running gateway of another pgs version is replaced without refusing a connection
    Start(GatewayStartArgs),
    /// Stop the managed gateway container (open sessions drain first)
    Stop,
    /// Replace the managed gateway container by a new one without refusing a connection
    Restart(GatewayStartArgs),
    /// Show the managed gateway's health, version, uptime and open sessions
    Status(JsonArg),
    /// Print the managed gateway's log
    Logs(LogsArgs),
}

/// `pgs gateway start|restart`.
#[derive(Debug, Args)]
pub struct GatewayStartArgs {
    /// How long a replaced gateway may serve its open sessions (then they end with SQLSTATE
    /// 57P01, "the gateway is restarting, reconnect")
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub drain: u64,
}

/// `pgs gateway logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Keep printing new lines
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Lines from the end to start with ("all" for everything)
    #[arg(long, default_value = "100")]
    pub tail: String,
}

/// `pgs gateway run`.
#[derive(Debug, Args)]
pub struct GatewayRunArgs {
    /// Address to listen on (default: 0.0.0.0 and the gateway port from the config)
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// Address of /health, /ready and /metrics
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9187")]
    pub health_listen: std::net::SocketAddr,
    /// Log format
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Accept clients without TLS (only on private networks)
    #[arg(long)]
    pub allow_plaintext: bool,
    /// Seconds a client has to complete TLS and startup
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub handshake_timeout: u64,
    /// Connections open at once, over all tenants
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Sessions open at once per tenant
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub max_connections_per_tenant: u64,
    /// Seconds open sessions may finish after SIGTERM (then they end with SQLSTATE 57P01)
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub drain_timeout: u64,
    /// When this gateway takes over from a running one: how long that one may serve its open
    /// sessions (then they end with SQLSTATE 57P01)
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    pub takeover_drain: u64,
    /// How long to retry binding the client port while another process holds it (default: fail
    /// at once)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub bind_retry: Option<u64>,
    /// Which tenant address to dial
    #[arg(long, value_enum, default_value_t = crate::gateway::BackendMode::Auto)]
    pub backend: crate::gateway::BackendMode,
    /// Keep open sessions when a tenant is disabled, stopped or removed
    #[arg(long)]
    pub keep_sessions_on_revoke: bool,
    /// How long a client of a suspended tenant is held while it starts (then SQLSTATE 57P03)
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub wake_timeout: u64,
    /// Do not run the controller (which suspends idle tenants and wakes them) in this process
    #[arg(long)]
    pub no_controller: bool,
    /// Threads serving sessions, each a single-threaded runtime that keeps its sessions
    /// (default: half the cores, at least one); 0 serves them on the shared work-stealing
    /// runtime instead
    #[arg(long, value_name = "N")]
    pub serve_threads: Option<usize>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `pgs certs ...`.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum CertsCommand {
    /// Obtain a certificate for *.DOMAIN and DOMAIN from an ACME CA through DNS-01
    Issue(IssueArgs),
    /// Renew the ACME certificate if it is due (safe to run from cron or a timer)
    Renew(RenewArgs),
    /// Issue a wildcard certificate for *.DOMAIN and DOMAIN from a local CA in the state dir
    SelfSigned,
    /// Install a certificate chain and key you already have (PEM files)
    Import(ImportArgs),
    /// Show the installed certificate: names, issuer, validity, renewal date, files
    Status(JsonArg),
}

/// `pgs certs issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// ACME CA: letsencrypt, letsencrypt-staging, zerossl, or a directory URL
    #[arg(long, default_value = "letsencrypt", value_name = "CA|URL")]
    pub ca: String,
    /// Contact address for the CA's expiry and policy notices
    #[arg(long, value_name = "ADDR")]
    pub email: Option<String>,
    /// External account binding key id (ZeroSSL and CAs that require EAB)
    #[arg(long, value_name = "ID", requires = "eab_hmac")]
    pub eab_kid: Option<String>,
    /// External account binding HMAC key, base64url (better: env PGS_EAB_HMAC)
    #[arg(long, value_name = "KEY", env = "PGS_EAB_HMAC", hide_env_values = true, requires = "eab_kid")]
    pub eab_hmac: Option<String>,
    /// Extra root certificate (PEM) to trust for the ACME server's own HTTPS (test CAs)
    #[arg(long, value_name = "PEM")]
    pub ca_root: Option<PathBuf>,
    /// How to publish the DNS-01 TXT records
    #[arg(long, value_enum)]
    pub dns: DnsKind,
    /// rfc2136: the name server that takes dynamic updates
    #[arg(long, value_name = "ADDR:PORT", required_if_eq("dns", "rfc2136"))]
    pub dns_server: Option<std::net::SocketAddr>,
    /// rfc2136: the zone to update (default: found with an SOA query)
    #[arg(long, value_name = "ZONE")]
    pub dns_zone: Option<String>,
    /// rfc2136: TSIG key name (default: the name in the key file)
    #[arg(long, value_name = "NAME")]
    pub tsig_key_name: Option<String>,
    /// rfc2136: TSIG algorithm (default: the key file's, else hmac-sha256)
    #[arg(long, value_name = "ALG")]
    pub tsig_algorithm: Option<String>,
    /// rfc2136: file with the TSIG secret (base64, or `tsig-keygen` output); or env PGS_TSIG_SECRET
    #[arg(long, value_name = "FILE")]
    pub tsig_secret_file: Option<PathBuf>,
    /// exec: program run as `PROGRAM present|cleanup FQDN VALUE`
    #[arg(long, value_name = "PROGRAM", required_if_eq("dns", "exec"))]
    pub dns_exec: Option<String>,
    /// Name server asked whether the records are visible (default: the rfc2136 server, else the
    /// zone's authoritative servers)
    #[arg(long, value_name = "ADDR:PORT")]
    pub propagation_resolver: Option<std::net::SocketAddr>,
    /// Seconds to wait for the records to become visible
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub propagation_timeout: u64,
    /// Agree to the CA's terms of service without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// DNS providers for DNS-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DnsKind {
    /// TSIG-signed dynamic updates (BIND, Knot, PowerDNS, ...)
    Rfc2136,
    /// Cloudflare's API (token in env CLOUDFLARE_API_TOKEN)
    Cloudflare,
    /// A program of yours (lego's exec contract)
    Exec,
    /// Print the records and wait for Enter (terminal only)
    Manual,
}

/// `pgs certs renew`.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Renew even if the certificate is not due
    #[arg(long)]
    pub force: bool,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs certs import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Certificate chain (PEM, leaf first) covering *.DOMAIN and DOMAIN
    #[arg(long, value_name = "PEM")]
    pub cert: PathBuf,
    /// Its private key (PEM)
    #[arg(long, value_name = "PEM")]
    pub key: PathBuf,
}

/// `pgs ha ...`.
#[derive(Debug, Subcommand)]
pub enum HaCommand {
    /// Start the store (an etcd member on every node, three or more) and the agent on every node
    Init(JsonArg),
    /// Give an existing tenant a synchronous standby on another node (streamed from the running primary)
    Enable(HaEnableArgs),
    /// Remove a tenant's standby; the primary stays where it runs (its node becomes the tenant's)
    Disable(HaDisableArgs),
    /// Primary, standby, replication, sync state, lag, epoch and last failover of each HA tenant
    Status(HaStatusArgs),
}

/// `pgs ha enable`.
#[derive(Debug, Args)]
pub struct HaEnableArgs {
    /// Tenant id
    pub tenant: String,
    #[command(flatten)]
    pub ha: HaOptions,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// Where a standby goes and what commits wait for (`create --ha`, `ha enable`).
#[derive(Debug, Args)]
pub struct HaOptions {
    /// The node of the standby (default: the ready node with the most memory free)
    #[arg(long, value_name = "NODE")]
    pub standby_node: Option<String>,
    /// required: a commit returns once the standby has it (only a synchronous standby is promoted);
    /// preferred: synchronous while the standby is there, else asynchronous (not promoted when over 1 MiB behind)
    #[arg(long, value_enum, default_value_t = crate::state::Durability::Required)]
    pub durability: crate::state::Durability,
}

/// `pgs ha disable`.
#[derive(Debug, Args)]
pub struct HaDisableArgs {
    /// Tenant id
    pub tenant: String,
}

/// `pgs ha status`.
#[derive(Debug, Args)]
pub struct HaStatusArgs {
    /// Tenant id (default: every HA tenant)
    pub tenant: Option<String>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs switchover`.
#[derive(Debug, Args)]
pub struct SwitchoverArgs {
    /// Tenant id
    pub tenant: String,
    /// The node to switch to: the standby's (the only choice, checked)
    #[arg(long, value_name = "NODE")]
    pub to: Option<String>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs agent ...`.
#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Run the agent of one node in the foreground
    Run(AgentRunArgs),
}

/// `pgs agent run`.
#[derive(Debug, Args)]
pub struct AgentRunArgs {
    /// The node this agent runs on
    #[arg(long, value_name = "NODE")]
    pub node: String,
    /// Log format
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
}

/// `pgs swarm ...`.
#[derive(Debug, Subcommand)]
pub enum SwarmCommand {
    /// Make the Docker engine pgs uses a swarm manager (or adopt the swarm it manages); this host
    /// becomes node "local", where the state dir stays
    Init(SwarmInitArgs),
}

/// `pgs swarm init`.
#[derive(Debug, Args)]
pub struct SwarmInitArgs {
    /// The address other hosts reach this one on (default: Docker's choice, which fails on a
    /// host with more than one address)
    #[arg(long, value_name = "ADDR")]
    pub advertise_addr: Option<String>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs node ...`.
#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Adopt another host's Docker engine as node NAME: it joins the swarm (unless it is in it)
    /// and gets the tenant image
    Add(NodeAddArgs),
    /// List the nodes: state in the swarm, tenants, memory
    List(JsonArg),
    /// Remove a node without tenants: it leaves the swarm
    Remove(NodeRemoveArgs),
    /// Bring the gateways of one node or every node up to date now: their files, and their
    /// binary (replaced without refusing a connection)
    Sync(NodeSyncArgs),
    /// Switch every HA primary on the node over to its standby (before a reboot); lists the
    /// tenants without HA that stay there
    Drain(NodeDrainArgs),
}

/// `pgs node drain`.
#[derive(Debug, Args)]
pub struct NodeDrainArgs {
    /// Node name (`local`: this host)
    pub name: String,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs node sync`.
#[derive(Debug, Args)]
pub struct NodeSyncArgs {
    /// Node name (default: every node)
    pub name: Option<String>,
}

/// `pgs node add`.
#[derive(Debug, Args)]
pub struct NodeAddArgs {
    /// The name pgs knows the node by (letters, digits, hyphens)
    pub name: String,
    /// The node's Docker API: unix:///PATH, or tcp://HOST:PORT over a private link
    #[arg(long, value_name = "URL")]
    pub docker_host: String,
    /// The address the node advertises to the swarm (default: Docker's choice)
    #[arg(long, value_name = "ADDR")]
    pub address: Option<String>,
    /// The node's dir on its host, for its tenants' sockets and its gateway's state (default:
    /// /var/lib/pgs/INSTANCE/NAME)
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs move`.
#[derive(Debug, Args)]
pub struct MoveArgs {
    /// Tenant id
    pub tenant: String,
    /// The node to move it to (`local` is this host)
    #[arg(long, value_name = "NODE")]
    pub to: String,
    /// Keep the data volume on the old node (removed by default once the new copy answers)
    #[arg(long)]
    pub keep_source: bool,
    /// Seconds to wait for the database on the new node to accept connections
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub timeout: u64,
    /// Do not ask for confirmation of the downtime
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs node remove`.
#[derive(Debug, Args)]
pub struct NodeRemoveArgs {
    /// Node name
    pub name: String,
}

/// `--json`.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// One tenant id.
#[derive(Debug, Args)]
pub struct TenantArg {
    /// Tenant id
    pub tenant: String,
}

/// An optional tenant id (all tenants when absent).
#[derive(Debug, Args)]
pub struct OptionalTenant {
    /// Tenant id (default: every tenant)
    pub tenant: Option<String>,
}

/// A tenant and client networks.
#[derive(Debug, Args)]
pub struct CidrArgs {
    /// Tenant id
    pub tenant: String,
    /// Networks such as 203.0.113.0/24 or single addresses
    #[arg(required = true, value_name = "CIDR")]
    pub cidrs: Vec<String>,
}

/// `pgs setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Public domain; tenants are reached as TENANT.DOMAIN
    #[arg(long)]
    pub domain: Option<String>,
    /// Use a local CA and a self-signed wildcard certificate (development, tests)
    #[arg(long)]
    pub self_signed: bool,
    /// Default PostgreSQL image for new tenants
    #[arg(long)]
    pub image: Option<String>,
    /// Port the gateway listens on
    #[arg(long, value_name = "N")]
    pub gateway_port: Option<u16>,
    /// Port (on 127.0.0.1) of the managed gateway's /health, /ready and /metrics
    #[arg(long, value_name = "N")]
    pub health_port: Option<u16>,
    /// Do not start the managed gateway (e.g. to run `pgs gateway run` under systemd instead)
    #[arg(long)]
    pub no_gateway: bool,
    /// Back up tenants (pgBackRest): `local` keeps each tenant's repository in a volume of its own; new tenants archive WAL from the start
    #[arg(long, value_enum, value_name = "REPOSITORY")]
    pub backups: Option<crate::state::BackupRepository>,
    /// With --backups s3: the endpoint as tenant containers reach it, HOST or HOST:PORT (keys from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)
    #[arg(long, value_name = "HOST[:PORT]", requires = "s3_bucket")]
    pub s3_endpoint: Option<String>,
    /// With --backups s3: the bucket (each tenant gets a path of its own in it)
    #[arg(long, value_name = "BUCKET", requires = "s3_endpoint")]
    pub s3_bucket: Option<String>,
    /// With --backups s3: the region
    #[arg(long, value_name = "REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// With --backups s3: path-style URLs (most self-hosted stores)
    #[arg(long)]
    pub s3_path_style: bool,
    /// With --backups s3: do not verify the endpoint's TLS certificate (test setups only)
    #[arg(long)]
    pub s3_no_verify_tls: bool,
    /// Never prompt; take defaults for what is not given
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `pgs create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Tenant id: a DNS label (lowercase letters, digits, hyphens; starts with a letter)
    pub tenant: String,
    /// PostgreSQL image (default: the one chosen at setup)
    #[arg(long)]
    pub image: Option<String>,
    /// Credentials, limits and access of the new tenant
    #[command(flatten)]
    pub options: NewTenantArgs,
    /// Reuse the data volume a `pgs remove` without --purge left behind
    #[arg(long)]
    pub adopt: bool,
    /// Give it a synchronous standby on another node (high availability; `pgs ha init` first)
    #[arg(long)]
    pub ha: bool,
    #[command(flatten)]
    pub ha_options: HaOptions,
    /// The node to make it on, with a swarm (default: the one with the most memory free)
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Seconds to wait for the database to accept connections
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub timeout: u64,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Tenant id
    pub tenant: String,
    /// Include the password and a full connection URL
    #[arg(long)]
    pub show_password: bool,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs start`.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Tenant id (default: every tenant)
    pub tenant: Option<String>,
    /// Seconds to wait for each database to accept connections
    #[arg(long, value_name = "SECS", default_value_t = 180)]
    pub timeout: u64,
}

/// `pgs prune-volumes`.
#[derive(Debug, Args)]
pub struct PruneVolumesArgs {
    /// Tenant id
    pub tenant: String,
    /// Only this volume (default: every data volume of the tenant but the one in use)
    #[arg(long, value_name = "NAME")]
    pub volume: Option<String>,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print one JSON document on stdout
    #[arg(long)]
    pub json: bool,
}

/// `pgs remove`.
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Tenant id
    pub tenant: String,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also delete the data volume and the stored passwords (irreversible); backups are kept
    #[arg(long)]
    pub purge: bool,
    /// With --purge, also delete the tenant's backups (irreversible)
    #[arg(long, requires = "purge")]
    pub purge_backups: bool,
}

/// `pgs completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// Shell
    pub shell: clap_complete::Shell,
}

pub use crate::state::settings::parse_setting;
pub use crate::state::units::{parse_duration, parse_size};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
