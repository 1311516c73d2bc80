//! TLS for the gateway: a rustls server config built from the certificate files in the state
//! dir (TLS 1.2+, ALPN `postgresql`), swapped whole when the files change.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;

/// ALPN protocol id PostgreSQL uses (required for direct TLS).
pub const ALPN: &[u8] = b"postgresql";

/// Loads the certificate chain and key and builds a server config; returns it with the
/// certificate's `tls-server-end-point` channel binding data (see [`end_point_hash`]).
pub fn load(cert: &Path, key: &Path) -> Result<(Arc<ServerConfig>, Vec<u8>), String> {
    let versions = [&rustls::version::TLS13, &rustls::version::TLS12];
    let (mut config, binding) = crate::certs::store::server_config(cert, key, &versions)?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok((Arc::new(config), binding))
}

/// The `tls-server-end-point` channel binding data of a certificate (moved to
/// [`crate::certs::pinned`]; kept here for the gateway's callers).
pub use crate::certs::pinned::end_point_hash;
