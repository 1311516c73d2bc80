//! Keeps the routing table and the TLS config current: polls the state dir's files (every
//! 250 ms, so changes apply well within a second) and reloads at once on SIGHUP. A reload is a
//! single pointer swap; a file that does not parse leaves the last good version in force.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::signal::unix::{SignalKind, signal};

use super::{Gateway, route, tls};
use crate::certs::CertFiles;
use crate::state::StateDir;

/// Identity of a file version: modification time, length, inode.
type Stamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &PathBuf) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len(), m.ino()))
}

/// Watches the state dir for the gateway.
pub struct Reloader {
    state: StateDir,
    certs: CertFiles,
    gw: Arc<Gateway>,
    routes_stamp: Stamp,
    cert_stamp: (Stamp, Stamp),
}

impl Reloader {
    /// A reloader for `gw` reading `state`.
    pub fn new(state: StateDir, gw: Arc<Gateway>) -> Self {
        let certs = CertFiles::new(state.root());
        Self { state, certs, gw, routes_stamp: None, cert_stamp: (None, None) }
    }

    /// Reloads what changed (everything with `force`).
    pub fn reload(&mut self, force: bool) {
        let rs = stamp(&self.state.routes_path());
        if force || rs != self.routes_stamp {
            self.routes_stamp = rs;
            match self.state.routes() {
                Ok(Some(routes)) => match route::Table::build(&routes) {
                    Ok(table) => {
                        let n = table.tenants.len();
                        let generation = table.generation;
                        self.gw.routes.store(Arc::new(table));
                        self.gw.route_changes.send_modify(|g| *g += 1);
                        tracing::info!(tenants = n, generation, "routes loaded");
                    }
                    Err(e) => tracing::warn!(error = %e, "routes.json rejected; keeping the previous routes"),
                },
                Ok(None) => tracing::warn!(path = %self.state.routes_path().display(), "no routes yet"),
                Err(e) => tracing::warn!(error = %e, "cannot read routes; keeping the previous routes"),
            }
        }
        let cs = (stamp(&self.certs.cert()), stamp(&self.certs.key()));
        if force || cs != self.cert_stamp {
            self.cert_stamp = cs;
            match tls::load(&self.certs.cert(), &self.certs.key()) {
                Ok(config) => {
                    self.gw.tls.store(Some(config));
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
