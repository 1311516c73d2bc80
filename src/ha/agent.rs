//! The agent: one per node (`pgs agent run --node NODE`, the container `pgs-agent`), the only
//! thing that starts, stops, promotes and fences the copies of HA tenants on its node.
//!
//! Every [`TICK`] it reads every HA key of the installation from the store in one request,
//! writes `ha.json` (who is primary, for the gateway beside it), points the replication relay
//! of each local standby at its primary's node, and then, for each HA tenant with a copy here:
//! - **leads** when the tenant's `leader` key is its own (bound to its lease): keeps its copy a
//!   primary, makes the standby synchronous once it streams, records in `state` that it is, hands
//!   over on a switchover, and gives the lead up when its PostgreSQL has been down for
//!   [`RELEASE_AFTER`] (so that the standby takes over sooner than the lease would expire);
//! - **takes the lead** when the key is free: back, if the tenant's `state` names this node
//!   primary; as a failover, if its copy is the standby that `state` records as synchronous (or,
//!   for `preferred`, within the lag cap), promoting it; else it refuses and says why;
//! - **follows** when another node leads: a copy here that is a primary is stopped at once
//!   (fenced), and a copy that is not a streaming standby is rewound (or copied afresh) from the
//!   primary and started as its standby.
//!
//! One lease per agent, renewed every [`RENEW_EVERY`], carries all its `leader` keys. A renewal
//! task of its own stops every primary here once no renewal has succeeded for
//! [`FENCE_AFTER`], before the lease ([`LEASE_TTL`]) can expire and a standby take over: a node
//! cut off from the store never keeps a primary. A hung agent renews nothing either: its lease
//! expires and the standby takes over, while the old primary, whose synchronous standby is gone
//! and whose replication relay is this hung agent, cannot acknowledge a commit (`required`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::keys::{self, Failover, Replication, TenantState};
use super::member::{Member, Observed, quoted};
use super::relay::{self, Outbound, Targets};
use super::store::{Kv, Store};
use crate::docker::Docker;
use crate::docker::tenant::ContainerState;
use crate::state::{Durability, HaRoles, HaRoute, HaView, PREFERRED_LAG_CAP, StateDir, TenantId, container_name};

/// How often the agent looks at the store and its copies.
pub const TICK: Duration = Duration::from_millis(250);
/// The lease of an agent, in seconds: how long after its last renewal a standby may take over.
pub const LEASE_TTL: i64 = 5;
/// How often the lease is renewed.
pub const RENEW_EVERY: Duration = Duration::from_millis(500);
/// How long without a renewal before the primaries here are stopped (well before
/// [`LEASE_TTL`]).
pub const FENCE_AFTER: Duration = Duration::from_secs(3);
/// How long a leading copy's PostgreSQL may be down before the lead is given up.
pub const RELEASE_AFTER: Duration = Duration::from_secs(3);
/// How long a standby may go without streaming before it is made anew.
pub const SILENT_STANDBY: Duration = Duration::from_secs(20);
/// How long the look at a copy that is where it should be (a primary with its synchronous
/// standby streaming, or a streaming standby) is reused: with hundreds of HA tenants per node,
/// one query per copy per tick was most of the agent's CPU. A copy out of place, and every copy
/// of a tenant without a leader, is looked at every tick.
pub const STEADY_OBSERVE: Duration = Duration::from_secs(1);
/// How long one request to the store may take.
const STORE_TIMEOUT: Duration = Duration::from_millis(700);

/// What `pgs agent run` was asked.
#[derive(Debug, Clone)]
pub struct Options {
    /// The node this agent runs on.
    pub node: String,
}

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The state dir.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The node's engine.
    #[error(transparent)]
    Docker(#[from] crate::docker::DockerError),
    /// There is no store: `pgs ha init` has not run.
    #[error("there is no HA store in this node's config: run `pgs ha init` on the manager")]
    NoStore,
    /// The certificate or the relay port.
    #[error("{0}")]
    Setup(String),
}

/// The lease and what it protects, shared with the renewal task.
#[derive(Default)]
struct Shared {
    /// The lease id, once granted.
    lease: Option<i64>,
    /// When the last renewal that succeeded was sent.
    renewed: Option<Instant>,
    /// Tenants whose copy here runs as primary under the lease.
    leading: BTreeSet<String>,
}

/// The store's keys of one tenant.
#[derive(Debug, Default)]
struct Keys {
    leader: Option<Kv>,
    state: Option<(TenantState, String)>,
    switchover: Option<String>,
    replication: Option<String>,
    refusal: Option<String>,
}

