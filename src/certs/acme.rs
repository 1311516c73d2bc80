//! Certificates from an ACME CA (RFC 8555: Let's Encrypt, ZeroSSL, any other) through DNS-01.
//!
//! `issue` orders `*.DOMAIN` and `DOMAIN`, publishes every TXT record first (wildcard and apex
//! share one name: two values at once), waits until a name server answers with all of them,
//! then asks the CA to validate, and always cleans the records up. `renew` does the same when
//! the CA's renewal window (ARI) opens, or when a third of the lifetime is left if the CA has
//! no ARI. Issuing and renewing hold one exclusive lock, so concurrent runs issue once.

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, CertificateIdentifier, ChallengeType, ExternalAccountKey,
    Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::dns::{self, Provider, Record};
use super::{CertError, CertFiles, Result};
use crate::state::atomic;

/// How long the CA may take to validate, and to issue.
const CA_TIMEOUT: Duration = Duration::from_secs(120);

/// Directory URL of a CA named on the command line.
pub fn directory_url(ca: &str) -> String {
    match ca {
        "letsencrypt" => "https://acme-v02.api.letsencrypt.org/directory".into(),
        "letsencrypt-staging" => "https://acme-staging-v02.api.letsencrypt.org/directory".into(),
        "zerossl" => "https://acme.zerossl.com/v2/DV90".into(),
        url => url.into(),
    }
}

/// `certs/acme.json` (mode 0600): the choices of `pgs certs issue`, reused by `pgs certs renew`,
/// including the DNS provider's credentials. EAB keys are used once, at account creation, and
/// not kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// File format version.
    pub schema_version: u32,
    /// ACME directory URL.
    pub directory: String,
    /// Contact address.
    pub email: Option<String>,
    /// Extra root for the ACME server's own HTTPS (test CAs).
    pub ca_root: Option<PathBuf>,
    /// DNS provider.
    pub dns: Provider,
    /// Name server asked whether the records are visible.
    pub propagation_resolver: Option<SocketAddr>,
    /// How long to wait for them, in seconds.
    pub propagation_timeout_secs: u64,
}

/// External account binding (ZeroSSL, some private CAs).
pub struct Eab {
    /// Key id.
    pub kid: String,
    /// HMAC key, base64url.
    pub hmac: String,
}

fn settings_path(files: &CertFiles) -> PathBuf {
    files.dir().join("acme.json")
}

fn account_path(files: &CertFiles) -> PathBuf {
    files.dir().join("acme-account.json")
}

