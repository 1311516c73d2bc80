//! Pinning the installation's certificate: every node of an installation serves the same
//! certificate, so a node dialing another one (the gateway's hop, the HA replication relay)
//! accepts exactly the certificate whose `tls-server-end-point` hash ([`end_point_hash`]) is
//! the one it knows, with no CA and no name check ([`Pinned`], [`client_config`]).

use std::sync::Arc;

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
