//! One client connection, top to bottom: first packet → TLS → startup → route → connect the
//! backend → forward the startup → watch the startup replies for BackendKeyData → pump bytes
//! both ways until either side closes (or the tenant's access is revoked).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;

use super::Gateway;
use super::backend;
use super::cancel::{self, ClientKey, Lookup, Target};
use super::errors::Refusal;
use super::frame::{self, FirstPacket, Startup};
use super::pump;
use super::route::{Chosen, RouteKey};

/// The client's side: plain TCP (only with `--allow-plaintext`) or TLS (boxed: the TLS state is
/// big, and the stream moves through every phase of a session).
type ClientStream = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// What the pre-startup negotiation produced.
enum Negotiated {
    /// A CancelRequest (plaintext or inside TLS), with the stream it came on (closed cleanly
    /// once handled: a TLS client expects close_notify, not a bare end of stream).
    Cancel { pid: u32, secret: Vec<u8>, stream: ClientStream },
    /// A startup message on an established stream; `relayed_for` is the client's address when
    /// another gateway of the installation relays it.
    Startup { stream: ClientStream, startup: Startup, sni: Option<String>, relayed_for: Option<SocketAddr> },
}

/// A refusal, with the stream to send the ErrorResponse on (if one is still usable).
struct Failure {
    stream: Option<ClientStream>,
    refusal: Refusal,
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure { stream: None, refusal }
    }
}

/// What one connection did, for its log line.
#[derive(Default)]
struct Outcome {
    tenant: Option<String>,
    key: Option<RouteKey>,
    /// How the backend was reached: `unix` or `tcp`.
    hop: Option<&'static str>,
    /// Through the pooled endpoint.
    pooled: bool,
    result: &'static str,
    reason: Option<String>,
    bytes_in: u64,
    bytes_out: u64,
    /// The gateway that relayed the client (see [`super::peer`]).
    via: Option<SocketAddr>,
}

/// Serves one accepted connection to the end, then logs one line about it.
pub async fn serve(gw: Arc<Gateway>, tcp: TcpStream, mut peer: SocketAddr) {
    let started = Instant::now();
    let _ = tcp.set_nodelay(true);
    let mut out = Outcome::default();
    // The phases are boxed: a session's task is as big as its largest state, and a long-lived
    // session should not carry the handshake's (or the other endpoint's) all its life.
    let negotiated = tokio::time::timeout(gw.opts.handshake_timeout, Box::pin(negotiate(&gw, tcp))).await;
    match negotiated {
        Err(_) => {
            gw.metrics.refused("handshake_timeout");
            out.result = "timeout";
        }
        Ok(Err(f)) => {
            refuse(&gw, f.stream, &f.refusal).await;
            out.result = "refused";
            out.reason = Some(f.refusal.to_string());
        }
        Ok(Ok(Negotiated::Cancel { pid, secret, mut stream })) => {
            gw.metrics.cancel_requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            out.result = match gw.cancels.lookup(pid, &secret) {
                Lookup::Found(target) => {
                    out.tenant = Some(target.tenant.clone());
                    // Boxed, as the other rare paths: a session's task is as big as its largest state.
                    if Box::pin(cancel::forward(&target)).await.is_ok() { "cancel_forwarded" } else { "cancel_failed" }
                }
                Lookup::OtherInstance(instance) => {
                    let dir = gw.state.handover_dir();
                    if Box::pin(super::handover::forward_cancel(&dir, instance, pid, &secret)).await {
                        "cancel_passed_to_other_generation"
                    } else {
                        "cancel_other_instance"
                    }
                }
                Lookup::Idle(tenant) => {
                    out.tenant = Some(tenant);
                    "cancel_pooled_client_idle"
                }
                Lookup::Unknown => "cancel_unknown_key",
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), stream.shutdown()).await;
        }
        Ok(Ok(Negotiated::Startup { stream, startup, sni, relayed_for })) => {
            // A relayed client is admitted (allowlists) and logged by its own address.
            out.via = relayed_for.map(|client| std::mem::replace(&mut peer, client));
            Box::pin(session(&gw, stream, startup, sni.as_deref(), peer, &mut out)).await;
        }
    }
    let ms = started.elapsed().as_millis() as u64;
    tracing::info!(
        client = %peer,
        via = %out.via.map_or_else(|| "-".to_string(), |v| v.to_string()),
        tenant = out.tenant.as_deref().unwrap_or("-"),
        key = out.key.map_or("-", RouteKey::as_str),
        pooled = out.pooled,
        backend = out.hop.unwrap_or("-"),
        outcome = out.result,
        reason = out.reason.as_deref().unwrap_or(""),
        duration_ms = ms,
        bytes_in = out.bytes_in,
        bytes_out = out.bytes_out,
        "connection"
    );
}

