//! Keeps the routing table and the TLS config current: polls the state dir's files (every
//! 250 ms, so changes apply well within a second) and reloads at once on SIGHUP. A reload is a
//! single pointer swap; a file that does not parse leaves the last good version in force.

use std::sync::Arc;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use super::{Gateway, route, tls};

/// The identities of the files the routing table is made of: `routes.json`, `ha.json` and
/// `suspended.json`.
pub type RouteStamps = (Stamp, Stamp, Stamp);

/// Reads `routes.json`, `ha.json` and `suspended.json` if their stamps differ from `last` (or
/// `force`), swapping the table in (HA tenants routed to the primary `ha.json` names, clients
/// of the tenants a node's controller suspended held for a wake). Returns whether a new table
/// was installed.
pub fn refresh_routes(gw: &Gateway, state: &StateDir, last: &std::sync::Mutex<RouteStamps>, force: bool) -> bool {
    let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
    let current = (stamp(&state.routes_path()), stamp(&state.ha_view_path()), stamp(&state.suspensions_path()));
    if !force && current == *last {
        return false;
    }
    let routes_unchanged = current.0 == last.0 && !force;
    *last = current;
    match state.routes() {
        Ok(Some(routes)) => match route::Table::build(&routes) {
            Ok(mut table) => {
                table.follow_primaries(&state.ha_view());
                table.hold_suspended(&state.suspensions());
                if routes_unchanged {
                    // The agent rewrites `ha.json` every second; only a change of roles (or of
                    // suspensions) swaps the table and makes sessions re-check their admission.
                    if gw.routes.load().same_overlays(&table) {
                        return false;
                    }
                    gw.routes.store(Arc::new(table));
                    gw.route_changes.send_modify(|g| *g += 1);
                    return true;
                }
                let n = table.tenants.len();
                let generation = table.generation;
                gw.routes.store(Arc::new(table));
                gw.route_changes.send_modify(|g| *g += 1);
                tracing::info!(tenants = n, generation, "routes loaded");
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "routes.json rejected; keeping the previous routes");
                false
            }
        },
        Ok(None) => {
            tracing::warn!(path = %state.routes_path().display(), "no routes yet");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot read routes; keeping the previous routes");
            false
        }
    }
}
use crate::certs::CertFiles;
use crate::state::StateDir;

/// Identity of a file version ([`crate::state::file_stamp`]).
pub type Stamp = crate::state::FileStamp;

/// The current identity of the file at `path`.
pub fn stamp(path: &std::path::Path) -> Stamp {
    crate::state::file_stamp(path)
}

/// Watches the state dir for the gateway.
pub struct Reloader {
    certs: CertFiles,
    gw: Arc<Gateway>,
    cert_stamp: (Stamp, Stamp),
}

impl Reloader {
    /// A reloader for `gw` reading `state`.
    pub fn new(state: &StateDir, gw: Arc<Gateway>) -> Self {
        let certs = state.cert_files();
        Self { certs, gw, cert_stamp: (None, None) }
    }

    /// Reloads what changed (everything with `force`).
    pub fn reload(&mut self, force: bool) {
        self.gw.refresh_routes(force);
        let cs = (stamp(&self.certs.cert()), stamp(&self.certs.key()));
        if force || cs != self.cert_stamp {
            self.cert_stamp = cs;
            match tls::load(&self.certs.cert(), &self.certs.key()) {
                Ok((config, binding)) => {
                    self.gw.tls.store(Some(config));
                    self.gw.tls_binding.store(Some(Arc::new(binding)));
                    tracing::info!(cert = %self.certs.cert().display(), "certificate loaded");
                }
                Err(e) => tracing::warn!(error = %e, "certificate not loaded; keeping the previous one"),
            }
        }
    }

    /// Polls and listens for SIGHUP forever.
    pub async fn run(mut self) {
        let mut hup = signal(SignalKind::hangup()).ok();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            let forced = tokio::select! {
                _ = tick.tick() => false,
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => true,
            };
            if forced {
                tracing::info!("SIGHUP: reloading routes and certificate");
            }
            self.reload(forced);
        }
    }
}
