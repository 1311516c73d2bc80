//! When a session must end: its tenant's access was revoked (unless the gateway keeps
//! sessions on revoke), or the gateway is being replaced. Direct and pooled sessions both
//! watch it.

use std::net::SocketAddr;

use super::Gateway;
use super::errors::Refusal;

/// Resolves when a session of `tenant` from `peer` must end, with why: its access was revoked
/// (unless the gateway keeps sessions on revoke), or the gateway is being replaced.
pub async fn until_ended(gw: &Gateway, tenant: &str, peer: SocketAddr) -> Refusal {
    let mut revoked = gw.route_changes.subscribe();
    let watch_access = async {
        loop {
            if revoked.changed().await.is_err() {
                return std::future::pending::<Refusal>().await;
            }
            if gw.opts.keep_sessions_on_revoke {
                continue;
            }
            if let Err(r) = gw.routes.load().admit(tenant, peer.ip()) {
                return r;
            }
        }
    };
    tokio::select! {
        () = gw.shutdown.cancelled() => Refusal::Restarting,
        r = watch_access => r,
    }
}