/// The saved settings, if `pgs certs issue` ran before.
pub fn load_settings(files: &CertFiles) -> Result<Option<Settings>> {
    match std::fs::read(settings_path(files)) {
        Ok(b) => Ok(Some(
            serde_json::from_slice(&b).map_err(|source| CertError::Damaged { file: "certs/acme.json", source })?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(CertError::Io { path: settings_path(files), error }),
    }
}

/// Explains an ACME error in terms of what to do.
fn explain(e: instant_acme::Error) -> CertError {
    match e {
        instant_acme::Error::Api(p) => {
            let kind = p.r#type.unwrap_or_default();
            let detail = p.detail.unwrap_or_else(|| "no detail".into());
            if kind.ends_with(":rateLimited") {
                CertError::AcmeRateLimited { detail }
            } else if kind.ends_with(":externalAccountRequired") {
                CertError::AcmeEabRequired { detail }
            } else if kind.ends_with(":unauthorized") || kind.ends_with(":dns") || kind.ends_with(":incorrectResponse")
            {
                CertError::AcmeChallengeFailed { detail }
            } else {
                CertError::AcmeRefused { detail, kind }
            }
        }
        timeout @ instant_acme::Error::Timeout(_) => CertError::TimeoutAcme(timeout),
        other => CertError::Acme(other),
    }
}

async fn account(files: &CertFiles, s: &Settings, eab: Option<&Eab>) -> Result<Account> {
    let builder = || match &s.ca_root {
        Some(root) => {
            Account::builder_with_root(root).map_err(|source| CertError::AcmeCaRoot { path: root.clone(), source })
        }
        None => Account::builder().map_err(CertError::AcmeHttpsClient),
    };
    if let Ok(bytes) = std::fs::read(account_path(files)) {
        let creds: AccountCredentials = serde_json::from_slice(&bytes)
            .map_err(|source| CertError::Damaged { file: "certs/acme-account.json", source })?;
        return builder()?.from_credentials(creds).await.map_err(explain);
    }
    let contact = s.email.as_ref().map(|e| format!("mailto:{e}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let eab_key = eab
        .map(|e| {
            use base64::Engine;
            let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(e.hmac.trim_end_matches('='))
                .map_err(CertError::InvalidEabHmac)?;
            Ok(ExternalAccountKey::new(e.kid.clone(), &key))
        })
        .transpose()?;
    let new = NewAccount { contact: &contacts, terms_of_service_agreed: true, only_return_existing: false };
    let (account, creds) = builder()?.create(&new, s.directory.clone(), eab_key.as_ref()).await.map_err(explain)?;
    atomic::write_json(&account_path(files), &creds, 0o600).map_err(CertError::io(account_path(files)))?;
    Ok(account)
}

/// Takes `certs/renew.lock`, which serialises every issue and renewal, waiting for another
/// `pgs` process to finish first.
pub fn lock(files: &CertFiles) -> Result<File> {
    let path = files.dir().join("renew.lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| CertError::LockOpen { path: path.clone(), source })?;
    file.lock().map_err(|source| CertError::Lock { path, source })?;
    Ok(file)
}

/// Orders and installs a certificate for `*.DOMAIN` and `DOMAIN`; saves `settings`. The caller
/// holds [`lock`].
pub async fn issue(files: &CertFiles, domain: &str, settings: &Settings, eab: Option<&Eab>) -> Result<()> {
    atomic::write_json(&settings_path(files), settings, 0o600).map_err(CertError::io(settings_path(files)))?;
    let account = account(files, settings, eab).await?;
    order_and_install(&account, files, domain, settings, None).await
}

async fn order_and_install(
    account: &Account,
    files: &CertFiles,
    domain: &str,
    settings: &Settings,
    replaces: Option<CertificateIdentifier<'static>>,
) -> Result<()> {
    let ids = [Identifier::Dns(format!("*.{domain}")), Identifier::Dns(domain.to_string())];
    let mut new = NewOrder::new(&ids);
    if let Some(id) = replaces {
        new = new.replaces(id);
    }
    let mut order = account.new_order(&new).await.map_err(explain)?;

    // Every record first: wildcard and apex both use _acme-challenge.DOMAIN.
    let mut records = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(explain)?;
        match authz.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            status => return Err(CertError::AcmeAuthorization { domain: domain.to_string(), status }),
        }
        let challenge = authz.challenge(ChallengeType::Dns01).ok_or(CertError::AcmeNoDns01)?;
        let name = match challenge.identifier().identifier {
            Identifier::Dns(d) => d.clone(),
            other => return Err(CertError::AcmeIdentifier(other.clone())),
        };
        records.push(Record {
            fqdn: format!("_acme-challenge.{name}."),
            value: challenge.key_authorization().dns_value(),
        });
    }
    let outcome = validate(&mut order, settings, &records).await;
    for r in &records {
        if let Err(e) = settings.dns.cleanup(r).await {
            tracing::warn!(record = %r.fqdn, error = %e, "could not remove the challenge record");
            crate::progress::note(&format!("could not remove {} TXT: {e}", r.fqdn));
        }
    }
    outcome?;

    let key_pem = order.finalize().await.map_err(explain)?;
    let chain = order.poll_certificate(&RetryPolicy::new().timeout(CA_TIMEOUT)).await.map_err(explain)?;
    // Key first: a gateway reloading between the writes keeps its old pair until both match.
    atomic::write(&files.key(), key_pem.as_bytes(), 0o600).map_err(CertError::io(files.key()))?;
    atomic::write(&files.cert(), chain.as_bytes(), 0o644).map_err(CertError::io(files.cert()))?;
    Ok(())
}

async fn validate(order: &mut instant_acme::Order, s: &Settings, records: &[Record]) -> Result<()> {
    let mut published = Vec::new();
    for r in records {
        s.dns.present(r).await?;
        published.push(r.clone());
    }
    if let Some(first) = records.first() {
        let servers = s.dns.check_servers(s.propagation_resolver, &first.fqdn).await?;
        dns::wait_visible(&servers, records, Duration::from_secs(s.propagation_timeout_secs)).await?;
    }
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz.map_err(explain)?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        let mut challenge = authz.challenge(ChallengeType::Dns01).ok_or(CertError::AcmeChallengeVanished)?;
        challenge.set_ready().await.map_err(explain)?;
    }
    let spinner = crate::progress::step("waiting for the CA to validate");
    let status = order.poll_ready(&RetryPolicy::new().timeout(CA_TIMEOUT)).await;
    drop(spinner);
    match status.map_err(explain)? {
        OrderStatus::Ready => Ok(()),
        OrderStatus::Invalid => Err(CertError::AcmeChallengeFailed { detail: challenge_problems(order).await }),
        other => Err(CertError::AcmeOrder(other)),
    }
}

/// What the CA said about the challenges it refused.
async fn challenge_problems(order: &mut instant_acme::Order) -> String {
    let mut problems = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(authz)) = authorizations.next().await {
        for challenge in &authz.challenges {
            if let Some(p) = &challenge.error {
                problems.push(p.detail.clone().unwrap_or_else(|| format!("{:?}", p.r#type)));
            }
        }
    }
    if problems.is_empty() { "no detail given".into() } else { problems.join("; ") }
}

/// Whether a certificate valid from `not_before` to `not_after` (Unix seconds) is due at `now`
/// by the fallback rule: when a third of its lifetime is left.
pub fn due(not_before: i64, not_after: i64, now: i64) -> bool {
    now >= not_after - (not_after - not_before) / 3
}

/// What `renew` did.
#[derive(Debug, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Renewal {
    /// A new certificate is installed.
    Renewed {
        /// Its end of validity (RFC 3339).
        not_after: String,
        /// Its serial number (hex).
        serial: String,
    },
    /// The installed certificate is not due yet.
    NotDue {
        /// When it will be (RFC 3339).
        renew_after: String,
        /// `ari` when the CA set the date, `lifetime` for the one-third rule.
        source: &'static str,
    },
}

/// The ARI identifier of a certificate: its authority key identifier and serial number.
fn certificate_id(der: &[u8]) -> Option<CertificateIdentifier<'static>> {
    use x509_parser::extensions::ParsedExtension;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let aki = cert.iter_extensions().find_map(|ext| match ext.parsed_extension() {
        ParsedExtension::AuthorityKeyIdentifier(aki) => aki.key_identifier.as_ref().map(|k| k.0.to_vec()),
        _ => None,
    })?;
    let serial = cert.tbs_certificate.raw_serial().to_vec();
    Some(CertificateIdentifier::new(aki.as_slice().into(), serial.as_slice().into()).into_owned())
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Renews if due (or `force`). The caller holds [`lock`], so a concurrent second run finds the
/// fresh certificate here and does nothing.
pub async fn renew(files: &CertFiles, domain: &str, force: bool) -> Result<Renewal> {
    let settings = load_settings(files)?.ok_or(CertError::NotSetAcme)?;
    let now = OffsetDateTime::now_utc();
    let current = super::store::status(files, domain, false).ok().filter(|st| st.covers_domain);
    let der = std::fs::read(files.cert())
        .ok()
        .and_then(|pem| rustls_pemfile::certs(&mut pem.as_slice()).next()?.ok())
        .filter(|_| current.is_some());
    let cert_id = der.as_deref().and_then(certificate_id);
    // The CA's window when it offers ARI; otherwise a third of the lifetime before the end.
    let mut replaces = None;
    let mut renew_at = current.as_ref().and_then(|st| {
        let parse = |s: &str| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok();
        Some((parse(&st.renew_after)?, "lifetime"))
    });
    let account = match (account(files, &settings, None).await, renew_at) {
        (Ok(account), _) => account,
        // An unreachable CA is no reason to fail while the certificate is not due anyway.
        (Err(e), Some((at, source))) if !force && now < at => {
            tracing::warn!(error = %e.chain(), "cannot reach the ACME CA; the certificate is not due by its lifetime");
            return Ok(Renewal::NotDue { renew_after: rfc3339(at), source });
        }
        (Err(e), _) => return Err(e),
    };
    if let Some(id) = &cert_id {
        match account.renewal_info(id).await {
            Ok((info, _)) => {
                renew_at = Some((info.suggested_window.start, "ari"));
                replaces = Some(id.clone());
            }
            Err(instant_acme::Error::Unsupported(_)) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the CA's renewal information is unavailable; using the lifetime rule")
            }
        }
    }
    if let (false, Some((at, source))) = (force, renew_at)
        && now < at
    {
        return Ok(Renewal::NotDue { renew_after: rfc3339(at), source });
    }
    order_and_install(&account, files, domain, &settings, replaces).await?;
    let st = super::store::status(files, domain, false)?;
    Ok(Renewal::Renewed { not_after: st.not_after, serial: st.serial })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_due_when_a_third_is_left() {
        let (from, to) = (0, 90 * 86400);
        assert!(!due(from, to, 59 * 86400));
        assert!(due(from, to, 60 * 86400));
        assert!(due(from, to, 100 * 86400));
    }

    #[test]
    fn ca_names() {
        assert!(directory_url("letsencrypt").starts_with("https://acme-v02."));
        assert_eq!(directory_url("https://127.0.0.1:14000/dir"), "https://127.0.0.1:14000/dir");
    }

    #[test]
    fn ari_identifier_is_aki_dot_serial() {
        let dir = tempfile::tempdir().unwrap();
        let files = CertFiles::new(dir.path());
        super::super::local_ca::issue(&files, "pgs.test").unwrap();
        let pem = std::fs::read(files.cert()).unwrap();
        let der = rustls_pemfile::certs(&mut pem.as_slice()).next().unwrap().unwrap();
        let id = certificate_id(&der).expect("rcgen sets an authority key identifier");
        let (aki, serial) = id.to_string().split_once('.').map(|(a, s)| (a.to_string(), s.to_string())).unwrap();
        assert!(!aki.is_empty() && !serial.is_empty() && !serial.contains('='), "{id}");
    }
}
