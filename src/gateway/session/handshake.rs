//! Before the session: the first packet (SSLRequest, GSSENCRequest, CancelRequest, a direct
//! TLS hello or a startup message), TLS, and the startup message inside it, each with a
//! deadline and a length bound.

use std::net::SocketAddr;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;

use super::ClientStream;
use crate::gateway::Gateway;
use crate::gateway::errors::Refusal;
use crate::gateway::frame::{self, FirstPacket, Startup};

/// What the pre-startup negotiation produced.
pub(super) enum Negotiated {
    /// A CancelRequest (plaintext or inside TLS), with the stream it came on (closed cleanly
    /// once handled: a TLS client expects close_notify, not a bare end of stream).
    Cancel { pid: u32, secret: Vec<u8>, stream: ClientStream },
    /// A startup message on an established stream; `relayed_for` is the client's address when
    /// another gateway of the installation relays it.
    Startup { stream: ClientStream, startup: Startup, sni: Option<String>, relayed_for: Option<SocketAddr> },
}

/// A refusal, with the stream to send the ErrorResponse on (if one is still usable).
pub(super) struct Failure {
    pub(super) stream: Option<ClientStream>,
    pub(super) refusal: Refusal,
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure { stream: None, refusal }
    }
}

/// Whether the client already sent bytes we have not read (it must wait for our answer).
pub(super) fn has_pending_bytes(tcp: &TcpStream) -> bool {
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 1];
    matches!(socket2::SockRef::from(tcp).peek(&mut buf), Ok(n) if n > 0)
}

pub(super) async fn negotiate(gw: &Gateway, mut tcp: TcpStream) -> Result<Negotiated, Failure> {
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
            if tls.get_ref().1.alpn_protocol() != Some(crate::gateway::tls::ALPN) {
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

pub(super) async fn accept_tls(gw: &Gateway, tcp: TcpStream) -> Result<TlsStream<TcpStream>, Failure> {
    let Some(config) = gw.tls.load_full() else {
        return Err(Refusal::Protocol("TLS is not available: the gateway has no certificate".into()).into());
    };
    tokio_rustls::TlsAcceptor::from(config).accept(tcp).await.map_err(|e| {
        gw.metrics.handshake_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Refusal::Protocol(format!("TLS handshake failed: {e}")).into()
    })
}

pub(super) async fn startup_in_tls(gw: &Gateway, mut tls: TlsStream<TcpStream>) -> Result<Negotiated, Failure> {
    let sni = tls.get_ref().1.server_name().map(str::to_owned);
    let mut packet = match frame::read_packet(&mut tls).await {
        Ok(body) => frame::parse_first(&body),
        Err(r) => Err(r),
    };
    // Another gateway of the installation relays a client: it proves it with the peer key and
    // names the client; the client's own startup follows.
    let mut relayed_for = None;
    if let Ok(FirstPacket::PeerHello { key, client }) = &packet {
        match crate::gateway::peer::check_hello(gw.peer_key().as_deref().map(Vec::as_slice), key, client) {
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
