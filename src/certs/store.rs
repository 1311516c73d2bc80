//! The installed certificate: importing files the operator brings, and reading what is
//! installed (names, issuer, validity, when renewal is due).

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use super::{CertError, CertFiles, Result};
use crate::state::atomic;

/// What `pgs certs status` reports.
#[derive(Debug, Serialize)]
pub struct CertStatus {
    /// The configured domain.
    pub domain: String,
    /// Subject alternative names of the leaf certificate.
    pub names: Vec<String>,
    /// Issuer of the leaf certificate.
    pub issuer: String,
    /// Serial number (hex).
    pub serial: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// When renewal is due: a third of the lifetime before `not_after` (RFC 3339).
    pub renew_after: String,
    /// Whether the names cover `*.DOMAIN` and `DOMAIN`.
    pub covers_domain: bool,
    /// Certificate chain the gateway presents.
    pub cert_file: String,
    /// Its private key.
    pub key_file: String,
    /// Root a client should trust, where pgs made it (local CA); otherwise null.
    pub ca_file: Option<String>,
}

fn rfc3339(t: x509_parser::time::ASN1Time) -> String {
    t.to_datetime().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Checks that `cert_pem` holds a chain and `key_pem` its matching private key.
pub fn validate_pair(cert_pem: &[u8], key_pem: &[u8]) -> Result<()> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<_, _>>()
        .map_err(|source| CertError::InvalidPem { what: "certificate", source })?;
    if certs.is_empty() {
        return Err(CertError::InvalidNoCertificate);
    }
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|source| CertError::InvalidPem { what: "key", source })?
        .ok_or(CertError::InvalidNoKey)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing = provider.key_provider.load_private_key(key).map_err(CertError::InvalidKey)?;
    let certified = rustls::sign::CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|_| CertError::InvalidKeyMismatch)?;
    Ok(())
}

/// Installs a certificate chain and key the operator brings (validated first; key written
/// before the chain, so a reloading gateway never pairs a new chain with an old key).
pub fn import(files: &CertFiles, cert: &Path, key: &Path) -> Result<()> {
    let cert_pem = std::fs::read(cert).map_err(|source| CertError::Read { path: cert.to_path_buf(), source })?;
    let key_pem = std::fs::read(key).map_err(|source| CertError::Read { path: key.to_path_buf(), source })?;
    validate_pair(&cert_pem, &key_pem)?;
    files.create_dir().map_err(CertError::io(files.dir()))?;
    atomic::write(&files.key(), &key_pem, 0o600).map_err(CertError::io(files.key()))?;
    atomic::write(&files.cert(), &cert_pem, 0o644).map_err(CertError::io(files.cert()))?;
    Ok(())
}

/// Reads the installed certificate.
pub fn status(files: &CertFiles, domain: &str, local_ca: bool) -> Result<CertStatus> {
    let pem =
        std::fs::read(files.cert()).map_err(|source| CertError::NotSetCertificate { path: files.cert(), source })?;
    let der = rustls_pemfile::certs(&mut &pem[..])
        .next()
        .ok_or_else(|| CertError::InvalidInstalled { path: files.cert() })?
        .map_err(CertError::io(files.cert()))?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(CertError::InvalidCertificate)?;
    let names: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let validity = cert.validity();
    let (from, to) = (validity.not_before.timestamp(), validity.not_after.timestamp());
    let renew = to - (to - from) / 3;
    let renew_after = time::OffsetDateTime::from_unix_timestamp(renew)
        .map(|t| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default())
        .unwrap_or_default();
    let covers_domain = names.iter().any(|n| *n == format!("*.{domain}")) && names.iter().any(|n| n == domain);
    Ok(CertStatus {
        domain: domain.to_string(),
        names,
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string().replace(':', ""),
        not_before: rfc3339(validity.not_before),
        not_after: rfc3339(validity.not_after),
        renew_after,
        covers_domain,
        cert_file: files.cert().display().to_string(),
        key_file: files.key().display().to_string(),
        ca_file: (local_ca && files.ca().exists()).then(|| files.ca().display().to_string()),
    })
}

/// The end of the validity (Unix time) of the first certificate in the PEM file `cert`, if it
/// reads (the gateway's `/metrics` reports it for an expiry alert).
pub fn not_after(cert: &Path) -> Option<i64> {
    let pem = std::fs::read(cert).ok()?;
    let der = rustls_pemfile::certs(&mut &pem[..]).next()?.ok()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(parsed.validity().not_after.timestamp())
}

/// Reads the installed certificate chain and key and builds a rustls server config for
/// `versions` (the gateway adds its ALPN); returns it with the certificate's
/// `tls-server-end-point` hash ([`super::pinned::end_point_hash`]). Errors name the file.
pub fn server_config(
    cert: &Path,
    key: &Path,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> std::result::Result<(rustls::ServerConfig, Vec<u8>), String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let certs: Vec<rustls::pki_types::CertificateDer<'static>> = rustls_pemfile::certs(&mut read(cert)?.as_slice())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    let first = certs.first().ok_or_else(|| format!("{} holds no certificate", cert.display()))?;
    let hash = super::pinned::end_point_hash(first);
    let key = rustls_pemfile::private_key(&mut read(key)?.as_slice())
        .map_err(|e| format!("{}: {e}", key.display()))?
        .ok_or_else(|| format!("{} holds no private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not match or are unusable: {e}"))?;
    Ok((config, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_certificate_reads_back_and_foreign_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let files = CertFiles::new(dir.path());
        super::super::local_ca::issue(&files, "pgs.test").unwrap();
        let st = status(&files, "pgs.test", true).unwrap();
        assert!(st.covers_domain, "{st:?}");
        assert_eq!(st.names, vec!["*.pgs.test".to_string(), "pgs.test".to_string()]);
        assert!(st.issuer.contains("pgs local CA"));
        assert!(st.ca_file.is_some());
        assert!(st.renew_after < st.not_after);
        let cert = std::fs::read(files.cert()).unwrap();
        let key = std::fs::read(files.key()).unwrap();
        validate_pair(&cert, &key).unwrap();
        let other = rcgen::KeyPair::generate().unwrap().serialize_pem();
        assert!(validate_pair(&cert, other.as_bytes()).unwrap_err().to_string().contains("does not belong"));
    }
}
