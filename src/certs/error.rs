//! How making, reading and renewing certificates fails, by kind, so that a caller can tell the
//! cases apart (the CA refusing or rate-limiting, a DNS provider or name server failing, a file
//! that cannot be read or written, a certificate or key that is not valid, missing setup, a
//! timeout).
//!
//! Each variant's text is one step of the line the CLI prints: its `Display`, then each
//! `source()` after ": ". A variant that names a cause in its own text has no `source()`, so
//! nothing is printed twice.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::SystemTimeError;

use hickory_proto::ProtoError;
use hickory_proto::dnssec::DnsSecError;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use hyper::{Method, StatusCode};
use instant_acme::{AuthorizationStatus, Identifier, OrderStatus};
use tokio::time::error::Elapsed;

use super::dns::rfc2136::FUDGE;

/// A failure to make, install, read or renew a certificate.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    // The ACME CA.
    /// The CA rate-limits this request (`detail` is the CA's explanation).
    #[error("the CA rate-limits this request: {detail}; wait and retry later")]
    AcmeRateLimited {
        /// What the CA said.
        detail: String,
    },
    /// The CA requires external account binding (`--eab-kid`, `--eab-hmac`).
    #[error("the CA requires external account binding: pass --eab-kid and --eab-hmac ({detail})")]
    AcmeEabRequired {
        /// What the CA said.
        detail: String,
    },
    /// The CA could not validate the DNS-01 challenge.
    #[error("the CA could not validate the DNS challenge: {detail}")]
    AcmeChallengeFailed {
        /// What the CA said about the challenges.
        detail: String,
    },
    /// The CA refused a request for another reason (`kind` is the ACME problem type).
    #[error("the CA refused: {detail} ({kind})")]
    AcmeRefused {
        /// What the CA said.
        detail: String,
        /// The problem type, e.g. `urn:ietf:params:acme:error:malformed`.
        kind: String,
    },
    /// The CA could not be reached, or its answer could not be used.
    #[error("talking to the ACME CA failed: {0}")]
    Acme(instant_acme::Error),
    /// The root given with `--ca-root` cannot be used for the CA's HTTPS.
    #[error("cannot use --ca-root {path}")]
    AcmeCaRoot {
        /// The root's file.
        path: PathBuf,
        /// Why not.
        source: instant_acme::Error,
    },
    /// The HTTPS client for the CA could not be set up.
    #[error("cannot set up the HTTPS client")]
    AcmeHttpsClient(#[source] instant_acme::Error),
    /// The CA's authorization for the domain is neither pending nor valid.
    #[error("the CA's authorization for {domain} is {status:?}")]
    AcmeAuthorization {
        /// The domain ordered.
        domain: String,
        /// The authorization's status.
        status: AuthorizationStatus,
    },
    /// The CA offers no dns-01 challenge for an authorization.
    #[error("the CA offers no dns-01 challenge")]
    AcmeNoDns01,
    /// An authorization is for something other than a DNS name.
    #[error("unexpected identifier {0:?}")]
    AcmeIdentifier(Identifier),
    /// The dns-01 challenge the records were published for is no longer offered.
    #[error("dns-01 challenge vanished")]
    AcmeChallengeVanished,
    /// The order is neither ready nor invalid once the CA has validated.
    #[error("the order is {0:?} after validation")]
    AcmeOrder(OrderStatus),

    // DNS providers and name servers.
    /// `--dns manual` was asked for without a terminal to wait on.
    #[error("--dns manual needs a terminal to wait for you; use --dns exec or rfc2136 for automation")]
    DnsManualNeedsTerminal,
    /// Reading the Enter that `--dns manual` waits for failed.
    #[error(transparent)]
    DnsManualInput(std::io::Error),
    /// The `exec` provider's program could not be started.
    #[error("cannot run {program}")]
    DnsExecSpawn {
        /// The program.
        program: String,
        /// Why not.
        source: std::io::Error,
    },
    /// The `exec` provider's program failed.
    #[error("{program} {action} {fqdn} failed ({status}): {stderr}")]
    DnsExecFailed {
        /// The program.
        program: String,
        /// `present` or `cleanup`.
        action: &'static str,
        /// The record's name.
        fqdn: String,
        /// How it exited.
        status: ExitStatus,
        /// What it wrote to stderr, trimmed.
        stderr: String,
    },
    /// The HTTPS client for Cloudflare's API has no root certificates.
    #[error("cannot load the system's root certificates")]
    CloudflareRoots(#[source] rustls::Error),
    /// A request to Cloudflare's API could not be built.
    #[error(transparent)]
    CloudflareRequest(hyper::http::Error),
    /// Cloudflare's API could not be reached.
    #[error("Cloudflare API {method} {path}: cannot reach the API")]
    CloudflareUnreachable {
        /// The call's method.
        method: Method,
        /// The call's path.
        path: String,
        /// Why not.
        source: hyper_util::client::legacy::Error,
    },
    /// The reply of Cloudflare's API could not be read (or is too long).
    #[error("Cloudflare API {method} {path}: reading the reply failed: {error}")]
    CloudflareReply {
        /// The call's method.
        method: Method,
        /// The call's path.
        path: String,
        /// Why not.
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The reply of Cloudflare's API is not JSON.
    #[error("Cloudflare API {method} {path}: HTTP {status}, not a JSON reply")]
    CloudflareNotJson {
        /// The call's method.
        method: Method,
        /// The call's path.
        path: String,
        /// The reply's status.
        status: StatusCode,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// Cloudflare's API refused a call (401 and 403: the token lacks a permission).
    #[error(
        "Cloudflare API {method} {path}: HTTP {status}: {}{}",
        .messages.join("; "),
        cloudflare_hint(.status)
    )]
    CloudflareRefused {
        /// The call's method.
        method: Method,
        /// The call's path.
        path: String,
        /// The reply's status.
        status: StatusCode,
        /// Cloudflare's error messages, each with its code.
        messages: Vec<String>,
    },
    /// No zone holding the name is visible to the Cloudflare API token.
    #[error("no Cloudflare zone for {name} is visible to the API token: check the token's zone resources")]
    CloudflareNoZone {
        /// The name (without the final dot).
        name: String,
    },
    /// No UDP socket for DNS messages could be opened.
    #[error(transparent)]
    DnsSocket(std::io::Error),
    /// A name server cannot be reached.
    #[error("cannot reach the name server {server}")]
    DnsUnreachable {
        /// The name server.
        server: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// A message could not be sent to a name server.
    #[error("cannot send to the name server {server}")]
    DnsSend {
        /// The name server.
        server: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// Receiving a name server's answer failed.
    #[error("no answer from the name server {server}")]
    DnsReceive {
        /// The name server.
        server: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
    /// A DNS message could not be encoded or signed.
    #[error(transparent)]
    DnsMessage(ProtoError),
    /// A name server's reply to a query could not be read.
    #[error("the name server {server} sent an unreadable reply")]
    DnsUnreadable {
        /// The name server.
        server: SocketAddr,
        /// Why not.
        source: ProtoError,
    },
    /// A name server answered a query with an error code.
    #[error("the name server {server} answered {code} for {fqdn} {rtype}")]
    DnsAnswer {
        /// The name server.
        server: SocketAddr,
        /// Its response code.
        code: ResponseCode,
        /// The name asked for.
        fqdn: String,
        /// The record type asked for.
        rtype: RecordType,
    },
    /// A name server names no zone for a name.
    #[error("the name server {server} names no zone for {fqdn}: pass --dns-zone")]
    DnsNoZone {
        /// The name server.
        server: SocketAddr,
        /// The name.
        fqdn: String,
    },
    /// A name server's reply to an update could not be read.
    #[error("{server} sent an unreadable update reply")]
    DnsUnreadableUpdate {
        /// The name server.
        server: SocketAddr,
        /// Why not.
        source: ProtoError,
    },
    /// A name server refused the TSIG key of an update (NOTAUTH).
    #[error(
        "{server} refused the TSIG key {key_name} ({what} {fqdn} TXT): check the key name, algorithm and secret, \
         and that the server's clock is within {fudge}s of this host's",
        fudge = FUDGE
    )]
    DnsTsigRefused {
        /// The name server.
        server: SocketAddr,
        /// The TSIG key's name.
        key_name: String,
        /// `add` or `remove`.
        what: &'static str,
        /// The record's name.
        fqdn: String,
    },
    /// A name server's update policy refused the change (REFUSED).
    #[error(
        "{server} refused to {what} {fqdn} TXT with key {key_name}: its update policy must allow this key to change \
         that name"
    )]
    DnsUpdateRefused {
        /// The name server.
        server: SocketAddr,
        /// `add` or `remove`.
        what: &'static str,
        /// The record's name.
        fqdn: String,
        /// The TSIG key's name.
        key_name: String,
    },
    /// The record's name is not in the zone the update was sent for (NOTZONE).
    #[error("{fqdn} is not in zone {zone} at {server}: pass the right --dns-zone")]
    DnsNotZone {
        /// The record's name.
        fqdn: String,
        /// The zone.
        zone: String,
        /// The name server.
        server: SocketAddr,
    },
    /// A name server answered an update with another error code.
    #[error("{server} answered {code} to the update ({what} {fqdn} TXT)")]
    DnsUpdateAnswer {
        /// The name server.
        server: SocketAddr,
        /// Its response code.
        code: ResponseCode,
        /// `add` or `remove`.
        what: &'static str,
        /// The record's name.
        fqdn: String,
    },
    /// The reply to a signed update is not signed by the key (a forged or damaged "done").
    #[error("the reply from {server} failed TSIG verification: {error}")]
    DnsTsigVerification {
        /// The name server.
        server: SocketAddr,
        /// Why.
        error: ProtoError,
    },

    // Files.
    /// A file could not be read or written; the text is the system's alone.
    #[error("{error}")]
    Io {
        /// The file (or directory).
        path: PathBuf,
        /// Why not (not a `source()`: the text above is already its text).
        error: std::io::Error,
    },
    /// A file the operator named could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// `certs/renew.lock` could not be opened.
    #[error("cannot open {path}: is the state dir set up (`pgs setup`)?")]
    LockOpen {
        /// The lock file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// `certs/renew.lock` could not be locked.
    #[error("cannot lock {path}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// Why not.
        source: std::io::Error,
    },
    /// A file pgs saved in `certs/` is not the JSON it wrote.
    #[error("{file} is damaged")]
    Damaged {
        /// The file, relative to the state dir.
        file: &'static str,
        /// The JSON error.
        source: serde_json::Error,
    },

    // Certificates, keys and the values that make them.
    /// A PEM file could not be read (`what`: `certificate` or `key`).
    #[error("reading the {what} PEM")]
    InvalidPem {
        /// `certificate` or `key`.
        what: &'static str,
        /// Why not.
        source: std::io::Error,
    },
    /// The certificate file holds no certificate.
    #[error("no certificate in the certificate file")]
    InvalidNoCertificate,
    /// The key file holds no private key.
    #[error("no private key in the key file")]
    InvalidNoKey,
    /// The private key cannot be used for signing.
    #[error("unusable private key: {0}")]
    InvalidKey(rustls::Error),
    /// The private key does not belong to the certificate.
    #[error("the private key does not belong to the certificate")]
    InvalidKeyMismatch,
    /// The installed certificate file holds no certificate.
    #[error("no certificate in {path}")]
    InvalidInstalled {
        /// The certificate file.
        path: PathBuf,
    },
    /// The installed certificate cannot be parsed.
    #[error("cannot parse the certificate: {0}")]
    InvalidCertificate(x509_parser::nom::Err<x509_parser::error::X509Error>),
    /// The local CA's key or certificate cannot be read (`what`: `key` or `certificate`).
    #[error("reading the local CA {what}")]
    InvalidLocalCa {
        /// `key` or `certificate`.
        what: &'static str,
        /// Why not.
        source: rcgen::Error,
    },
    /// A key or certificate could not be generated or signed (e.g. a domain that is no DNS name).
    #[error(transparent)]
    Generate(rcgen::Error),
    /// `--eab-hmac` is not base64url.
    #[error("--eab-hmac is not base64url")]
    InvalidEabHmac(#[source] base64::DecodeError),
    /// A TSIG key clause has no secret.
    #[error("no `secret \"...\"` in the TSIG key")]
    InvalidTsigKey,
    /// A TSIG secret is not base64.
    #[error("the TSIG secret is not base64")]
    InvalidTsigSecret(#[source] base64::DecodeError),
    /// A TSIG algorithm is not a DNS name.
    #[error(transparent)]
    InvalidTsigAlgorithmName(ProtoError),
    /// A TSIG algorithm is not supported.
    #[error("TSIG algorithm {algorithm} is not supported ({error}): use hmac-sha256, -sha384 or -sha512")]
    InvalidTsigAlgorithm {
        /// The algorithm asked for.
        algorithm: String,
        /// Why not.
        error: DnsSecError,
    },
    /// A name (`what`: `DNS name`, `zone name`, `TSIG key name`) is not a valid DNS name.
    #[error("bad {what} {name}")]
    InvalidName {
        /// What the name is for.
        what: &'static str,
        /// The name.
        name: String,
        /// Why not.
        source: ProtoError,
    },
    /// The system clock is before 1970 (TSIG signs with the time).
    #[error(transparent)]
    Clock(SystemTimeError),

    // Missing setup.
    /// No certificate is installed (or it cannot be read).
    #[error("no certificate installed at {path}: run `pgs certs self-signed` or `pgs certs import`")]
    NotSetCertificate {
        /// The certificate file.
        path: PathBuf,
        /// Why it cannot be read.
        source: std::io::Error,
    },
    /// `pgs certs renew` before any `pgs certs issue`.
    #[error("no ACME settings saved: run `pgs certs issue` first")]
    NotSetAcme,
    /// No name server to find a zone's servers with.
    #[error("no name server in /etc/resolv.conf to find the zone's servers: pass --propagation-resolver ADDR:PORT")]
    NotSetResolver,

    // Timeouts.
    /// The CA did not validate, or issue, in time.
    #[error("talking to the ACME CA failed: {0}")]
    TimeoutAcme(instant_acme::Error),
    /// The TXT records were not visible at every name server in time.
    #[error(
        "the TXT records were not visible after {secs}s: {missing}; check the DNS provider, or name the zone's \
         authoritative server with --propagation-resolver (and a longer --propagation-timeout)"
    )]
    TimeoutPropagation {
        /// The time waited, in seconds.
        secs: u64,
        /// Which server answered what, for which record.
        missing: String,
    },
    /// A name server did not answer in time.
    #[error("no answer from the name server {server} within {secs}s")]
    TimeoutNameServer {
        /// The name server.
        server: SocketAddr,
        /// The time waited, in seconds.
        secs: u64,
        /// The elapsed deadline.
        source: Elapsed,
    },
    /// Cloudflare's API did not answer in time.
    #[error("Cloudflare API {method} {path}: no answer within {secs}s")]
    TimeoutCloudflare {
        /// The call's method.
        method: Method,
        /// The call's path.
        path: String,
        /// The time waited, in seconds.
        secs: u64,
        /// The elapsed deadline.
        source: Elapsed,
    },
    /// The `exec` provider's program did not finish in time.
    #[error("{program} {action} did not finish within 60s")]
    TimeoutExec {
        /// The program.
        program: String,
        /// `present` or `cleanup`.
        action: &'static str,
        /// The elapsed deadline.
        source: Elapsed,
    },
}

