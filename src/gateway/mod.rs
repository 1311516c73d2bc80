//! The gateway: one TLS port for every tenant.
//!
//! [`listener`](run) accepts connections and hands each to [`session::serve`], which reads like
//! the protocol: first packet ([`frame`]) → TLS ([`tls`]) → startup → route ([`route`]) →
//! backend → pump, with cancel keys mapped in [`cancel`] and every refusal an ErrorResponse
//! from [`errors`]. A tenant's pooled endpoint (`TENANT-pooler`) is served by [`pool`] instead
//! of the pump, with SCRAM from [`scram`]. [`reload`] keeps the routing table and certificate
//! current; [`admin`] serves health, readiness and [`metrics`].

pub mod admin;
pub mod backend;
pub mod cancel;
pub mod end;
pub mod errors;
pub mod frame;
pub mod handover;
pub mod metrics;
pub mod peer;
pub mod pool;
pub mod probe;
pub mod pump;
pub mod reload;
pub mod route;
pub mod scram;
pub mod session;
pub mod stats;
pub mod tls;
pub mod wake;
pub mod workers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use arc_swap::{ArcSwap, ArcSwapOption};
use tokio::net::{TcpListener, TcpStream};
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
    /// How long the gateway this one replaces may serve its open sessions (sent with the
    /// handover request).
    pub takeover_drain: Duration,
    /// How long to retry binding the client port while another process holds it.
    pub bind_retry: Duration,
    /// How tenants are dialled.
    pub backend: BackendMode,
    /// Keep open sessions when a tenant's access is revoked.
    pub keep_sessions_on_revoke: bool,
    /// How long a client of a suspended tenant is held while it starts.
    pub wake_timeout: Duration,
    /// Threads serving sessions ([`workers`]); 0: the process's shared runtime serves them.
    pub serve_threads: usize,
}

/// State shared by every connection.
pub struct Gateway {
    /// Settings.
    pub opts: Options,
    /// Current routing table.
    pub routes: ArcSwap<route::Table>,
    /// Current TLS config (`None` until a certificate loads).
    pub tls: ArcSwapOption<rustls::ServerConfig>,
    /// The current certificate's channel binding data (SCRAM-SHA-256-PLUS of pooled clients).
    pub tls_binding: ArcSwapOption<Vec<u8>>,
    /// The installation's peer key, once read (see [`peer`]).
    pub peer_key: ArcSwapOption<Vec<u8>>,
    /// The TLS client config of hops to other gateways (see [`peer::configs`]).
    pub peer_tls: crate::certs::pinned::ClientConfigs,
    /// Cancel keys.
    pub cancels: Arc<cancel::CancelMap>,
    /// Counters.
    pub metrics: Arc<metrics::Metrics>,
    /// Ticks on every route reload, so sessions re-check their admission.
    pub route_changes: tokio::sync::watch::Sender<u64>,
    /// Wakes of suspended tenants in flight.
    pub wakes: wake::Wakes,
    /// The pooled endpoints' server connections.
    pub pools: Arc<pool::Pools>,
    /// The tenants' PostgreSQL statistics for `/metrics`.
    pub stats: stats::Stats,
    /// When the gateway started.
    pub started: Instant,
    /// This gateway's generation in the state dir (see [`handover`]).
    pub generation: u64,
    /// Cancelled when the sessions still open must end (drain deadline passed).
    pub shutdown: tokio_util::sync::CancellationToken,
    /// The state dir.
    state: StateDir,
    /// Identity of the routes file, `ha.json` and `suspended.json` last loaded.
    routes_stamp: std::sync::Mutex<reload::RouteStamps>,
}

impl Gateway {
    /// Reloads `routes.json` if it changed since the last load (always with `force`); returns
    /// whether new routes are in force. Cheap when nothing changed: one `stat`.
    pub fn refresh_routes(&self, force: bool) -> bool {
        reload::refresh_routes(self, &self.state, &self.routes_stamp, force)
    }