/// What the agent remembers of one local copy between ticks.
#[derive(Default)]
struct Local {
    member: Option<Member>,
    down_since: Option<Instant>,
    silent_since: Option<Instant>,
    rejoin: Option<tokio::task::JoinHandle<bool>>,
    next_rejoin: Option<Instant>,
    /// Rejoins since the copy last streamed, whether they failed or did not lead to streaming.
    rejoins: u32,
    last_start: Option<Instant>,
    refused: Option<String>,
    replication_at: Option<Instant>,
    /// When (Unix ms) the standby here last heard from its primary.
    heard_ms: Option<u64>,
    /// The last look at the copy, and when it was taken.
    seen: Option<(Instant, Observed)>,
}

/// The agent of one node.
struct Agent {
    state: StateDir,
    node: String,
    instance: String,
    store: Arc<Store>,
    docker: Docker,
    shared: Arc<Mutex<Shared>>,
    targets: Targets,
    outbound: Outbound,
    routes_stamp: crate::state::FileStamp,
    tenants: BTreeMap<String, HaRoute>,
    /// Both members of every HA tenant of the installation (for `ha.json`).
    members: BTreeMap<String, Vec<String>>,
    locals: HashMap<String, Local>,
    last_view: Option<HaView>,
    view_written: Option<Instant>,
    store_error_logged: Option<Instant>,
}

/// Runs the agent of node `opts.node` on the state (node) dir `state` until it is stopped.
pub async fn run(state: StateDir, opts: Options) -> Result<(), AgentError> {
    let config = state.config()?;
    let settings = config.swarm.as_ref().and_then(|s| s.store.clone()).ok_or(AgentError::NoStore)?;
    // This node's own member first: it answers even when the others are out of reach.
    let mut endpoints = config.store_endpoints();
    if let Some(own) = config.node_address(&opts.node).map(|a| format!("http://{a}:{}", settings.client_port)) {
        endpoints.retain(|e| *e != own);
        endpoints.insert(0, own);
    }
    let store = Arc::new(Store::new(endpoints, STORE_TIMEOUT));
    let docker = Docker::connect().await?;
    let certs = state.cert_files();
    let (tls, pinned) = load_tls(&certs.cert(), &certs.key()).map_err(AgentError::Setup)?;
    let tls = Arc::new(ArcSwap::from(tls));
    let pinned = Arc::new(ArcSwap::from_pointee(pinned));
    let key = Arc::new(state.peer_key()?.into_bytes());
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", settings.relay_port))
        .await
        .map_err(|e| AgentError::Setup(format!("cannot listen on the relay port {}: {e}", settings.relay_port)))?;
    tokio::spawn(relay::serve_inbound(listener, tls.clone(), state.root().to_path_buf(), key.clone()));
    let targets: Targets = Arc::new(ArcSwap::from_pointee(BTreeMap::new()));
    let outbound = Outbound::new(state.root().to_path_buf(), targets.clone(), pinned.clone(), key);
    let shared = Arc::new(Mutex::new(Shared { lease: read_lease(&state), ..Default::default() }));
    tokio::spawn(keep_lease(store.clone(), shared.clone(), docker.clone(), state.clone()));
    tokio::spawn(reload_tls(certs.cert(), certs.key(), tls, pinned));
    tracing::info!(node = %opts.node, "agent running");
    let mut agent = Agent {
        state,
        node: opts.node,
        instance: config.instance,
        store,
        docker,
        shared,
        targets,
        outbound,
        routes_stamp: None,
        tenants: BTreeMap::new(),
        members: BTreeMap::new(),
        locals: HashMap::new(),
        last_view: None,
        view_written: None,
        store_error_logged: None,
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| AgentError::Setup(e.to_string()))?;
    loop {
        let started = Instant::now();
        agent.tick().await;
        tokio::select! {
            _ = tokio::time::sleep(TICK.saturating_sub(started.elapsed())) => {}
            _ = term.recv() => {
                tracing::info!("agent stopping (its lease runs out; the copies stay as they are)");
                return Ok(());
            }
        }
    }
}

/// The lease id an earlier run of the agent left (so that a restarted agent keeps its lead).
fn read_lease(state: &StateDir) -> Option<i64> {
    std::fs::read_to_string(lease_file(state)).ok()?.trim().parse().ok()
}

fn lease_file(state: &StateDir) -> PathBuf {
    state.run_dir().join("agent.lease")
}