/// Sends the refusal's ErrorResponse (if there is a stream to send it on) and closes. Boxed: the
/// sessions that never refuse do not carry its state.
fn refuse<'a>(
    gw: &'a Gateway,
    stream: Option<ClientStream>,
    refusal: &'a Refusal,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        gw.metrics.refused(refusal.reason());
        if let Some(mut s) = stream {
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                s.write_all(&refusal.to_error_response()).await?;
                s.shutdown().await
            })
            .await;
        }
    })
}

/// Whether the client already sent bytes we have not read (it must wait for our answer).
fn has_pending_bytes(tcp: &TcpStream) -> bool {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    matches!(socket2::SockRef::from(tcp).peek(&mut buf), Ok(n) if n > 0)
}

async fn negotiate(gw: &Gateway, mut tcp: TcpStream) -> Result<Negotiated, Failure> {
    let mut gss_answered = false;
    loop {
        let mut first = [0u8; 1];
        match tcp.peek(&mut first).await {
            Ok(0) | Err(_) => return Err(Refusal::Protocol("connection closed before startup".into()).into()),
            Ok(_) => {}
        }
        if first[0] == 0x16 {
            // Direct TLS (PostgreSQL 17+ `sslnegotiation=direct`): ALPN `postgresql` required.
            let tls = accept_tls(gw, tcp).await?;
            if tls.get_ref().1.alpn_protocol() != Some(super::tls::ALPN) {
                return Err(Failure {
                    stream: Some(Either::Right(Box::new(tls))),
                    refusal: Refusal::Protocol("direct TLS connection without ALPN \"postgresql\"".into()),
                });
            }
            return startup_in_tls(gw, tls).await;
        }
        let packet = match frame::read_packet(&mut tcp).await.and_then(|body| frame::parse_first(&body)) {
            Ok(p) => p,
            Err(r) => return Err(Failure { stream: Some(Either::Left(tcp)), refusal: r }),
        };
        match packet {
            FirstPacket::SslRequest => {
                if has_pending_bytes(&tcp) {
                    let r = Refusal::Protocol("received unencrypted data after SSL request".into());
                    return Err(Failure { stream: Some(Either::Left(tcp)), refusal: r });
                }
                if gw.tls.load().is_none() {
                    // No certificate: say so in plaintext rather than fail the handshake.
                    let _ = tcp.write_all(b"N").await;
                    continue;
                }
                tcp.write_all(b"S").await.map_err(|_| Refusal::Protocol("connection closed".into()))?;
                let tls = accept_tls(gw, tcp).await?;
                return startup_in_tls(gw, tls).await;
            }
            FirstPacket::GssEncRequest if !gss_answered => {
                gss_answered = true;
                gw.metrics.gssenc_requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tcp.write_all(b"N").await.map_err(|_| Refusal::Protocol("connection closed".into()))?;
            }
            FirstPacket::GssEncRequest => {
                let r = Refusal::Protocol("repeated GSSENC request".into());
                return Err(Failure { stream: Some(Either::Left(tcp)), refusal: r });
            }
            FirstPacket::Cancel { pid, secret } => {
                return Ok(Negotiated::Cancel { pid, secret, stream: Either::Left(tcp) });
            }
            FirstPacket::PeerHello { .. } => {
                let r = Refusal::Protocol("peer hello outside TLS".into());
                return Err(Failure { stream: Some(Either::Left(tcp)), refusal: r });
            }
            FirstPacket::Startup(startup) => {
                if !gw.opts.allow_plaintext {
                    return Err(Failure { stream: Some(Either::Left(tcp)), refusal: Refusal::TlsRequired });
                }
                return Ok(Negotiated::Startup { stream: Either::Left(tcp), startup, sni: None, relayed_for: None });
            }
        }
    }
}

