//! The controller: the one process with Docker access that scales tenants to zero and back.
//!
//! Gateways hold no Docker socket and must not get one. The controller does what needs Docker
//! for them, for every tenant at once, from one process:
//! - it listens on the control socket ([`protocol`]) for wake requests (a client reached a
//!   suspended tenant) and activity reports (which tenants have clients);
//! - once a second it looks at the tenants that have a suspend policy and, when the gateways
//!   have been quiet long enough, asks each one's database whether it is idle ([`idle`]), then
//!   suspends it ([`TenantOps::suspend`]);
//! - with a swarm, every few seconds it pushes again to the nodes that missed a change (marked
//!   stale: [`TenantOps::sync_node`]), so a node that was down catches up once it is back.
//!
//! Starting and stopping tenants is the platform's: the controller asks for it through
//! [`TenantOps`], which the platform implements, so this layer needs only the state dir.
//!
//! It runs inside `pgs gateway run` (foreground) or as the `pgs-controller` container next to the
//! managed gateway (`pgs controller run`), and on every other node of a swarm as that node's
//! `pgs-controller` (`pgs controller run --node NAME`, on the node's dir): there it watches the
//! node's own tenants only, and records what it suspends in the node's `suspended.json`. Only
//! one controller per state dir acts: it holds `run/controller.lock`; another waits on that lock
//! as a standby.

pub mod idle;
pub mod protocol;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::state::{Desired, Phase, StateDir, TenantId};
use idle::{Next, Verdict, Watch};
use protocol::{Reply, Request};

/// How often idleness is looked at.
const TICK: Duration = Duration::from_secs(1);
/// How often nodes that missed a change are tried again.
const STALE_RETRY: Duration = Duration::from_secs(5);
/// Database checks and suspensions in flight at once.
const CHECKS_AT_ONCE: usize = 4;

/// What a tenant's own database is doing, for the idleness check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Client sessions other than the one asking (through a gateway, `docker exec`, backups);
    /// a pooled endpoint's idle server connections do not count (its clients do, at the gateway).
    pub sessions: i64,
    /// Current WAL position: it moves when the tenant writes (jobs of its own included).
    pub wal_lsn: String,
}

/// Why a controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// Its folder, lock or control socket could not be made.
    #[error("{what}")]
    Setup {
        /// What, and what to do.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state dir could not be read.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// How an operation the controller asked for failed (the platform's error, as it is).
pub type OpsError = Box<dyn std::error::Error + Send + Sync>;

/// A result of [`TenantOps`].
pub type OpsResult<T> = std::result::Result<T, OpsError>;

/// What the controller asks of the layer above it, which knows how to start and stop tenants
/// and push to nodes: the platform implements it, and the process that runs a controller
/// composes the two ([`crate::platform::controller`]).
pub trait TenantOps: Send + Sync + 'static {
    /// Starts suspended tenant `id` and waits until it accepts connections; how long it took.
    fn wake(&self, id: &TenantId, timeout: Duration) -> impl Future<Output = OpsResult<Duration>> + Send;
    /// Records that `id` is awake, once the gateway has its answer.
    fn mark_awake(&self, id: &TenantId) -> OpsResult<()>;
    /// What the tenant's database is doing.
    fn activity(&self, id: &TenantId) -> impl Future<Output = OpsResult<Activity>> + Send;
    /// Suspends `id` unless it has client sessions; whether it did.
    fn suspend(&self, id: &TenantId) -> impl Future<Output = OpsResult<bool>> + Send;
    /// Pushes again to node `name`, which missed a change.
    fn sync_node(&self, name: &str) -> impl Future<Output = OpsResult<()>> + Send;
    /// Drops suspension marks that no longer hold (a node's controller: the operator stopped,
    /// moved or removed the tenant meanwhile); `tenants` as the controller last read them.
    fn prune_marks(&self, tenants: &crate::state::Tenants) -> OpsResult<()>;
}

/// Settings of a controller.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a wake may take before the waiting clients are told to retry.
    pub wake_timeout: Duration,
    /// The node whose dir this is (none: the manager's controller, on the state dir). A node's
    /// controller pushes to no node; the manager's watches only the manager's tenants.
    pub node: Option<String>,
}

/// The controller's shared state.
struct Controller<T> {
    state: StateDir,
    platform: T,
    opts: Options,
    /// One lock per tenant: a wake and a suspension of the same tenant never overlap.
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Idleness bookkeeping of tenants with a policy.
    watches: Mutex<HashMap<String, Watch>>,
    /// `tenants.json` as last read, with the file's modification time and length: a tick
    /// re-reads it only when it changed (hundreds of tenants are a few hundred kB of JSON).
    tenants: Mutex<Option<(std::time::SystemTime, u64, Arc<crate::state::Tenants>)>>,
}