/// Renews the lease every [`RENEW_EVERY`] (granting a new one when it is gone), and stops every
/// leading copy once no renewal has succeeded for [`FENCE_AFTER`].
async fn keep_lease(store: Arc<Store>, shared: Arc<Mutex<Shared>>, docker: Docker, state: StateDir) {
    let lock = |s: &Arc<Mutex<Shared>>| s.lock().unwrap_or_else(|p| p.into_inner()).lease;
    loop {
        let started = Instant::now();
        let renewed = match lock(&shared) {
            None => match store.grant(LEASE_TTL).await {
                Ok(id) => {
                    let _ = std::fs::create_dir_all(state.run_dir());
                    let _ = crate::state::atomic::write(&lease_file(&state), id.to_string().as_bytes(), 0o600);
                    shared.lock().unwrap_or_else(|p| p.into_inner()).lease = Some(id);
                    tracing::info!(lease = id, "lease granted");
                    true
                }
                Err(_) => false,
            },
            Some(id) => match store.keep_alive(id).await {
                Ok(ttl) if ttl > 0 => true,
                Ok(_) => {
                    tracing::warn!(lease = id, "the lease expired: every lead of this node is gone");
                    shared.lock().unwrap_or_else(|p| p.into_inner()).lease = None;
                    false
                }
                Err(_) => false,
            },
        };
        let fence: Vec<String> = {
            let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
            if renewed {
                s.renewed = Some(started);
            }
            let stale = s.renewed.is_none_or(|r| r.elapsed() >= FENCE_AFTER);
            if stale && !s.leading.is_empty() {
                std::mem::take(&mut s.leading).into_iter().collect()
            } else {
                Vec::new()
            }
        };
        for tenant in fence {
            // A stop (not a kill): Docker does not restart what was stopped.
            let name = format!("pgs-{tenant}");
            match docker.stop_container(&name, 0).await {
                Ok(()) => {
                    tracing::warn!(%tenant, "fenced: no lease renewal for {}s, the primary is stopped", FENCE_AFTER.as_secs())
                }
                Err(e) => tracing::error!(%tenant, "fencing failed: {e}"),
            }
        }
        tokio::time::sleep(RENEW_EVERY.saturating_sub(started.elapsed())).await;
    }
}

/// Reloads the relay's certificate when its files change (a renewal).
async fn reload_tls(
    cert: PathBuf,
    key: PathBuf,
    tls: Arc<ArcSwap<rustls::ServerConfig>>,
    pinned: Arc<ArcSwap<Vec<u8>>>,
) {
    let stamp = |p: &PathBuf| crate::state::file_stamp(p);
    let mut seen = stamp(&cert);
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let now = stamp(&cert);
        if now != seen
            && let Ok((config, hash)) = load_tls(&cert, &key)
        {
            tls.store(config);
            pinned.store(Arc::new(hash));
            seen = now;
            tracing::info!("relay certificate reloaded");
        }
    }
}

/// The relay's TLS server config from the installation's certificate, and the certificate's
/// end-point hash (what the other agents pin).
fn load_tls(cert: &std::path::Path, key: &std::path::Path) -> Result<(Arc<rustls::ServerConfig>, Vec<u8>), String> {
    let (config, hash) = crate::certs::store::server_config(cert, key, &[&rustls::version::TLS13])?;
    Ok((Arc::new(config), hash))
}

