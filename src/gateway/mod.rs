//! The gateway: one TLS port for every tenant.
//!
//! [`listener`](run) accepts connections and hands each to [`session::serve`], which reads like
//! the protocol: first packet ([`frame`]) → TLS ([`tls`]) → startup → route ([`route`]) →
//! backend → pump, with cancel keys mapped in [`cancel`] and every refusal an ErrorResponse
//! from [`errors`]. [`reload`] keeps the routing table and certificate current; [`admin`]
//! serves health, readiness and [`metrics`].

pub mod admin;
pub mod backend;
pub mod cancel;
pub mod errors;
pub mod frame;
pub mod metrics;
pub mod probe;
pub mod reload;
pub mod route;
pub mod session;
pub mod tls;
pub mod wake;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio_util::task::TaskTracker;

use crate::state::StateDir;

/// Which of a tenant's addresses the gateway dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendMode {
    /// The tenant's Unix socket, then its address on its network, then the loopback port.
    Auto,
    /// The tenant's Unix socket only (in the state dir; tenants created by pgs 0.1 have none).
    Socket,
    /// The container's address on its network (the host routes to it directly).
    Address,
    /// The port published on 127.0.0.1 (through Docker's port forwarding; slower).
    Loopback,
    /// The Unix socket, then the container's name, then its address (for a gateway attached to the
    /// tenants' networks).
    Container,
}

/// Settings of a running gateway.
#[derive(Debug, Clone)]
pub struct Options {
    /// Address clients connect to.
    pub listen: SocketAddr,
    /// Address of the health/metrics endpoint.
    pub health_listen: SocketAddr,
    /// Accept plaintext startup messages (private networks only).
    pub allow_plaintext: bool,
    /// Deadline for a connection to finish its startup.
    pub handshake_timeout: Duration,
    /// Connections open at once, over all tenants.
    pub max_connections: usize,
    /// Sessions open at once per tenant.
    pub max_per_tenant: u64,
    /// How long open sessions may finish after SIGTERM.
    pub drain_timeout: Duration,
    /// How tenants are dialled.
    pub backend: BackendMode,
    /// Keep open sessions when a tenant's access is revoked.
    pub keep_sessions_on_revoke: bool,
    /// How long a client of a suspended tenant is held while it starts.
    pub wake_timeout: Duration,
    /// Run the controller in this process (a gateway with Docker access: `pgs gateway run` on
    /// the host); the managed gateway has its own controller container.
    pub controller: bool,
}

/// State shared by every connection.
pub struct Gateway {
    /// Settings.
    pub opts: Options,
    /// Current routing table.
    pub routes: ArcSwap<route::Table>,
    /// Current TLS config (`None` until a certificate loads).
    pub tls: ArcSwapOption<rustls::ServerConfig>,
    /// Cancel keys.
    pub cancels: Arc<cancel::CancelMap>,
    /// Counters.
    pub metrics: Arc<metrics::Metrics>,
    /// Ticks on every route reload, so sessions re-check their admission.
    pub route_changes: tokio::sync::watch::Sender<u64>,
    /// Wakes of suspended tenants in flight.
    pub wakes: wake::Wakes,
    /// When the gateway started.
    pub started: Instant,
    /// The state dir.
    state: StateDir,
    /// Identity of the routes file last loaded.
    routes_stamp: std::sync::Mutex<reload::Stamp>,
}

impl Gateway {
    /// Reloads `routes.json` if it changed since the last load (always with `force`); returns
    /// whether new routes are in force. Cheap when nothing changed: one `stat`.
    pub fn refresh_routes(&self, force: bool) -> bool {
        reload::refresh_routes(self, &self.state, &self.routes_stamp, force)
    }

    /// Whether the gateway can serve: routes and certificate loaded.
    pub fn ready(&self) -> bool {
        self.tls.load().is_some() && self.routes.load().generation > 0
    }
}

/// Starts the controller in this process when Docker answers; without Docker, suspended
/// tenants cannot be woken, and the log says so.
async fn spawn_controller(state: &StateDir, wake_timeout: Duration) {
    match crate::docker::Docker::connect().await {
        Ok(docker) => {
            let opts = crate::controller::Options { wake_timeout };
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(e) = crate::controller::run(state, docker, opts).await {
                    tracing::error!(error = %e, "the controller stopped: suspended tenants will not wake");
                }
            });
        }
        Err(e) => tracing::warn!(
            error = %e,
            "no controller in this gateway (scale to zero needs Docker): suspended tenants wake only if another controller runs"
        ),
    }
}

/// Runs the gateway in the foreground until SIGINT/SIGTERM, then drains.
pub async fn run(state: StateDir, opts: Options) -> Result<()> {
    state.config()?;
    let listener = TcpListener::bind(opts.listen).await.with_context(|| {
        format!("cannot listen on {} (is another gateway or PostgreSQL using it? choose another with --listen)", opts.listen)
    })?;
    let health = TcpListener::bind(opts.health_listen)
        .await
        .with_context(|| format!("cannot listen on {} for health checks (choose another with --health-listen)", opts.health_listen))?;
    let gw = Arc::new(Gateway {
        opts: opts.clone(),
        routes: ArcSwap::from_pointee(route::Table::default()),
        tls: ArcSwapOption::empty(),
        cancels: Arc::default(),
        metrics: Arc::default(),
        route_changes: tokio::sync::watch::channel(0).0,
        wakes: wake::Wakes::default(),
        started: Instant::now(),
        state: state.clone(),
        routes_stamp: std::sync::Mutex::new(None),
    });
    let mut reloader = reload::Reloader::new(&state, gw.clone());
    reloader.reload(true);
    tokio::spawn(reloader.run());
    tokio::spawn(admin::serve(health, gw.clone()));
    tokio::spawn(wake::report_activity(gw.clone()));
    if opts.controller {
        spawn_controller(&state, opts.wake_timeout).await;
    }
    tracing::info!(listen = %opts.listen, health = %opts.health_listen, version = env!("CARGO_PKG_VERSION"), "gateway listening");

    let tracker = TaskTracker::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.max_connections));
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(x) => x,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                gw.metrics.connections_total.fetch_add(1, Relaxed);
                let gw = gw.clone();
                match limit.clone().try_acquire_owned() {
                    Ok(permit) => {
                        tracker.spawn(async move {
                            gw.metrics.connections_open.fetch_add(1, Relaxed);
                            session::serve(gw.clone(), tcp, peer).await;
                            gw.metrics.connections_open.fetch_sub(1, Relaxed);
                            drop(permit);
                        });
                    }
                    Err(_) => {
                        tokio::spawn(async move {
                            use tokio::io::AsyncWriteExt;
                            let mut tcp = tcp;
                            let refusal = errors::Refusal::TooMany(None);
                            gw.metrics.refused(refusal.reason());
                            let _ = tokio::time::timeout(Duration::from_secs(1), tcp.write_all(&refusal.to_error_response())).await;
                        });
                    }
                }
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    drop(listener);
    tracker.close();
    tracing::info!(open = tracker.len(), drain_secs = opts.drain_timeout.as_secs(), "shutting down: draining open sessions");
    if tokio::time::timeout(opts.drain_timeout, tracker.wait()).await.is_err() {
        tracing::warn!(open = tracker.len(), "drain timeout: closing remaining sessions");
    }
    Ok(())
}
