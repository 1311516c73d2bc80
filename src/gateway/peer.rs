//! The hop to another node's gateway, for a tenant that lives on that node (see
//! `docs/scale-out.md`). The gateway connects to the owning gateway's public port like a client
//! that speaks direct TLS, with the server name of the endpoint the client asked for, and
//! relays the client's startup and everything after it: the owning gateway routes, checks
//! access and pools as for any client.
//!
//! Every gateway of an installation serves the same certificate, so the owning gateway is
//! recognised by that: the hop accepts only a certificate whose `tls-server-end-point` hash is
//! the one this gateway serves (no CA, no name check needed). A cancel for such a session goes
//! to the owning gateway's public port as any cancel would.
//!
//! Before the client's startup the relaying gateway sends a peer hello (inside that TLS
//! session, so only the owning gateway reads it): the installation's peer key and the client's
//! address. The owning gateway then admits, logs and re-checks the session by the client's
//! address, so allowlists hold across the hop, and never relays it on.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::backend::BackendAddr;
use super::errors::Refusal;
use crate::certs::pinned::ClientConfigs;
use std::net::SocketAddr;

/// How long connecting to a peer and the TLS handshake may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(3);

/// A connection to another node's gateway.
pub type PeerStream = Box<TlsStream<TcpStream>>;

/// Checks a peer hello: `key` must be the installation's peer key (`expected`: none without a
/// swarm) and `client` an address. Returns the client's address.
pub fn check_hello(expected: Option<&[u8]>, key: &[u8], client: &str) -> Result<SocketAddr, Refusal> {
    if !expected.is_some_and(|e| super::cancel::constant_time_eq(e, key)) {
        return Err(Refusal::Protocol("peer hello from a gateway of another installation".into()));
    }
    client.parse().map_err(|_| Refusal::Protocol("peer hello without a client address".into()))
}

/// The client configs of hops to other gateways: direct TLS (no SSLRequest round trip), which
/// the gateway accepts with its ALPN. One kept config per certificate, so that hops resume
/// their TLS sessions.
pub fn configs() -> ClientConfigs {
    ClientConfigs::new(vec![super::tls::ALPN.to_vec()])
}

/// Connects to the gateway at `addr` (`IP:PORT`) for `server_name` (the endpoint's host name),
/// with `config` (from [`configs`], pinned to the certificate this gateway serves). Returns
/// the stream and the address a cancel for the session goes to.
pub async fn dial(
    addr: &str,
    server_name: &str,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<(PeerStream, BackendAddr)> {
    let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_string());
    let socket: std::net::SocketAddr = addr.parse().map_err(|_| invalid("not a peer address"))?;
    let name = ServerName::try_from(server_name.to_string()).map_err(|_| invalid("not a server name"))?;
    let connect = async {
        let tcp = TcpStream::connect(socket).await?;
        tcp.set_nodelay(true)?;
        tokio_rustls::TlsConnector::from(config).connect(name, tcp).await
    };
    let tls = tokio::time::timeout(DIAL_TIMEOUT, connect)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "the peer gateway did not answer"))??;
    Ok((Box::new(tls), BackendAddr::Tcp(socket)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_hello_needs_the_installations_key() {
        let client = "10.0.0.9:40000";
        assert_eq!(check_hello(Some(b"secret"), b"secret", client), Ok(client.parse().unwrap()));
        assert!(check_hello(Some(b"secret"), b"secreT", client).is_err());
        assert!(check_hello(Some(b"secret"), b"", client).is_err());
        // A gateway without a key (no swarm) takes no hello at all.
        assert!(check_hello(None, b"", client).is_err());
        assert!(check_hello(Some(b"secret"), b"secret", "nowhere").is_err());
    }
}