    /// The installation's peer key, read from the state dir the first time it is there (it
    /// never changes once made); `None` without a swarm.
    pub fn peer_key(&self) -> Option<Arc<Vec<u8>>> {
        if let Some(key) = self.peer_key.load_full() {
            return Some(key);
        }
        let key = std::fs::read_to_string(self.state.peer_key_path()).ok()?;
        let key = Arc::new(key.trim().as_bytes().to_vec());
        if key.is_empty() {
            return None;
        }
        self.peer_key.store(Some(key.clone()));
        Some(key)
    }

    /// Whether the gateway can serve: routes and certificate loaded.
    pub fn ready(&self) -> bool {
        self.tls.load().is_some() && self.routes.load().generation > 0
    }
}

/// Why the accept loop ended.
enum Exit {
    /// SIGTERM or SIGINT: drain for `--drain-timeout`.
    Signal,
    /// A successor accepts on our listeners: drain for as long as it asked.
    HandedOver(Duration),
}

/// SIGUSR2: starts this program again, from its path on disk (an upgraded binary, say), with the
/// same arguments; the new process takes the listeners over and this one drains (`systemctl
/// reload` with the unit in `templates/`).
fn spawn_successor() {
    let mut args = std::env::args_os();
    let Some(program) = args.next() else { return };
    let spawned = tokio::process::Command::new(&program)
        .args(args)
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .env_remove("LISTEN_FDNAMES")
        .stdin(std::process::Stdio::null())
        .spawn();
    match spawned {
        Ok(mut child) => {
            tracing::info!(pid = child.id(), "SIGUSR2: started a new gateway process to take over");
            // Reap it should it fail before this one exits.
            tokio::spawn(async move {
                if let Ok(status) = child.wait().await
                    && !status.success()
                {
                    tracing::error!(%status, "the new gateway process failed: this one goes on serving");
                }
            });
        }
        Err(e) => {
            tracing::error!(program = %program.to_string_lossy(), error = %e, "SIGUSR2: cannot start a new gateway process")
        }
    }
}

