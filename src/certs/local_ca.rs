//! A local certificate authority in the state dir, and wildcard certificates it signs, so that
//! `sslmode=verify-full sslrootcert=<ca.pem>` works without any public CA.

use std::fs;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use super::{CertError, CertFiles, Result};
use crate::state::atomic;

/// Validity of the local CA.
const CA_DAYS: i64 = 3650;
/// Validity of a leaf certificate.
const LEAF_DAYS: i64 = 397;

fn validity(params: &mut CertificateParams, days: i64) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::hours(1);
    params.not_after = now + time::Duration::days(days);
}

/// Loads the local CA, creating it the first time.
fn load_or_create_ca(files: &CertFiles) -> Result<(rcgen::Certificate, KeyPair)> {
    if files.ca().exists() && files.ca_key().exists() {
        let key_pem = fs::read_to_string(files.ca_key()).map_err(CertError::io(files.ca_key()))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|source| CertError::InvalidLocalCa { what: "key", source })?;
        let ca_pem = fs::read_to_string(files.ca()).map_err(CertError::io(files.ca()))?;
        let params = CertificateParams::from_ca_cert_pem(&ca_pem)
            .map_err(|source| CertError::InvalidLocalCa { what: "certificate", source })?;
        // Same name and key: certificates it signs verify against the stored ca.pem.
        return Ok((params.self_signed(&key).map_err(CertError::Generate)?, key));
    }
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "pgs local CA");
    dn.push(DnType::OrganizationName, "pgs");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    validity(&mut params, CA_DAYS);
    let key = KeyPair::generate().map_err(CertError::Generate)?;
    let cert = params.self_signed(&key).map_err(CertError::Generate)?;
    atomic::write(&files.ca_key(), key.serialize_pem().as_bytes(), 0o600).map_err(CertError::io(files.ca_key()))?;
    atomic::write(&files.ca(), cert.pem().as_bytes(), 0o644).map_err(CertError::io(files.ca()))?;
    Ok((cert, key))
}

/// Issues a certificate for `*.DOMAIN` and `DOMAIN` signed by the local CA (created if needed)
/// and installs it as the gateway's certificate.
pub fn issue(files: &CertFiles, domain: &str) -> Result<()> {
    files.create_dir().map_err(CertError::io(files.dir()))?;
    let (ca, ca_key) = load_or_create_ca(files)?;
    let mut params =
        CertificateParams::new(vec![format!("*.{domain}"), domain.to_string()]).map_err(CertError::Generate)?;
    params.distinguished_name.push(DnType::CommonName, format!("*.{domain}"));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    validity(&mut params, LEAF_DAYS);
    let key = KeyPair::generate().map_err(CertError::Generate)?;
    let cert = params.signed_by(&key, &ca, &ca_key).map_err(CertError::Generate)?;
    // Key first: a gateway reloading between the two writes then fails to match and keeps the
    // previous pair until the certificate follows.
    atomic::write(&files.key(), key.serialize_pem().as_bytes(), 0o600).map_err(CertError::io(files.key()))?;
    atomic::write(&files.cert(), format!("{}{}", cert.pem(), ca.pem()).as_bytes(), 0o644)
        .map_err(CertError::io(files.cert()))?;
    Ok(())
}