impl Agent {
    fn lease(&self) -> Option<i64> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner()).lease
    }

    fn set_leading(&self, tenant: &str, leading: bool) {
        let mut s = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        if leading {
            s.leading.insert(tenant.to_string());
        } else {
            s.leading.remove(tenant);
        }
    }

    fn key(&self, tenant: &str, name: &str) -> String {
        keys::key(&self.instance, tenant, name)
    }

    /// Re-reads `routes.json` when it changed: the HA tenants with a copy on this node.
    fn reload_routes(&mut self) {
        let stamp = crate::state::file_stamp(&self.state.routes_path());
        if stamp.is_some() && stamp == self.routes_stamp {
            return;
        }
        let Ok(Some(routes)) = self.state.routes() else { return };
        self.routes_stamp = stamp;
        self.members = routes
            .tenants
            .iter()
            .filter_map(|r| r.ha.as_ref().map(|h| (r.id.to_string(), h.members.keys().cloned().collect())))
            .collect();
        self.tenants = routes
            .tenants
            .into_iter()
            .filter_map(|r| r.ha.filter(|h| h.members.contains_key(&self.node)).map(|h| (r.id.to_string(), h)))
            .collect();
        self.locals.retain(|t, _| self.tenants.contains_key(t));
        // A tenant that is no longer HA (or no longer here) is not this agent's to fence.
        let mut shared = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        shared.leading.retain(|t| self.tenants.contains_key(t));
    }

    async fn tick(&mut self) {
        self.reload_routes();
        let kvs = match self.store.get_prefix(&keys::prefix(&self.instance)).await {
            Ok(kvs) => kvs,
            Err(e) => {
                if self.store_error_logged.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
                    tracing::warn!("the store does not answer: {e}");
                    self.store_error_logged = Some(Instant::now());
                }
                return;
            }
        };
        let mut all: BTreeMap<String, Keys> = BTreeMap::new();
        for kv in kvs {
            let Some((tenant, name)) = keys::split(&self.instance, &kv.key) else { continue };
            let entry = all.entry(tenant.to_string()).or_default();
            match name {
                keys::LEADER => entry.leader = Some(kv),
                keys::STATE => entry.state = serde_json::from_str(&kv.value).ok().map(|s| (s, kv.value)),
                keys::SWITCHOVER => entry.switchover = Some(kv.value),
                keys::REPLICATION => entry.replication = Some(kv.value),
                keys::REFUSAL => entry.refusal = Some(kv.value),
                _ => {}
            }
        }
        self.publish(&all);
        let containers = match self.docker.tenant_containers(&self.instance, None).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("the node's engine does not answer: {e}");
                return;
            }
        };
        let tenants: Vec<(String, HaRoute)> = self.tenants.iter().map(|(t, r)| (t.clone(), r.clone())).collect();
        for (tenant, route) in tenants {
            let keys = all.remove(&tenant).unwrap_or_default();
            self.step(&tenant, &route, keys, containers.get(&tenant)).await;
        }
    }

    /// Writes `ha.json` for the gateway and points the relays of local standbys at their
    /// primaries.
    fn publish(&mut self, all: &BTreeMap<String, Keys>) {
        let tenants = all
            .iter()
            .filter_map(|(t, k)| {
                let (state, _) = k.state.as_ref()?;
                let primary = k.leader.as_ref().map(|l| l.value.clone());
                let streaming = k
                    .replication
                    .as_deref()
                    .and_then(|r| serde_json::from_str::<Replication>(r).ok())
                    .is_some_and(|r| r.state == "streaming");
                let standby = self
                    .members
                    .get(t)
                    .and_then(|ms| ms.iter().find(|m| primary.as_ref().is_some_and(|p| p != *m)))
                    .filter(|_| streaming)
                    .cloned();
                Some((t.clone(), HaRoles { primary, standby, epoch: state.epoch, refused: k.refusal.clone() }))
            })
            .collect();
        let view = HaView { at_ms: keys::now_ms(), tenants };
        let changed = self.last_view.as_ref().is_none_or(|v| v.tenants != view.tenants);
        if changed || self.view_written.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
            if let Err(e) = self.state.save_ha_view(&view) {
                tracing::warn!("cannot write ha.json: {e}");
            }
            self.view_written = Some(Instant::now());
            self.last_view = Some(view);
        }
        let targets: BTreeMap<String, String> = self
            .tenants
            .iter()
            .filter_map(|(t, route)| {
                let (state, _) = all.get(t)?.state.as_ref()?;
                (state.primary != self.node)
                    .then(|| route.relays.get(&state.primary).map(|r| (t.clone(), r.clone())))?
            })
            .collect();
        if **self.targets.load() != targets {
            self.targets.store(Arc::new(targets));
        }
        self.outbound.sync();
    }

    /// One tenant's step (see the module doc).
    async fn step(&mut self, tenant: &str, route: &HaRoute, keys: Keys, container: Option<&ContainerState>) {
        let Some(other) = route.members.keys().find(|m| **m != self.node).cloned() else { return };
        let Some((state, raw)) = keys.state.clone() else { return };
        let running = container.is_some_and(|c| c.running);
        let leading = keys.leader.as_ref().map(|l| l.value == self.node);
        let observed = if running { self.observe(tenant, &other, leading).await } else { None };
        if !running && let Some(local) = self.locals.get_mut(tenant) {
            local.member = None;
        }
        match &keys.leader {
            Some(leader) if leader.value == self.node => {
                if Some(leader.lease) != self.lease() {
                    // A key of an earlier lease of ours: it expires by itself.
                    return;
                }
                self.set_leading(tenant, true);
                self.lead(tenant, route, &other, &state, &raw, &keys, container, observed).await;
            }
            Some(leader) => {
                self.set_leading(tenant, false);
                let leader = leader.value.clone();
                self.follow(tenant, route, &leader, container, observed).await;
            }
            None => {
                self.set_leading(tenant, false);
                self.vacant(tenant, route, &other, &state, container, observed).await;
            }
        }
    }

    /// Looks at the local copy (reconnecting when needed); none when it does not answer.
    /// `leading`: whether this node holds the tenant's lead (none: nobody does). A steady copy's
    /// last look is reused for [`STEADY_OBSERVE`].
    async fn observe(&mut self, tenant: &str, other: &str, leading: Option<bool>) -> Option<Observed> {
        let local = self.locals.entry(tenant.to_string()).or_default();
        if let (Some(leading), Some((at, seen))) = (leading, &local.seen) {
            let steady = if leading {
                !seen.in_recovery
                    && seen.sender_state.as_deref() == Some("streaming")
                    && seen.sync_state.as_deref() == Some("sync")
                    && !local.member.as_ref().is_none_or(Member::is_closed)
            } else {
                seen.in_recovery && seen.receiver.as_deref() == Some("streaming")
            };
            if steady && at.elapsed() < STEADY_OBSERVE && !local.member.as_ref().is_none_or(Member::is_closed) {
                return Some(seen.clone());
            }
        }
        local.seen = None;
        if local.member.as_ref().is_none_or(Member::is_closed) {
            local.member = None;
            let id = TenantId::parse(tenant).ok()?;
            let password = self.state.secrets(&id).ok().flatten()?.superuser_password;
            let dir = self.state.socket_dir_path(&id);
            local.member = Member::connect(&dir, &password).await.ok();
        }
        let member = local.member.as_ref()?;
        match member.observe(other).await {
            Ok(o) => {
                local.seen = Some((Instant::now(), o.clone()));
                Some(o)
            }
            Err(_) => {
                local.member = None;
                None
            }
        }
    }

    /// This node leads the tenant.
    #[allow(clippy::too_many_arguments)]
    async fn lead(
        &mut self,
        tenant: &str,
        route: &HaRoute,
        other: &str,
        state: &TenantState,
        raw: &str,
        keys: &Keys,
        container: Option<&ContainerState>,
        observed: Option<Observed>,
    ) {
        let Some(observed) = observed else {
            let local = self.locals.entry(tenant.to_string()).or_default();
            let down = *local.down_since.get_or_insert_with(Instant::now);
            // A copy stopped by fencing comes back once the lead is ours again.
            if container.is_some_and(|c| !c.running && !c.restarting)
                && local.last_start.is_none_or(|t| t.elapsed() > Duration::from_secs(5))
            {
                local.last_start = Some(Instant::now());
                let _ = self.docker.start_container(&container_name_of(tenant)).await;
            }
            if down.elapsed() >= RELEASE_AFTER
                && eligible(route.durability, state, other)
                && let Ok(true) = self.store.delete_if(&self.key(tenant, keys::LEADER), &self.node).await
            {
                self.set_leading(tenant, false);
                tracing::warn!(%tenant, "gave up the lead: PostgreSQL down for {}s", RELEASE_AFTER.as_secs());
            }
            return;
        };
        self.locals.entry(tenant.to_string()).or_default().down_since = None;
        if observed.in_recovery {
            // The lead is ours and the copy a standby: a takeover or a switchover to us.
            self.promote(tenant, state, raw).await;
            return;
        }
        if keys.switchover.as_deref() == Some(other) {
            self.hand_over(tenant, other, state, raw, &observed).await;
            return;
        }
        let streaming = observed.sender_state.as_deref() == Some("streaming");
        // `required` waits for the standby once it streamed in this epoch; right after a
        // failover the partner is the old primary, which has to rejoin first.
        let want = match route.durability {
            Durability::Required if state.sync.is_some() || streaming => Some(other),
            Durability::Preferred if streaming => Some(other),
            _ => None,
        };
        let sync_now = want.is_some() && observed.sync_state.as_deref() == Some("sync");
        if sync_now && keys.refusal.is_some() {
            // A refusal holds until the standby is synchronous again.
            let _ = self.store.delete(&self.key(tenant, keys::REFUSAL)).await;
        }
        let mut next = state.clone();
        match route.durability {
            Durability::Required => {
                if sync_now {
                    next.sync = Some(other.to_string());
                }
            }
            Durability::Preferred => {
                next.sync = sync_now.then(|| other.to_string());
                next.lag_bytes = observed.lag_bytes;
            }
        }
        let lag_side = |s: &TenantState| s.lag_bytes.map(|l| l <= PREFERRED_LAG_CAP);
        if next.sync != state.sync || lag_side(&next) != lag_side(state) {
            self.swap_state(tenant, raw, &next).await;
        }
        let replication = Replication {
            state: observed.sender_state.clone().unwrap_or_else(|| "down".into()),
            sync: sync_now,
            lag_bytes: observed.lag_bytes,
            lag_seconds: observed.lag_seconds,
        };
        let local = self.locals.entry(tenant.to_string()).or_default();
        let old: Option<Replication> = keys.replication.as_deref().and_then(|r| serde_json::from_str(r).ok());
        let changed = old.as_ref().is_none_or(|o| o.state != replication.state || o.sync != replication.sync);
        if changed || local.replication_at.is_none_or(|t| t.elapsed() > Duration::from_secs(2)) {
            local.replication_at = Some(Instant::now());
            if let Ok(json) = serde_json::to_string(&replication) {
                let _ = self.store.put(&self.key(tenant, keys::REPLICATION), &json, None).await;
            }
        }
        // The setting changes last: once the standby is dropped, commits go on without it, and
        // by then the store no longer says it is synchronous (seen in CI: `ha status` right
        // after such a commit still showed the old key).
        if observed.synchronous_names != want.map(quoted).unwrap_or_default() {
            let local = self.locals.entry(tenant.to_string()).or_default();
            if let Some(member) = &local.member {
                match member.set_synchronous(want).await {
                    Ok(()) => tracing::info!(%tenant, standby = ?want, "synchronous standby set"),
                    Err(e) => tracing::warn!(%tenant, "cannot set the synchronous standby: {e}"),
                }
            }
        }
    }

    async fn swap_state(&self, tenant: &str, raw: &str, next: &TenantState) -> bool {
        let Ok(json) = serde_json::to_string(next) else { return false };
        matches!(self.store.swap(&self.key(tenant, keys::STATE), raw, &json, None, &[]).await, Ok(true))
    }

    /// Promotes the local standby, which holds the lead now.
    async fn promote(&mut self, tenant: &str, state: &TenantState, raw: &str) {
        let local = self.locals.entry(tenant.to_string()).or_default();
        let Some(member) = &local.member else { return };
        let started = Instant::now();
        match member.promote().await {
            Ok(true) => {
                let _ = member.set_synchronous(None).await;
                tracing::warn!(%tenant, "promoted in {:?} (epoch {})", started.elapsed(), state.epoch);
                // The write gap: from the old primary's stop (a switchover) or the standby's last
                // message from it (a failover) to now.
                if let Some(f) = state.last_failover.as_ref().filter(|f| f.to == self.node && f.write_gap_ms.is_none())
                {
                    let mut next = state.clone();
                    next.last_failover =
                        Some(Failover { write_gap_ms: Some(keys::now_ms().saturating_sub(f.at_ms)), ..f.clone() });
                    self.swap_state(tenant, raw, &next).await;
                }
            }
            Ok(false) => tracing::warn!(%tenant, "promotion did not finish in time"),
            Err(e) => tracing::warn!(%tenant, "promotion failed: {e}"),
        }
    }

    /// A planned switchover to `other`: the primary stops cleanly (its synchronous standby has
    /// every commit, and the shutdown sends it the rest), the state names `other` primary and
    /// the lead is given up; `other`'s agent then takes it and promotes.
    async fn hand_over(&mut self, tenant: &str, other: &str, state: &TenantState, raw: &str, observed: &Observed) {
        let switchover = self.key(tenant, keys::SWITCHOVER);
        if observed.sync_state.as_deref() != Some("sync") || observed.sender_state.as_deref() != Some("streaming") {
            tracing::warn!(%tenant, "switchover refused: the standby on {other} is not a streaming synchronous standby");
            let _ = self
                .store
                .put(&self.key(tenant, keys::REFUSAL), "switchover refused: the standby is not synchronous", None)
                .await;
            let _ = self.store.delete(&switchover).await;
            return;
        }
        let at_ms = keys::now_ms();
        if let Err(e) = self.docker.stop_container(&container_name_of(tenant), 10).await {
            tracing::warn!(%tenant, "switchover: cannot stop the primary: {e}");
            return;
        }
        let next = TenantState {
            epoch: state.epoch + 1,
            primary: other.to_string(),
            sync: None,
            lag_bytes: None,
            last_failover: Some(Failover {
                at_ms,
                from: self.node.clone(),
                to: other.to_string(),
                reason: "switchover".into(),
                write_gap_ms: None,
            }),
        };
        self.swap_state(tenant, raw, &next).await;
        let _ = self.store.delete(&switchover).await;
        let _ = self.store.delete_if(&self.key(tenant, keys::LEADER), &self.node).await;
        self.set_leading(tenant, false);
        tracing::warn!(%tenant, "switchover: handed over to {other}");
    }

    /// Nobody leads the tenant.
    async fn vacant(
        &mut self,
        tenant: &str,
        route: &HaRoute,
        other: &str,
        state: &TenantState,
        container: Option<&ContainerState>,
        observed: Option<Observed>,
    ) {
        let Some(lease) = self.lease() else { return };
        let leader = self.key(tenant, keys::LEADER);
        if state.primary == self.node {
            // Ours (again): after a switchover to us, or the store's return.
            if container.is_none() {
                return;
            }
            if let Ok(true) = self.store.create(&leader, &self.node, Some(lease), &[]).await {
                self.set_leading(tenant, true);
                tracing::info!(%tenant, "took the lead (epoch {})", state.epoch);
            }
            return;
        }
        let Some(observed) = observed else { return };
        if !observed.in_recovery {
            // A primary without the lead, that the state does not name: never let it serve.
            self.fence(tenant).await;
            return;
        }
        if !eligible(route.durability, state, &self.node) {
            let why = match route.durability {
                Durability::Required => format!("not promoted: the standby on {} was not synchronous", self.node),
                Durability::Preferred => format!(
                    "not promoted: the standby on {} was more than {} bytes behind or not streaming",
                    self.node, PREFERRED_LAG_CAP
                ),
            };
            let refusal = self.key(tenant, keys::REFUSAL);
            let local = self.locals.entry(tenant.to_string()).or_default();
            if local.refused.as_deref() != Some(why.as_str()) {
                tracing::error!(%tenant, "{why}");
                let _ = self.store.put(&refusal, &why, None).await;
                local.refused = Some(why);
            }
            return;
        }
        let next = TenantState {
            epoch: state.epoch + 1,
            primary: self.node.clone(),
            sync: None,
            lag_bytes: None,
            last_failover: Some(Failover {
                // When writes stopped, as far as the standby can tell: its last message from
                // the old primary (the promotion measures the write gap from it).
                at_ms: self.locals.get(tenant).and_then(|l| l.heard_ms).unwrap_or_else(keys::now_ms),
                from: other.to_string(),
                to: self.node.clone(),
                reason: format!("the lease of {other} expired"),
                write_gap_ms: None,
            }),
        };
        let Ok(json) = serde_json::to_string(&next) else { return };
        let state_key = self.key(tenant, keys::STATE);
        if let Ok(true) = self.store.create(&leader, &self.node, Some(lease), &[(&state_key, &json)]).await {
            self.set_leading(tenant, true);
            self.locals.entry(tenant.to_string()).or_default().refused = None;
            tracing::warn!(%tenant, "failover: took the lead from {other} (epoch {})", next.epoch);
            self.promote(tenant, &next, &json).await;
        }
    }

    /// Stops the local copy at once (it must not serve as a primary).
    async fn fence(&mut self, tenant: &str) {
        match self.docker.stop_container(&container_name_of(tenant), 0).await {
            Ok(()) => tracing::warn!(%tenant, "fenced: a primary here without the lead was stopped"),
            Err(e) => tracing::error!(%tenant, "fencing failed: {e}"),
        }
        if let Some(local) = self.locals.get_mut(tenant) {
            local.member = None;
        }
    }

    /// Another node leads the tenant: the copy here must be its streaming standby.
    async fn follow(
        &mut self,
        tenant: &str,
        route: &HaRoute,
        leader: &str,
        container: Option<&ContainerState>,
        observed: Option<Observed>,
    ) {
        if container.is_none() {
            return;
        }
        if observed.as_ref().is_some_and(|o| !o.in_recovery) {
            self.fence(tenant).await;
        }
        let Ok(id) = TenantId::parse(tenant) else { return };
        let socket_dir = self.host_socket_dir(&id);
        let Some(secrets) = self.state.secrets(&id).ok().flatten() else { return };
        let local = self.locals.entry(tenant.to_string()).or_default();
        if let Some(task) = &local.rejoin {
            if !task.is_finished() {
                return;
            }
            let task = local.rejoin.take().expect("checked");
            // Counted until the copy streams: a rewind that succeeds but leaves a standby that
            // cannot stream (the WAL it needs is gone from the primary, say) must not be
            // repeated forever; the next attempt is a fresh copy.
            let _ = task.await;
            local.rejoins += 1;
            local.silent_since = None;
            return;
        }
        let streaming = observed.as_ref().is_some_and(|o| o.in_recovery && o.receiver.as_deref() == Some("streaming"));
        if streaming {
            local.silent_since = None;
            local.rejoins = 0;
            return;
        }
        let silent = *local.silent_since.get_or_insert_with(Instant::now);
        // A copy that runs but does not answer yet (a standby just started, still recovering
        // to a consistent state) waits like a standby that is connecting: made to rejoin at
        // once, it was stopped again and again while it started. (Should it be a primary, it
        // accepts no writes while it answers nobody, and is fenced as soon as it answers.)
        let standby_waiting = match &observed {
            Some(o) => o.in_recovery,
            None => container.is_some_and(|c| c.running),
        };
        // A standby that runs gets time to connect; one that does not run, or is a stopped
        // primary, is made to follow at once.
        if standby_waiting && silent.elapsed() < SILENT_STANDBY {
            return;
        }
        if local.next_rejoin.is_some_and(|t| Instant::now() < t) {
            return;
        }
        local.next_rejoin = Some(Instant::now() + Duration::from_secs(5));
        // A standby that ran but stayed silent after a rejoin gets a fresh copy; a copy that
        // does not run gets a second rewind first.
        let fresh = local.rejoins >= 2 || (standby_waiting && local.rejoins >= 1);
        let docker = self.docker.clone();
        if standby_waiting {
            // Why it is silent is in its own log (the walreceiver's errors): say it here.
            let log = docker.logs_tail(&container_name_of(tenant), 3).await;
            tracing::warn!(%tenant, %leader, fresh, "the standby has not streamed for {SILENT_STANDBY:?}: making it again; its log ends: {}", log.trim().replace('\n', "; "));
        }
        let pgdata = match docker.ensure_image(&route.image).await {
            Ok(info) => info.pgdata(),
            Err(e) => {
                tracing::warn!(%tenant, "rejoin: {e}");
                return;
            }
        };
        let spec = super::copy::CopySpec {
            tenant: tenant.to_string(),
            instance: self.instance.clone(),
            image: route.image.clone(),
            volume: route.volume.clone(),
            data_mount: route.data_mount.clone(),
            pgdata,
            socket_dir,
            node: self.node.clone(),
            password: secrets.superuser_password,
            fresh,
        };
        let leader = leader.to_string();
        let name = container_name_of(tenant);
        local.member = None;
        local.silent_since = None;
        local.rejoin = Some(tokio::spawn(async move {
            let started = Instant::now();
            let tenant = spec.tenant.clone();
            if let Err(e) = docker.stop_container(&name, 10).await {
                tracing::warn!(%tenant, "rejoin: cannot stop the copy: {e}");
                return false;
            }
            let result = super::copy::run(&docker, &spec).await;
            let ok = match &result {
                Ok(out) => {
                    tracing::info!(%tenant, %leader, fresh = spec.fresh, "rejoined as standby in {:?}: {}", started.elapsed(), out.replace('\n', "; "));
                    true
                }
                Err(e) => {
                    tracing::warn!(%tenant, %leader, "rejoin failed: {e}");
                    false
                }
            };
            // Started either way: a copy that failed to rewind still holds its data.
            let _ = docker.start_container(&name).await;
            ok
        }));
    }

    /// The host path of a tenant's socket dir on this node: the one-off's bind mount is made by
    /// the engine, which sees the host's paths, not this container's.
    fn host_socket_dir(&self, id: &TenantId) -> String {
        let relative = crate::state::socket_dir(id);
        match std::env::var("PGS_HOST_HOME") {
            Ok(host) => format!("{}/{relative}", host.trim_end_matches('/')),
            Err(_) => self.state.socket_dir_path(id).to_string_lossy().into_owned(),
        }
    }
}