async fn accept_tls(gw: &Gateway, tcp: TcpStream) -> Result<TlsStream<TcpStream>, Failure> {
    let Some(config) = gw.tls.load_full() else {
        return Err(Refusal::Protocol("TLS is not available: the gateway has no certificate".into()).into());
    };
    tokio_rustls::TlsAcceptor::from(config).accept(tcp).await.map_err(|e| {
        gw.metrics.handshake_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Refusal::Protocol(format!("TLS handshake failed: {e}")).into()
    })
}

async fn startup_in_tls(gw: &Gateway, mut tls: TlsStream<TcpStream>) -> Result<Negotiated, Failure> {
    let sni = tls.get_ref().1.server_name().map(str::to_owned);
    let mut packet = match frame::read_packet(&mut tls).await {
        Ok(body) => frame::parse_first(&body),
        Err(r) => Err(r),
    };
    // Another gateway of the installation relays a client: it proves it with the peer key and
    // names the client; the client's own startup follows.
    let mut relayed_for = None;
    if let Ok(FirstPacket::PeerHello { key, client }) = &packet {
        match super::peer::check_hello(gw.peer_key().as_deref().map(Vec::as_slice), key, client) {
            Ok(client) => relayed_for = Some(client),
            Err(r) => return Err(Failure { stream: Some(Either::Right(Box::new(tls))), refusal: r }),
        }
        packet = match frame::read_packet(&mut tls).await {
            Ok(body) => frame::parse_first(&body),
            Err(r) => Err(r),
        };
    }
    match packet {
        Ok(FirstPacket::Startup(startup)) => {
            Ok(Negotiated::Startup { stream: Either::Right(Box::new(tls)), startup, sni, relayed_for })
        }
        Ok(FirstPacket::Cancel { .. }) if relayed_for.is_some() => Err(Failure {
            stream: Some(Either::Right(Box::new(tls))),
            refusal: Refusal::Protocol("cancel request after a peer hello".into()),
        }),
        Ok(FirstPacket::Cancel { pid, secret }) => {
            Ok(Negotiated::Cancel { pid, secret, stream: Either::Right(Box::new(tls)) })
        }
        Ok(FirstPacket::PeerHello { .. }) => Err(Failure {
            stream: Some(Either::Right(Box::new(tls))),
            refusal: Refusal::Protocol("repeated peer hello".into()),
        }),
        Ok(_) => Err(Failure {
            stream: Some(Either::Right(Box::new(tls))),
            refusal: Refusal::Protocol("encryption request inside TLS".into()),
        }),
        Err(r) => Err(Failure { stream: Some(Either::Right(Box::new(tls))), refusal: r }),
    }
}

