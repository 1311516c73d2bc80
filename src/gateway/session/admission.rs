//! Which tenant a client wants, and whether it may have it.

use std::net::SocketAddr;

use super::{Outcome, Suspension};
use crate::gateway::Gateway;
use crate::gateway::errors::Refusal;
use crate::gateway::frame::Startup;
use crate::gateway::route::Chosen;

/// Chooses and admits the tenant with the current routing table.
pub(super) fn route(
    gw: &Gateway,
    sni: Option<&str>,
    startup: &mut Startup,
    peer: SocketAddr,
    out: &mut Outcome,
) -> Result<(String, crate::state::Backend, Suspension, crate::state::PoolSettings), Refusal> {
    let table = gw.routes.load();
    let Chosen { tenant, key, pooled, read_only } = table.choose(sni, startup)?;
    out.tenant = Some(tenant.clone());
    out.key = Some(key);
    out.pooled = pooled;
    out.read_only = read_only;
    if read_only && pooled {
        return Err(Refusal::Protocol("the read-only endpoint is not pooled: connect to TENANT-ro".into()));
    }
    table.admit(&tenant, peer.ip()).map(|r| {
        let s = Suspension { suspended: r.route.suspended, wakeable: r.route.wakeable };
        // The read-only endpoint: the streaming standby if there is one, else the primary;
        // read-only sessions either way (a relayed one is made so by the next gateway).
        let backend = match (read_only, &r.standby) {
            (true, Some(standby)) => standby.clone(),
            _ => r.route.backend.clone(),
        };
        if read_only {
            startup.set("default_transaction_read_only", "on".to_string());
        }
        (tenant, backend, s, r.route.pool)
    })
}
