//! A tenant's pooled endpoint: the client is handed to the pool ([`crate::gateway::pool`]).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::either::Either;

use super::{ClientStream, Outcome, Suspension, refuse};
use crate::gateway::Gateway;
use crate::gateway::backend;
use crate::gateway::errors::Refusal;
use crate::gateway::frame::Startup;

/// Serves a client of a tenant's pooled endpoint (see [`super::pool`]).
#[allow(clippy::too_many_arguments)]
pub(super) async fn pooled(
    gw: &Arc<Gateway>,
    mut client: ClientStream,
    startup: Startup,
    tenant: String,
    backend: &crate::state::Backend,
    route_state: Suspension,
    settings: crate::state::PoolSettings,
    peer: SocketAddr,
    out: &mut Outcome,
) {
    let mut addr = backend::address(gw.opts.backend, backend, gw.state.root()).await;
    if addr.is_none() && route_state.wakeable && Box::pin(crate::gateway::wake::wake(gw, &tenant)).await.is_ok() {
        addr = backend::address(gw.opts.backend, backend, gw.state.root()).await;
    }
    let Some(addr) = addr else {
        gw.metrics.backend_dial_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        out.result = "refused";
        return refuse(gw, Some(client), &Refusal::Unreachable(tenant)).await;
    };
    out.hop = Some(addr.kind());
    let cert_hash = match &client {
        Either::Right(_) => gw.tls_binding.load_full(),
        Either::Left(_) => None,
    };
    let endpoint =
        crate::gateway::pool::client::Endpoint { tenant: tenant.clone(), backend: addr, settings, cert_hash, peer };
    let ended = Box::pin(crate::gateway::pool::client::serve(gw, &mut client, startup, &endpoint)).await;
    out.result = ended.result;
    out.reason = ended.reason;
    out.reserved = ended.reserved;
    (out.bytes_in, out.bytes_out) = ended.bytes;
    gw.metrics.add_bytes(&tenant, out.bytes_in, out.bytes_out);
}
