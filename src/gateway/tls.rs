//! TLS for the gateway: a rustls server config built from the certificate files in the state
//! dir (TLS 1.2+, ALPN `postgresql`), swapped whole when the files change.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// ALPN protocol id PostgreSQL uses (required for direct TLS).
pub const ALPN: &[u8] = b"postgresql";

/// Loads the certificate chain and key and builds a server config; returns it with the
/// certificate's `tls-server-end-point` channel binding data (see [`end_point_hash`]).
pub fn load(cert: &Path, key: &Path) -> Result<(Arc<ServerConfig>, Vec<u8>), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut read(cert)?.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{} holds no certificate", cert.display()));
    }
    let binding = end_point_hash(&certs[0]);
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut read(key)?.as_slice())
        .map_err(|e| format!("{}: {e}", key.display()))?
        .ok_or_else(|| format!("{} holds no private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not match or are unusable: {e}"))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok((Arc::new(config), binding))
}

/// The `tls-server-end-point` channel binding data of a certificate (moved to
/// [`crate::certs::pinned`]; kept here for the gateway's callers).
pub use crate::certs::pinned::end_point_hash;