impl<T: TenantOps> Controller<T> {
    /// Pushes again to each node marked stale (one that a push missed); a node still out of
    /// reach stays marked and is tried at the next round.
    async fn retry_stale_nodes(&self) {
        let Ok(config) = self.state.config() else { return };
        let stale = config.swarm.iter().flat_map(|s| &s.nodes).filter(|(_, n)| n.stale_since.is_some());
        for (name, _) in stale {
            match self.platform.sync_node(name).await {
                Ok(_) => tracing::info!(node = %name, "the node that missed changes is up to date again"),
                Err(e) => {
                    tracing::debug!(node = %name, error = %e, "the node that missed changes is still out of reach")
                }
            }
        }
    }

    fn lock_of(&self, tenant: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(tenant.to_string()).or_default().clone()
    }

    fn touch(&self, tenant: &str) {
        let now = Instant::now();
        let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
        watches.entry(tenant.to_string()).or_insert_with(|| Watch::new(now)).touch(now);
    }

    /// Wakes `tenant`; on success returns its id, for [`TenantOps::mark_awake`] once the
    /// gateway has its answer.
    async fn wake(&self, tenant: &str) -> (Reply, Option<TenantId>) {
        let id = match TenantId::parse(tenant) {
            Ok(id) => id,
            Err(e) => return (Reply::failed(e.to_string()), None),
        };
        let lock = self.lock_of(tenant);
        let _held = lock.lock().await;
        self.touch(tenant);
        match self.platform.wake(&id, self.opts.wake_timeout).await {
            Ok(took) => {
                if took > Duration::from_millis(50) {
                    tracing::info!(tenant, ms = took.as_millis() as u64, "woke tenant");
                }
                self.touch(tenant);
                (Reply::ok(), Some(id))
            }
            Err(e) => {
                tracing::warn!(tenant, error = %e, "cannot wake tenant");
                (Reply::failed(e.to_string()), None)
            }
        }
    }

