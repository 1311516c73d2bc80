//! Pinning the installation's certificate: every node of an installation serves the same
//! certificate, so a node dialing another one (the gateway's hop, the HA replication relay)
//! accepts exactly the certificate whose `tls-server-end-point` hash ([`end_point_hash`]) is
//! the one it knows, with no CA and no name check ([`Pinned`], [`client_config`]).

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// The `tls-server-end-point` channel binding data of a certificate (RFC 5929): its hash with
/// the hash function of its signature algorithm, SHA-256 for MD5, SHA-1 and SHA-256.
pub fn end_point_hash(cert: &CertificateDer<'_>) -> Vec<u8> {
    use x509_parser::oid_registry as oids;
    let algorithm =
        x509_parser::parse_x509_certificate(cert.as_ref()).ok().map(|(_, c)| c.signature_algorithm.algorithm.clone());
    let digest = match algorithm {
        Some(a) if a == oids::OID_PKCS1_SHA384WITHRSA || a == oids::OID_SIG_ECDSA_WITH_SHA384 => &ring::digest::SHA384,
        Some(a) if a == oids::OID_PKCS1_SHA512WITHRSA || a == oids::OID_SIG_ECDSA_WITH_SHA512 => &ring::digest::SHA512,
        _ => &ring::digest::SHA256,
    };
    ring::digest::digest(digest, cert.as_ref()).as_ref().to_vec()
}

/// A server certificate verifier that accepts the one certificate whose
/// `tls-server-end-point` hash is `pinned` (signatures are still checked with `provider`).
#[derive(Debug)]
pub struct Pinned {
    pinned: Arc<Vec<u8>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl Pinned {
    /// A verifier accepting the certificate whose end-point hash is `pinned`, checking
    /// handshake signatures with `provider`.
    pub fn new(pinned: Arc<Vec<u8>>, provider: Arc<rustls::crypto::CryptoProvider>) -> Self {
        Self { pinned, provider }
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_point_hash(end_entity) == *self.pinned {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A client config (TLS 1.3, ring, no client certificate) that accepts only the server
/// certificate whose end-point hash is `pinned`. No ALPN: callers set their own.
pub fn client_config(pinned: Arc<Vec<u8>>) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("the ring provider supports TLS 1.3")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned::new(pinned, provider)))
        .with_no_client_auth()
}

/// The client config of one kind of connection to other nodes, kept while the pinned hash
/// stays the same: a config holds the TLS session cache, so connections made with the same one
/// resume their sessions (an abbreviated handshake, with no certificate or signature) where a
/// fresh config per connection makes every handshake a full one.
pub struct ClientConfigs {
    alpn: Vec<Vec<u8>>,
    /// The hash the kept config is pinned to, and the config.
    current: Mutex<Option<Kept>>,
}

/// A pinned hash and the config pinned to it.
type Kept = (Arc<Vec<u8>>, Arc<rustls::ClientConfig>);

impl ClientConfigs {
    /// Configs for connections that offer `alpn`.
    pub fn new(alpn: Vec<Vec<u8>>) -> Self {
        Self { alpn, current: Mutex::new(None) }
    }

    /// The config pinned to `pinned`: the kept one, or a new one (with an empty session
    /// cache) when the hash changed.
    pub fn get(&self, pinned: Arc<Vec<u8>>) -> Arc<rustls::ClientConfig> {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((kept, config)) = current.as_ref()
            && **kept == *pinned
        {
            return config.clone();
        }
        let mut config = client_config(pinned.clone());
        config.alpn_protocols.clone_from(&self.alpn);
        let config = Arc::new(config);
        *current = Some((pinned, config.clone()));
        config
    }
}

/// A self-signed certificate for `name`, its TLS 1.3 server config and its end-point hash (for
/// tests of pinned connections).
#[cfg(test)]
pub fn self_signed_server(name: &str) -> (rustls::ServerConfig, Vec<u8>) {
    let made = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    let cert = made.cert.der().clone();
    let hash = end_point_hash(&cert);
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    (config, hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::HandshakeKind;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn connections_with_the_kept_config_resume_their_tls_session() {
        let (server, hash) = self_signed_server("peer.test");
        let (server, hash) = (Arc::new(server), Arc::new(hash));
        let configs = ClientConfigs::new(vec![b"x".to_vec()]);
        assert!(Arc::ptr_eq(&configs.get(hash.clone()), &configs.get(Arc::new(hash.to_vec()))));
        let mut kinds = Vec::new();
        for _ in 0..2 {
            let (client_side, server_side) = tokio::io::duplex(64 * 1024);
            let acceptor = tokio_rustls::TlsAcceptor::from(server.clone());
            let serving = tokio::spawn(async move {
                let mut tls = acceptor.accept(server_side).await.unwrap();
                tls.write_all(b"hi").await.unwrap();
                tls.flush().await.unwrap();
                let _ = tls.read(&mut [0u8; 1]).await;
            });
            let name = ServerName::try_from("peer.test").unwrap();
            let mut tls =
                tokio_rustls::TlsConnector::from(configs.get(hash.clone())).connect(name, client_side).await.unwrap();
            // The session tickets come before the first data.
            tls.read_exact(&mut [0u8; 2]).await.unwrap();
            kinds.push(tls.get_ref().1.handshake_kind());
            drop(tls);
            serving.await.unwrap();
        }
        assert_eq!(kinds, [Some(HandshakeKind::Full), Some(HandshakeKind::Resumed)]);
        // Another certificate: another config, nothing to resume.
        assert!(!Arc::ptr_eq(&configs.get(hash), &configs.get(Arc::new(vec![0; 32]))));
    }
}
