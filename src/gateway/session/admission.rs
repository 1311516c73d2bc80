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
    let Chosen { tenant, key, pooled } = table.choose(sni, startup)?;
    out.tenant = Some(tenant.clone());
    out.key = Some(key);
    out.pooled = pooled;
    table.admit(&tenant, peer.ip()).map(|r| {
        let s = Suspension { suspended: r.route.suspended, wakeable: r.route.wakeable };
        (tenant, r.route.backend.clone(), s, r.route.pool)
    })
}