    async fn serve(self: Arc<Self>, stream: UnixStream) {
        let mut stream = BufReader::new(stream);
        // A peer that connects and says nothing is dropped, not waited for.
        let read = tokio::time::timeout(Duration::from_secs(5), protocol::read_line(&mut stream)).await;
        let Ok(Ok(line)) = read else { return };
        let (reply, woken) = match serde_json::from_str::<Request>(&line) {
            Ok(Request::Wake(tenant)) => self.wake(&tenant).await,
            Ok(Request::Active(tenants)) => {
                for t in &tenants {
                    self.touch(t);
                }
                (Reply::ok(), None)
            }
            Err(e) => (Reply::failed(format!("bad request: {e}")), None),
        };
        let mut out = serde_json::to_vec(&reply).unwrap_or_default();
        out.push(b'\n');
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.get_mut().write_all(&out)).await;
        // The held clients are on their way; now the state (and the routes) say it runs.
        if let Some(id) = woken
            && let Err(e) = self.platform.mark_awake(&id)
        {
            tracing::warn!(tenant = %id, error = %e, "cannot record the wake");
        }
    }

    /// One look at every tenant with a policy: the ones due get a database check, the idle
    /// ones are suspended.
    async fn tick(self: &Arc<Self>) -> Result<(), crate::state::StateError> {
        let tenants = self.current_tenants()?;
        // A node's controller records its suspensions beside the manager's copy of the tenants.
        let marks = match &self.opts.node {
            Some(_) => {
                if let Err(e) = self.platform.prune_marks(&tenants) {
                    tracing::warn!(error = %e, "cannot drop suspension marks that no longer hold");
                }
                self.state.suspensions()
            }
            None => Default::default(),
        };
        let now = Instant::now();
        let mut due = Vec::new();
        {
            let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
            let eligible = |id: &TenantId, t: &crate::state::Tenant| {
                t.suspend_after.is_some()
                    && !t.suspended
                    && !marks.tenants.contains(id)
                    && t.desired == Desired::Running
                    && t.phase == Phase::Ready
                    && t.ha.is_none()
                    && t.node == self.opts.node
            };
            watches.retain(|id, _| tenants.tenants.iter().any(|(i, t)| i.as_str() == id && eligible(i, t)));
            for (id, t) in tenants.tenants.iter().filter(|(i, t)| eligible(i, t)) {
                let after = Duration::from_secs(t.suspend_after.unwrap_or(u64::MAX / 4));
                let watch = watches.entry(id.to_string()).or_insert_with(|| Watch::new(now));
                if watch.next(now, after) == Next::Check {
                    due.push((id.clone(), after));
                }
            }
        }
        futures_util::stream::iter(due)
            .for_each_concurrent(CHECKS_AT_ONCE, |(id, after)| {
                let this = self.clone();
                async move { this.check(&id, after).await }
            })
            .await;
        Ok(())
    }

    /// `tenants.json`, parsed again only when its modification time or length changed.
    fn current_tenants(&self) -> Result<Arc<crate::state::Tenants>, crate::state::StateError> {
        let meta = std::fs::metadata(self.state.tenants_path()).ok();
        let stamp = meta.and_then(|m| Some((m.modified().ok()?, m.len())));
        let mut cache = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some((mtime, len)), Some((cached_mtime, cached_len, tenants))) = (stamp, cache.as_ref())
            && (mtime, len) == (*cached_mtime, *cached_len)
        {
            return Ok(tenants.clone());
        }
        let tenants = Arc::new(self.state.tenants()?);
        *cache = stamp.map(|(mtime, len)| (mtime, len, tenants.clone()));
        Ok(tenants)
    }

    async fn check(&self, id: &TenantId, after: Duration) {
        let lock = self.lock_of(id.as_str());
        let Ok(_held) = lock.try_lock() else { return };
        let activity = match self.platform.activity(id).await {
            Ok(a) => a,
            Err(e) => {
                // A tenant that cannot be asked is not suspended; ask again later.
                tracing::debug!(tenant = %id, error = %e, "idleness check failed");
                self.touch(id.as_str());
                return;
            }
        };
        let verdict = {
            let mut watches = self.watches.lock().unwrap_or_else(|e| e.into_inner());
            let Some(w) = watches.get_mut(id.as_str()) else { return };
            w.observe(Instant::now(), after, activity.sessions, &activity.wal_lsn)
        };
        if verdict != Verdict::Suspend {
            return;
        }
        match self.platform.suspend(id).await {
            Ok(true) => tracing::info!(tenant = %id, idle_secs = after.as_secs(), "suspended idle tenant"),
            Ok(false) => self.touch(id.as_str()),
            Err(e) => {
                tracing::warn!(tenant = %id, error = %e, "cannot suspend tenant");
                self.touch(id.as_str());
            }
        }
    }
}

/// Runs `job` every `period`, each run after the previous one ended, for ever.
async fn every<F, Fut>(period: Duration, job: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        job().await;
    }
}

/// Runs the controller for `state` until the task is dropped: waits for the controller lock,
/// then serves the control socket and watches idleness.
pub async fn run(state: StateDir, platform: impl TenantOps, opts: Options) -> Result<(), ControllerError> {
    let run_dir = state.run_dir();
    std::fs::create_dir_all(&run_dir)
        .map_err(|source| ControllerError::Setup { what: format!("creating {}", run_dir.display()), source })?;
    let lock_path = state.controller_lock();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| ControllerError::Setup { what: format!("opening {}", lock_path.display()), source })?;
    let mut standby_logged = false;
    while lock.try_lock().is_err() {
        if !standby_logged {
            tracing::info!("another controller serves this state dir: standing by");
            standby_logged = true;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let socket: PathBuf = state.control_socket();
    let _ = std::fs::remove_file(&socket);
    let listener = UnixListener::bind(&socket).map_err(|source| ControllerError::Setup {
        what: format!("cannot listen on the control socket {} (path too long?)", socket.display()),
        source,
    })?;
    tracing::info!(socket = %socket.display(), "controller serving wake requests and watching idle tenants");
    let controller = Arc::new(Controller {
        state: state.clone(),
        platform,
        opts,
        locks: Mutex::default(),
        watches: Mutex::default(),
        tenants: Mutex::default(),
    });
    let ticker = every(TICK, || async {
        if let Err(e) = controller.tick().await {
            tracing::warn!(error = %e, "idle check failed");
        }
    });
    // Only the manager's controller pushes to nodes.
    let retries = async {
        match controller.opts.node {
            None => every(STALE_RETRY, || controller.retry_stale_nodes()).await,
            Some(_) => std::future::pending().await,
        }
    };
    let accept = async {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(controller.clone().serve(stream));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    };
    tokio::join!(ticker, retries, accept);
    drop(lock);
    Ok(())
}