/// Whether the copy on `node` may be promoted, by what the state recorded.
fn eligible(durability: Durability, state: &TenantState, node: &str) -> bool {
    let sync = state.sync.as_deref() == Some(node);
    match durability {
        Durability::Required => sync,
        Durability::Preferred => sync || state.lag_bytes.is_some_and(|l| l <= PREFERRED_LAG_CAP),
    }
}

fn container_name_of(tenant: &str) -> String {
    TenantId::parse(tenant).map(|id| container_name(&id)).unwrap_or_else(|_| format!("pgs-{tenant}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_synchronous_standby_is_eligible_when_required() {
        let mut state = TenantState { epoch: 1, primary: "n1".into(), ..Default::default() };
        assert!(!eligible(Durability::Required, &state, "n2"));
        state.sync = Some("n2".into());
        assert!(eligible(Durability::Required, &state, "n2"));
        assert!(!eligible(Durability::Required, &state, "n3"));
        state.sync = None;
        state.lag_bytes = Some(PREFERRED_LAG_CAP + 1);
        assert!(!eligible(Durability::Preferred, &state, "n2"));
        state.lag_bytes = Some(1000);
        assert!(eligible(Durability::Preferred, &state, "n2"));
        assert!(!eligible(Durability::Required, &state, "n2"));
    }

    #[test]
    fn the_lease_outlives_the_fence() {
        assert!(FENCE_AFTER + STORE_TIMEOUT < Duration::from_secs(LEASE_TTL as u64));
    }
}