/// Routes, admits, connects and pumps one session.
async fn session(
    gw: &Arc<Gateway>,
    client: ClientStream,
    mut startup: Startup,
    sni: Option<&str>,
    peer: SocketAddr,
    out: &mut Outcome,
) {
    // One `stat`: routes changed by the CLI since the last poll apply to this connection.
    gw.refresh_routes(false);
    let admitted = route(gw, sni, &mut startup, peer, out);
    let (tenant, backend, route_state, pool) = match admitted {
        Ok(x) => x,
        Err(r) => {
            if matches!(r, Refusal::NoTenant | Refusal::UnknownTenant(_)) {
                gw.metrics.route_misses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            out.result = "refused";
            out.reason = Some(r.to_string());
            return refuse(gw, Some(client), &r).await;
        }
    };
    let Some(_slot) = gw.metrics.open_session(&tenant, gw.opts.max_per_tenant) else {
        out.result = "refused";
        return refuse(gw, Some(client), &Refusal::TooMany(Some(tenant))).await;
    };
    // A suspended tenant: hold the client while the controller starts it.
    if route_state.suspended
        && let Err(r) = Box::pin(super::wake::wake(gw, &tenant)).await
    {
        out.result = "refused";
        out.reason = Some(r.to_string());
        return refuse(gw, Some(client), &r).await;
    }
    // A client relayed to this gateway is never relayed on: the two gateways' routes disagree
    // about where the tenant lives (one has not seen a move yet), and the next try will do.
    if backend.peer.is_some() && out.via.is_some() {
        out.result = "refused";
        out.reason = Some("relayed to a node the tenant does not live on".into());
        return refuse(gw, Some(client), &Refusal::Unreachable(tenant)).await;
    }
    // A tenant on another node: its gateway pools, this one relays (in `direct`).
    if out.pooled && backend.peer.is_none() {
        // Boxed, like the direct path below: an idle pooled client does not carry the pump's state.
        return Box::pin(pooled(gw, client, startup, tenant, &backend, route_state, pool, peer, out)).await;
    }
    Box::pin(direct(gw, client, startup, tenant, backend, route_state, peer, out)).await;
}

/// Connects a client of a tenant's direct endpoint to its PostgreSQL and pumps bytes both ways.
#[allow(clippy::too_many_arguments)]
async fn direct(
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
        Some(peer) => dial_peer(gw, peer, &tenant, out.pooled).await.map(|(s, a)| (Either::Right(s), a)),
        None => {
            let mut dialled = backend::dial(gw.opts.backend, &backend, gw.state.root()).await;
            if dialled.is_err() && route_state.wakeable && !route_state.suspended {
                // Suspended by a controller whose route change this gateway has not seen yet.
                if super::wake::wake(gw, &tenant).await.is_ok() {
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
        let refusal = until_ended(gw, &tenant, peer).await;
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
async fn dial_peer(
    gw: &Gateway,
    peer: &str,
    tenant: &str,
    pooled: bool,
) -> std::io::Result<(super::peer::PeerStream, backend::BackendAddr)> {
    let pinned = gw.tls_binding.load_full().ok_or_else(|| std::io::Error::other("no certificate loaded"))?;
    let suffix = if pooled { super::route::POOLER_SUFFIX } else { "" };
    let name = format!("{tenant}{suffix}.{}", gw.routes.load().domain);
    super::peer::dial(peer, &name, pinned).await
}

/// Serves a client of a tenant's pooled endpoint (see [`super::pool`]).
#[allow(clippy::too_many_arguments)]
async fn pooled(
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
    if addr.is_none() && route_state.wakeable && Box::pin(super::wake::wake(gw, &tenant)).await.is_ok() {
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
    let endpoint = super::pool::client::Endpoint { tenant: tenant.clone(), backend: addr, settings, cert_hash, peer };
    let ended = Box::pin(super::pool::client::serve(gw, &mut client, startup, &endpoint)).await;
    out.result = ended.result;
    out.reason = ended.reason;
    (out.bytes_in, out.bytes_out) = ended.bytes;
    gw.metrics.add_bytes(&tenant, out.bytes_in, out.bytes_out);
}

/// Resolves when a session of `tenant` from `peer` must end, with why: its access was revoked
/// (unless the gateway keeps sessions on revoke), or the gateway is being replaced.
pub(super) async fn until_ended(gw: &Gateway, tenant: &str, peer: SocketAddr) -> Refusal {
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

/// Why the gateway ended a session, once it did.
#[derive(Default)]
struct EndReason {
    refusal: Arc<std::sync::OnceLock<Refusal>>,
    token: tokio_util::sync::CancellationToken,
}

/// Whether a routed tenant is suspended, or may be.
#[derive(Debug, Clone, Copy)]
struct Suspension {
    suspended: bool,
    wakeable: bool,
}

/// Chooses and admits the tenant with the current routing table.
fn route(
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

/// Longest message the gateway buffers from the backend during startup (ParameterStatus,
/// authentication requests, errors: all small).
const MAX_STARTUP_REPLY: usize = 64 * 1024;

/// The startup phase: the client's bytes (authentication responses) pass through as they come;
/// the backend's replies are read message by message until ReadyForQuery or an error, with the
/// secret in BackendKeyData replaced by one of the gateway's own (the pid stays the backend's).
/// Returns that key and the bytes forwarded each way.
async fn relay_startup<C, S>(
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

#[cfg(test)]
mod proptests {
    //! Whatever a peer sends before its session starts (a first packet, a startup message, a TLS
    //! ClientHello), the gateway answers with single negotiation bytes, TLS records, or one
    //! well-formed ErrorResponse, then closes: it never panics and never waits past its deadline.

    use super::*;
    use proptest::prelude::*;

    pub(super) fn gateway() -> (Arc<Gateway>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let files = crate::certs::CertFiles::new(dir.path());
        crate::certs::local_ca::issue(&files, "pgs.test").unwrap();
        let (tls, _) = super::super::tls::load(&files.cert(), &files.key()).unwrap();
        let opts = super::super::Options {
            listen: "127.0.0.1:0".parse().unwrap(),
            health_listen: "127.0.0.1:0".parse().unwrap(),
            allow_plaintext: false,
            handshake_timeout: Duration::from_millis(500),
            max_connections: 10,
            max_per_tenant: 10,
            drain_timeout: Duration::from_secs(1),
            takeover_drain: Duration::from_secs(1),
            bind_retry: Duration::ZERO,
            backend: super::super::BackendMode::Auto,
            keep_sessions_on_revoke: false,
            wake_timeout: Duration::from_secs(1),
        };
        let gw = Gateway {
            opts,
            routes: arc_swap::ArcSwap::from_pointee(super::super::route::Table::default()),
            tls: arc_swap::ArcSwapOption::from(Some(tls)),
            tls_binding: arc_swap::ArcSwapOption::empty(),
            peer_key: arc_swap::ArcSwapOption::empty(),
            cancels: Arc::default(),
            metrics: Arc::default(),
            route_changes: tokio::sync::watch::channel(0).0,
            wakes: Default::default(),
            pools: Arc::default(),
            started: Instant::now(),
            generation: 1,
            shutdown: tokio_util::sync::CancellationToken::new(),
            state: crate::state::StateDir::new(dir.path()),
            routes_stamp: std::sync::Mutex::new(None),
        };
        (Arc::new(gw), dir)
    }

    /// Checks `reply` is: `N`/`S` bytes, then either TLS records or one ErrorResponse that ends it.
    fn well_formed(reply: &[u8]) -> Result<(), String> {
        let mut rest = reply;
        while let Some((&first, tail)) = rest.split_first() {
            match first {
                b'N' | b'S' => rest = tail,
                0x14..=0x17 => return Ok(()), // TLS records (an alert, a handshake): rustls's business
                b'E' => {
                    let len = tail.get(..4).map(|b| u32::from_be_bytes(b.try_into().unwrap()) as usize);
                    let Some(len) = len.filter(|&l| l + 1 == rest.len()) else {
                        return Err(format!("ErrorResponse length does not match the bytes sent: {rest:?}"));
                    };
                    let body = &tail[4..len];
                    if body.last() != Some(&0) || !body.windows(7).any(|w| w[0] == b'C' && w[6] == 0) {
                        return Err(format!("ErrorResponse without a SQLSTATE or terminator: {body:?}"));
                    }
                    return Ok(());
                }
                other => return Err(format!("unexpected byte {other:#x} in {reply:?}")),
            }
        }
        Ok(())
    }

    fn first_bytes() -> impl Strategy<Value = Vec<u8>> {
        let any_bytes = proptest::collection::vec(any::<u8>(), 0..600);
        prop_oneof![
            // Anything at all.
            any_bytes.clone(),
            // A plausible length word and code, then anything.
            (
                0u32..20_000,
                prop_oneof![Just(80_877_103u32), Just(80_877_104), Just(80_877_102), Just(196_608)],
                any_bytes.clone()
            )
                .prop_map(|(len, code, rest)| [len.to_be_bytes(), code.to_be_bytes()]
                    .concat()
                    .into_iter()
                    .chain(rest)
                    .collect()),
            // An SSLRequest, then a damaged ClientHello.
            any_bytes.clone().prop_map(|rest| [&[0, 0, 0, 8, 4, 210, 22, 47][..], &[0x16, 3, 1], &rest].concat()),
            // Direct TLS: a damaged ClientHello straight away.
            any_bytes.prop_map(|rest| [&[0x16, 3, 1][..], &rest].concat()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn any_first_bytes_get_a_well_formed_answer_and_a_close(input in first_bytes()) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let (gw, _dir) = gateway();
            let reply = rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = tokio::spawn(async move {
                    let (tcp, peer) = listener.accept().await.unwrap();
                    serve(gw, tcp, peer).await;
                });
                let mut client = TcpStream::connect(addr).await.unwrap();
                let _ = client.write_all(&input).await;
                let _ = client.shutdown().await;
                let mut reply = Vec::new();
                let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut reply)).await;
                let served = tokio::time::timeout(Duration::from_secs(5), server).await;
                (read.is_ok(), served.map(|r| r.is_ok()), reply)
            });
            let (closed, served, reply) = reply;
            prop_assert!(closed, "the gateway kept the connection open past its deadline");
            prop_assert_eq!(served, Ok(true), "the connection task panicked or hung");
            prop_assert!(well_formed(&reply).is_ok(), "{:?}", well_formed(&reply));
        }
    }
}

/// Each client's task is as big as the largest state of its session's future, for its whole
/// life: the phases that are big and short (handshake, refusals, cancels, logins, the other
/// endpoint's path) are boxed so that a thousand idle sessions stay small.
#[cfg(test)]
mod task_size {
    use std::mem::size_of_val;

    #[tokio::test]
    async fn an_idle_sessions_futures_stay_small() {
        let (gw, _dir) = super::proptests::gateway();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accept = || async {
            let _client = tokio::net::TcpStream::connect(addr).await.unwrap();
            listener.accept().await.unwrap()
        };
        let (tcp, peer) = accept().await;
        let serve = super::serve(gw.clone(), tcp, peer);
        let (tcp, _) = accept().await;
        let mut out = super::Outcome::default();
        let startup = || super::frame::Startup { version: 0, params: vec![] };
        let session = super::session(&gw, tokio_util::either::Either::Left(tcp), startup(), None, peer, &mut out);
        let (tcp, _) = accept().await;
        let backend = crate::state::Backend {
            loopback: String::new(),
            address: String::new(),
            network: String::new(),
            container: String::new(),
            socket: None,
            peer: None,
        };
        let mut out2 = super::Outcome::default();
        let state = super::Suspension { suspended: false, wakeable: false };
        let pooled = super::pooled(
            &gw,
            tokio_util::either::Either::Left(tcp),
            startup(),
            "t".into(),
            &backend,
            state,
            Default::default(),
            peer,
            &mut out2,
        );
        let (mut tcp, _) = accept().await;
        let to = super::backend::BackendAddr::Tcp(addr);
        let endpoint = crate::gateway::pool::client::Endpoint {
            tenant: "t".into(),
            backend: to,
            settings: Default::default(),
            cert_hash: None,
            peer,
        };
        let client = crate::gateway::pool::client::serve(&gw, &mut tcp, startup(), &endpoint);
        let sizes = [size_of_val(&serve), size_of_val(&session), size_of_val(&pooled), size_of_val(&client)];
        // Measured at 656, 768, 696 and 2,736 bytes (debug build); a pooled idle client's target is 16 kB in all.
        assert!(sizes[..3].iter().all(|&s| s <= 1536) && sizes[3] <= 4096, "{sizes:?}");
    }
}
