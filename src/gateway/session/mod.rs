//! One client connection, top to bottom, along its path (as in Neon's proxy):
//! [`handshake`] (first packet → TLS → startup), [`admission`] (route and admit), waking a
//! suspended tenant, then either [`passthrough`] (connect the backend, forward the startup,
//! rewrite the cancel key, pump bytes both ways) or [`pooled`] (the hand-off to the pooled
//! endpoint), until either side closes or [`super::end`] says the session must end; then one
//! log line.

mod admission;
mod handshake;
mod passthrough;
mod pooled;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;

use super::Gateway;
use super::cancel::{self, Lookup};
use super::errors::Refusal;
use super::frame::Startup;
use super::route::RouteKey;
use admission::route;
use handshake::{Negotiated, negotiate};
use passthrough::direct;
use pooled::pooled;

/// The client's side: plain TCP (only with `--allow-plaintext`) or TLS (boxed: the TLS state is
/// big, and the stream moves through every phase of a session).
type ClientStream = Either<TcpStream, Box<TlsStream<TcpStream>>>;

/// What one connection did, for its log line.
#[derive(Default)]
struct Outcome {
    tenant: Option<String>,
    key: Option<RouteKey>,
    /// How the backend was reached: `unix` or `tcp`.
    hop: Option<&'static str>,
    /// Through the pooled endpoint.
    pooled: bool,
    /// Through the read-only endpoint.
    read_only: bool,
    result: &'static str,
    reason: Option<String>,
    bytes_in: u64,
    bytes_out: u64,
    /// The gateway that relayed the client (see [`super::peer`]).
    via: Option<SocketAddr>,
    /// Why a pooled client's server connection was its own (`auto` mode).
    reserved: Option<&'static str>,
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
        reserved = out.reserved.unwrap_or("-"),
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

#[cfg(test)]
mod proptests {
    //! Whatever a peer sends before its session starts (a first packet, a startup message, a TLS
    //! ClientHello), the gateway answers with single negotiation bytes, TLS records, or one
    //! well-formed ErrorResponse, then closes: it never panics and never waits past its deadline.

    use super::*;
    use proptest::prelude::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
            serve_threads: 0,
        };
        let gw = Gateway {
            opts,
            routes: arc_swap::ArcSwap::from_pointee(super::super::route::Table::default()),
            tls: arc_swap::ArcSwapOption::from(Some(tls)),
            tls_binding: arc_swap::ArcSwapOption::empty(),
            peer_key: arc_swap::ArcSwapOption::empty(),
            peer_tls: crate::gateway::peer::configs(),
            cancels: Arc::default(),
            metrics: Arc::default(),
            route_changes: tokio::sync::watch::channel(0).0,
            wakes: Default::default(),
            pools: Arc::default(),
            stats: Default::default(),
            started: Instant::now(),
            generation: 1,
            shutdown: tokio_util::sync::CancellationToken::new(),
            state: crate::state::StateDir::new(dir.path()),
            routes_stamp: std::sync::Mutex::new((None, None, None)),
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
        let startup = || crate::gateway::frame::Startup { version: 0, params: vec![] };
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
        let to = crate::gateway::backend::BackendAddr::Tcp(addr);
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
