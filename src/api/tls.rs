//! TLS for the API on any address but loopback: the platform certificate (the wildcard
//! `*.DOMAIN` covers `console.DOMAIN`), read again when its file changes, so a renewal needs no
//! restart. Handshakes run in tasks of their own, each with a deadline, so that a client that
//! stalls in its handshake holds up no one else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::state::CertFiles;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; more wait to be accepted.
const MAX_HANDSHAKES: usize = 256;

/// A listener whose connections arrive with their TLS handshake done (axum's [`Listener`]).
///
/// [`Listener`]: axum::serve::Listener
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

/// The acceptor of the certificate now installed, rebuilt when the certificate file changes.
struct Certificate {
    files: CertFiles,
    current: arc_swap::ArcSwap<(Option<SystemTime>, TlsAcceptor)>,
}

impl Certificate {
    fn load(files: CertFiles) -> Result<Self, String> {
        let modified = modified(&files);
        let acceptor = acceptor(&files)?;
        Ok(Self { files, current: arc_swap::ArcSwap::from_pointee((modified, acceptor)) })
    }

    /// The acceptor to use now: the certificate's file is looked at once per connection.
    fn acceptor(&self) -> TlsAcceptor {
        let current = self.current.load();
        let now = modified(&self.files);
        if now != current.0 {
            match acceptor(&self.files) {
                Ok(fresh) => {
                    tracing::info!("API: the platform certificate changed; new connections get the new one");
                    self.current.store(Arc::new((now, fresh.clone())));
                    return fresh;
                }
                Err(e) => tracing::warn!("API: the changed certificate cannot be used ({e}); keeping the previous one"),
            }
        }
        current.1.clone()
    }
}

fn modified(files: &CertFiles) -> Option<SystemTime> {
    std::fs::metadata(files.cert()).and_then(|m| m.modified()).ok()
}

fn acceptor(files: &CertFiles) -> Result<TlsAcceptor, String> {
    let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
    let (mut config, _) = crate::certs::store::server_config(&files.cert(), &files.key(), &versions)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

impl TlsListener {
    /// Listens on `tcp`, serving the certificate in `files`.
    pub fn new(tcp: TcpListener, files: CertFiles) -> anyhow::Result<Self> {
        let local = tcp.local_addr()?;
        let certificate = Arc::new(Certificate::load(files).map_err(|e| {
            anyhow::anyhow!("the API serves TLS off loopback with the platform certificate, which cannot be used: {e}: `pgs certs status` says more")
        })?);
        let (tx, ready) = mpsc::channel(64);
        let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
        tokio::spawn(async move {
            loop {
                let Ok(permit) = slots.clone().acquire_owned().await else { return };
                let (stream, peer) = match tcp.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!("API: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let acceptor = certificate.acceptor();
                let ready = tx.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, "API: TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "API: TLS handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(Self { ready, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(c) => c,
            // The acceptor task ended (it does not): wait for the shutdown.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