/// Why a gateway could not start (or keep listening); each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A socket or a signal handler could not be made, bound or set up.
    #[error("{what}")]
    Setup {
        /// Which socket, and what to do.
        what: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state dir could not be read (not set up, damaged).
    #[error(transparent)]
    State(#[from] crate::state::StateError),
}

/// A failed setup step `what`, for [`StartError::Setup`].
fn socket_err(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StartError {
    let what = what.into();
    move |source| StartError::Setup { what, source }
}

/// Binds a TCP listener (SO_REUSEADDR, backlog 1024), retrying for up to `retry` while another
/// process holds the address.
async fn bind(addr: SocketAddr, retry: Duration) -> std::io::Result<std::net::TcpListener> {
    let deadline = Instant::now() + retry;
    loop {
        let attempt = (|| {
            let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
            socket.set_reuse_address(true)?;
            socket.bind(&addr.into())?;
            socket.listen(1024)?;
            Ok::<_, std::io::Error>(std::net::TcpListener::from(socket))
        })();
        match attempt {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            other => return other,
        }
    }
}

/// The client and health listeners, and the predecessor to confirm to when they were taken
/// over: from systemd (`LISTEN_FDS`), from a running gateway of this state dir, or bound anew.
async fn listeners(
    opts: &Options,
    state: &StateDir,
    generation: u64,
    ready: bool,
) -> Result<(std::net::TcpListener, std::net::TcpListener, Option<handover::Taken>), StartError> {
    let bind_health = |addr| async move {
        bind(addr, opts.bind_retry).await.map_err(socket_err(format!(
            "cannot listen on {addr} for health checks (choose another with --health-listen)"
        )))
    };
    let mut fds = listenfd::ListenFd::from_env();
    let systemd = match fds.take_tcp_listener(0) {
        Ok(Some(client)) => {
            let health = match fds.take_tcp_listener(1) {
                Ok(Some(h)) => h,
                _ => bind_health(opts.health_listen).await?,
            };
            tracing::info!("listening on the sockets systemd passed (socket activation)");
            Some((client, health))
        }
        _ => None,
    };
    // A running gateway of this state dir on the same address hands its listeners over, and
    // drains once this one accepts. Under systemd both have the socket unit's listeners anyway:
    // only the drain matters.
    // Only a gateway that can serve takes over: one without routes or certificate would turn
    // every client away while its predecessor stopped accepting.
    let listen = systemd.as_ref().and_then(|(c, _)| c.local_addr().ok()).unwrap_or(opts.listen);
    let taken = if ready {
        handover::take_over(&state.handover_dir(), opts.takeover_drain, generation, listen).await
    } else {
        tracing::warn!("routes or certificate not loaded: not taking over from a running gateway");
        None
    };
    if let Some(t) = &taken {
        tracing::info!(from_generation = t.from, "taking over from the running gateway");
    }
    if let Some((client, health)) = systemd {
        return Ok((client, health, taken));
    }
    if let Some(taken) = taken {
        let client = taken.client.try_clone().map_err(socket_err("cannot keep the listener handed over"))?;
        let health = match &taken.health {
            Some(h) => h.try_clone().map_err(socket_err("cannot keep the health listener handed over"))?,
            None => bind_health(opts.health_listen).await?,
        };
        return Ok((client, health, Some(taken)));
    }
    let client = bind(opts.listen, opts.bind_retry).await.map_err(socket_err(format!(
        "cannot listen on {} (is another gateway or PostgreSQL using it? choose another with --listen)",
        opts.listen
    )))?;
    Ok((client, bind_health(opts.health_listen).await?, None))
}

/// Runs the gateway in the foreground until SIGINT/SIGTERM or until a successor takes its
/// listeners over, then drains: open sessions may finish until the deadline, and the rest are
/// ended with SQLSTATE 57P01.
pub async fn run(state: StateDir, opts: Options) -> Result<(), StartError> {
    state.config()?;
    let control = handover::Control::bind(&state.handover_dir()).map_err(socket_err(format!(
        "cannot create the gateway's control socket in {}",
        state.handover_dir().display()
    )))?;
    let generation = control.generation;
    let gw = Arc::new(Gateway {
        opts: opts.clone(),
        routes: ArcSwap::from_pointee(route::Table::default()),
        tls: ArcSwapOption::empty(),
        tls_binding: ArcSwapOption::empty(),
        peer_key: ArcSwapOption::empty(),
        peer_tls: peer::configs(),
        cancels: Arc::new(cancel::CancelMap::new(handover::instance_of(generation))),
        metrics: Arc::default(),
        route_changes: tokio::sync::watch::channel(0).0,
        wakes: wake::Wakes::default(),
        pools: Arc::default(),
        stats: stats::Stats::default(),
        started: Instant::now(),
        generation,
        shutdown: tokio_util::sync::CancellationToken::new(),
        state: state.clone(),
        routes_stamp: std::sync::Mutex::new((None, None, None)),
    });
    // Routes and certificate first: a successor accepts only once it can serve.
    let mut reloader = reload::Reloader::new(&state, gw.clone());
    reloader.reload(true);
    tokio::spawn(reloader.run());
    let (client, health, taken) = listeners(&opts, &state, generation, gw.ready()).await?;
    let setup = "cannot set up the listeners";
    control.hold(&[&client, &health]).map_err(socket_err("cannot offer the listeners on the control socket"))?;
    client.set_nonblocking(true).map_err(socket_err(setup))?;
    health.set_nonblocking(true).map_err(socket_err(setup))?;
    let listener = TcpListener::from_std(client).map_err(socket_err(setup))?;
    let admin = tokio::spawn(admin::serve(TcpListener::from_std(health).map_err(socket_err(setup))?, gw.clone()));
    let control = Arc::new(control);
    let (events_tx, mut events) = tokio::sync::mpsc::channel(4);
    tokio::spawn({
        let (control, gw) = (control.clone(), gw.clone());
        async move { control.serve(gw, events_tx).await }
    });
    tokio::spawn(wake::report_activity(gw.clone()));
    tokio::spawn({
        let gw = gw.clone();
        gw.pools.clone().reap_forever(move |tenant| {
            let idle = gw.routes.load().tenants.get(tenant).map_or(0, |t| t.route.pool.server_idle_timeout_secs);
            Duration::from_secs(idle)
        })
    });
    if let Some(taken) = taken {
        tokio::spawn(async move {
            if let Err(e) = taken.confirm().await {
                tracing::warn!(error = %e, "the previous gateway did not acknowledge the handover");
            }
        });
    }
    tracing::info!(
        listen = %opts.listen, health = %opts.health_listen, generation, version = env!("CARGO_PKG_VERSION"),
        "gateway listening"
    );
    // Under systemd (Type=notify): ready, and this process is the service's main process now
    // (also when it replaced the previous one on `systemctl reload`).
    let _ =
        sd_notify::notify(false, &[sd_notify::NotifyState::MainPid(std::process::id()), sd_notify::NotifyState::Ready]);

    let tracker = TaskTracker::new();
    let workers = match opts.serve_threads {
        0 => None,
        n => Some(workers::Workers::start(n).map_err(socket_err("cannot start the serving threads"))?),
    };
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.max_connections));
    let signals = "cannot install the signal handlers";
    let mut term = signal(SignalKind::terminate()).map_err(socket_err(signals))?;
    let mut int = signal(SignalKind::interrupt()).map_err(socket_err(signals))?;
    let mut usr2 = signal(SignalKind::user_defined2()).map_err(socket_err(signals))?;
    let exit = loop {
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
                        // Counted by the tracker (the drain waits for it) from now on.
                        let token = tracker.token();
                        let serve = move |tcp| async move {
                            gw.metrics.connections_open.fetch_add(1, Relaxed);
                            session::serve(gw.clone(), tcp, peer).await;
                            gw.metrics.connections_open.fetch_sub(1, Relaxed);
                            drop((permit, token));
                        };
                        match &workers {
                            // Registered again with the serving thread's own runtime there.
                            Some(workers) => match tcp.into_std() {
                                Ok(tcp) => workers.spawn(async move {
                                    if let Ok(tcp) = TcpStream::from_std(tcp) {
                                        serve(tcp).await;
                                    }
                                }),
                                Err(e) => tracing::warn!(error = %e, "cannot hand a connection over"),
                            },
                            None => {
                                tokio::spawn(serve(tcp));
                            }
                        }
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
            _ = term.recv() => break Exit::Signal,
            _ = int.recv() => break Exit::Signal,
            _ = usr2.recv() => spawn_successor(),
            Some(handover::Event::HandedOver { drain, to }) = events.recv() => {
                tracing::info!(to_generation = to, "the new gateway accepts now: this one stops accepting");
                break Exit::HandedOver(drain);
            }
        }
    };
    // Stop accepting. After a handover the successor holds the same sockets, so they stay open.
    drop(listener);
    control.withdraw();
    if matches!(exit, Exit::HandedOver(_)) {
        admin.abort();
    }
    tracker.close();
    let drain = match exit {
        Exit::Signal => opts.drain_timeout,
        Exit::HandedOver(d) => d,
    };
    tracing::info!(open = tracker.len(), drain_secs = drain.as_secs(), generation, "draining open sessions");
    tokio::select! {
        () = tracker.wait() => {}
        () = tokio::time::sleep(drain) => tracing::warn!(open = tracker.len(), "drain deadline: ending the remaining sessions (57P01)"),
        _ = term.recv() => tracing::warn!(open = tracker.len(), "SIGTERM while draining: ending the remaining sessions (57P01)"),
    }
    gw.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), tracker.wait()).await;
    tracing::info!(
        generation,
        connections_total = gw.metrics.connections_total.load(Relaxed),
        uptime_secs = gw.started.elapsed().as_secs(),
        "gateway stopped"
    );
    Ok(())
}