/// What to do about a refusal of Cloudflare's API, by its status.
fn cloudflare_hint(status: &StatusCode) -> &'static str {
    if *status == 401 || *status == 403 {
        "; the token in CLOUDFLARE_API_TOKEN needs the Zone:DNS:Edit permission on this zone"
    } else {
        ""
    }
}

impl CertError {
    /// Makes a [`CertError::Io`] for `path` (for `map_err`).
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| CertError::Io { path, error }
    }

    /// The error and each of its sources, joined with ": " (the line the CLI prints).
    pub(crate) fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn io() -> std::io::Error {
        std::io::Error::from(std::io::ErrorKind::PermissionDenied)
    }

    #[test]
    fn each_cause_is_printed_once() {
        let bare = CertError::Io { path: "/s/certs/key.pem".into(), error: io() };
        assert_eq!(bare.chain(), io().to_string());
        let read = CertError::Read { path: "/tmp/c.pem".into(), source: io() };
        assert_eq!(read.to_string(), "cannot read /tmp/c.pem");
        assert_eq!(read.chain(), format!("cannot read /tmp/c.pem: {}", io()));
        let lock = CertError::LockOpen { path: "/s/certs/renew.lock".into(), source: io() };
        assert_eq!(
            lock.chain(),
            format!("cannot open /s/certs/renew.lock: is the state dir set up (`pgs setup`)?: {}", io())
        );
    }

    #[test]
    fn texts_are_the_ones_the_cli_printed_before() {
        let server: SocketAddr = "192.0.2.1:53".parse().unwrap();
        let refused = CertError::DnsTsigRefused {
            server,
            key_name: "pgs-acme".into(),
            what: "add",
            fqdn: "_acme-challenge.pgs.test.".into(),
        };
        assert_eq!(
            refused.to_string(),
            "192.0.2.1:53 refused the TSIG key pgs-acme (add _acme-challenge.pgs.test. TXT): check the key name, \
             algorithm and secret, and that the server's clock is within 300s of this host's"
        );
        let cf = |status: u16| CertError::CloudflareRefused {
            method: Method::GET,
            path: "/zones".into(),
            status: StatusCode::from_u16(status).unwrap(),
            messages: vec!["a (1)".into(), "b (2)".into()],
        };
        assert_eq!(cf(404).to_string(), "Cloudflare API GET /zones: HTTP 404 Not Found: a (1); b (2)");
        assert_eq!(
            cf(403).to_string(),
            "Cloudflare API GET /zones: HTTP 403 Forbidden: a (1); b (2); the token in CLOUDFLARE_API_TOKEN needs \
             the Zone:DNS:Edit permission on this zone"
        );
        let late = CertError::TimeoutPropagation { secs: 120, missing: "x answered no TXT record for y".into() };
        assert_eq!(
            late.to_string(),
            "the TXT records were not visible after 120s: x answered no TXT record for y; check the DNS provider, or \
             name the zone's authoritative server with --propagation-resolver (and a longer --propagation-timeout)"
        );
        let eab = CertError::AcmeEabRequired { detail: "EAB needed".into() };
        assert_eq!(
            eab.to_string(),
            "the CA requires external account binding: pass --eab-kid and --eab-hmac (EAB needed)"
        );
    }
}
