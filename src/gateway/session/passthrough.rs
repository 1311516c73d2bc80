//! A tenant's direct endpoint: connect its PostgreSQL (or the gateway of its node), relay the
//! startup with the cancel key rewritten, then pump bytes both ways.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::either::Either;

use super::{ClientStream, EndReason, Outcome, Suspension, refuse};
use crate::gateway::Gateway;
use crate::gateway::backend;
use crate::gateway::cancel::{ClientKey, Target};
use crate::gateway::errors::Refusal;
use crate::gateway::frame::{self, Startup};
use crate::gateway::pump;

/// Connects a client of a tenant's direct endpoint to its PostgreSQL and pumps bytes both ways.
#[allow(clippy::too_many_arguments)]
pub(super) async fn direct(
    gw: &Arc<Gateway>,
    mut client: ClientStream,
    startup: Startup,
    tenant: String,
    backend: crate::state::Backend,
    route_state: Suspension,
    peer: SocketAddr,
    out: &mut Outcome,
) {
    let dialled = match &backend.peer {
        // A tenant on another node: that node's gateway, for the endpoint the client asked for.
        Some(peer) => dial_peer(gw, peer, &tenant, out.pooled, out.read_only).await.map(|(s, a)| (Either::Right(s), a)),
        None => {
            let mut dialled = backend::dial(gw.opts.backend, &backend, gw.state.root()).await;
            if dialled.is_err() && route_state.wakeable && !route_state.suspended {
                // Suspended by a controller whose route change this gateway has not seen yet.
                if crate::gateway::wake::wake(gw, &tenant).await.is_ok() {
                    dialled = backend::dial(gw.opts.backend, &backend, gw.state.root()).await;
                }
            }
            dialled.map(|(s, a)| (Either::Left(s), a))
        }
    };
    let (mut server, addr) = match dialled {
        Ok(s) => s,
        Err(e) => {
            gw.metrics.backend_dial_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(tenant = %tenant, error = %e, "cannot reach the tenant's PostgreSQL");
            out.result = "refused";
            return refuse(gw, Some(client), &Refusal::Unreachable(tenant)).await;
        }
    };
    out.hop = Some(addr.kind());
    // To another node's gateway: who the client is first (its allowlist checks the client).
    let hello = match (&backend.peer, gw.peer_key()) {
        (Some(_), Some(key)) => frame::peer_hello(&key, &peer.to_string()),
        _ => Vec::new(),
    };
    if server.write_all(&[hello, startup.encode()].concat()).await.is_err() {
        out.result = "refused";
        return refuse(gw, Some(client), &Refusal::Unreachable(tenant)).await;
    }

    // What ends the session early, at a message boundary: revoked access, or the drain
    // deadline of a gateway being replaced. The watcher runs beside the pump in this task; the
    // pump's backend side turns its verdict into the goodbye.
    let ending = EndReason::default();
    let watcher = async {
        let refusal = crate::gateway::end::until_ended(gw, &tenant, peer).await;
        let _ = ending.refusal.set(refusal);
        ending.token.cancel();
        std::future::pending::<()>().await
    };
    let stop: pump::Stop = Box::pin({
        let (token, refusal) = (ending.token.clone(), ending.refusal.clone());
        async move {
            token.cancelled().await;
            refusal.get().map(Refusal::to_error_response).unwrap_or_default()
        }
    });
    let mut boundary = pump::Boundary::default();
    let pump = async {
        let target = |pid, secret| Target { backend: addr.clone(), pid, secret, tenant: tenant.clone() };
        let (key, up, down) = match relay_startup(&mut client, &mut server, gw, target, &mut boundary).await {
            Ok(x) => x,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => {
                // The backend hung up before saying anything: tell the client.
                let r = Refusal::Unreachable(tenant.clone());
                gw.metrics.refused(r.reason());
                let _ = client.write_all(&r.to_error_response()).await;
                let _ = client.shutdown().await;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        // From here on bytes flow unparsed, both ways, in this one task; EOF on one side is
        // passed on as a half-close to the other. The backend's side ends at a message
        // boundary with the gateway's goodbye when `stop` fires.
        let mut server = pump::Ending::new(server, boundary, stop);
        let (more_up, more_down) = tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        drop(key);
        Ok::<_, std::io::Error>((up + more_up, down + more_down))
    };
    // A client that does not take the goodbye, or does not hang up after it, is cut off a
    // little later.
    let give_up = async {
        ending.token.cancelled().await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    tokio::select! {
        result = pump => match result {
            Ok((bytes_in, bytes_out)) => {
                out.bytes_in = bytes_in;
                out.bytes_out = bytes_out;
                out.result = "closed";
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionAborted => {
                out.result = "refused";
                out.reason = Some(Refusal::Unreachable(tenant.clone()).to_string());
            }
            Err(_) => out.result = "closed",
        },
        () = give_up => {}
        () = watcher => {}
    }
    if let Some(r) = ending.refusal.get() {
        out.result = if *r == Refusal::Restarting { "restarting" } else { "revoked" };
        out.reason = Some(r.to_string());
    }
    gw.metrics.add_bytes(&tenant, out.bytes_in, out.bytes_out);
}

/// Connects to the gateway of the node `tenant` lives on, at `peer`, for its pooled endpoint
/// or its direct one (see [`super::peer`]).
pub(super) async fn dial_peer(
    gw: &Gateway,
    peer: &str,
    tenant: &str,
    pooled: bool,
    read_only: bool,
) -> std::io::Result<(crate::gateway::peer::PeerStream, backend::BackendAddr)> {
    let pinned = gw.tls_binding.load_full().ok_or_else(|| std::io::Error::other("no certificate loaded"))?;
    let suffix = match (pooled, read_only) {
        (true, _) => crate::gateway::route::POOLER_SUFFIX,
        (_, true) => crate::gateway::route::READ_ONLY_SUFFIX,
        _ => "",
    };
    let name = format!("{tenant}{suffix}.{}", gw.routes.load().domain);
    crate::gateway::peer::dial(peer, &name, gw.peer_tls.get(pinned)).await
}

/// Longest message the gateway buffers from the backend during startup (ParameterStatus,
/// authentication requests, errors: all small).
pub(super) const MAX_STARTUP_REPLY: usize = 64 * 1024;

/// The startup phase: the client's bytes (authentication responses) pass through as they come;
/// the backend's replies are read message by message until ReadyForQuery or an error, with the
/// secret in BackendKeyData replaced by one of the gateway's own (the pid stays the backend's).
/// Returns that key and the bytes forwarded each way.
pub(super) async fn relay_startup<C, S>(
    client: &mut C,
    server: &mut S,
    gw: &Arc<Gateway>,
    target: impl Fn(u32, Vec<u8>) -> Target,
    boundary: &mut pump::Boundary,
) -> std::io::Result<(Option<ClientKey>, u64, u64)>
where
    C: AsyncRead + AsyncWrite + Unpin,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut key = None;
    let (mut up, mut down) = (0u64, 0u64);
    let mut from_client = bytes::BytesMut::with_capacity(1024);
    let mut from_server = bytes::BytesMut::with_capacity(4096);
    loop {
        tokio::select! {
            n = client.read_buf(&mut from_client) => {
                if n? == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                server.write_all(&from_client).await?;
                up += from_client.len() as u64;
                from_client.clear();
            }
            n = server.read_buf(&mut from_server) => {
                if n? == 0 {
                    let kind = if down == 0 { std::io::ErrorKind::ConnectionAborted } else { std::io::ErrorKind::UnexpectedEof };
                    return Err(kind.into());
                }
                // Forward every complete message; keep a partial one for the next read.
                let mut out = Vec::with_capacity(from_server.len());
                let mut done = false;
                while from_server.len() >= 5 && !done {
                    let len = u32::from_be_bytes([from_server[1], from_server[2], from_server[3], from_server[4]]) as usize;
                    if !(4..=MAX_STARTUP_REPLY).contains(&len) {
                        return Err(std::io::Error::other("bad message length from backend"));
                    }
                    if from_server.len() < len + 1 {
                        break;
                    }
                    let msg = from_server.split_to(len + 1);
                    match msg[0] {
                        b'K' if (12..=8 + frame::MAX_CANCEL_SECRET).contains(&len) => {
                            let pid = u32::from_be_bytes([msg[5], msg[6], msg[7], msg[8]]);
                            let k = gw.cancels.register(target(pid, msg[9..].to_vec()));
                            out.extend(k.backend_key_data());
                            key = Some(k);
                        }
                        t => {
                            out.extend_from_slice(&msg);
                            done = t == b'Z' || t == b'E';
                        }
                    }
                }
                from_server.reserve(4096);
                if done {
                    // Whatever followed ReadyForQuery is already session traffic.
                    boundary.feed(&from_server);
                    out.extend_from_slice(&from_server);
                }
                client.write_all(&out).await?;
                client.flush().await?;
                down += out.len() as u64;
                if done {
                    return Ok((key, up, down));
                }
            }
        }
    }
}
