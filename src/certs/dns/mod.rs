//! DNS-01: publishing `_acme-challenge` TXT records through a provider, and waiting until the
//! zone's name servers answer with them. One file per provider behind [`Provider`].

pub mod cloudflare;
pub mod exec;
pub mod query;
pub mod rfc2136;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;
use serde::{Deserialize, Serialize};

use super::{CertError, Result};

/// A credential: serialised as it is (into 0600 files only), never shown by `Debug`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The credential itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// A DNS provider, as saved for `pgs certs renew`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum Provider {
    /// TSIG-signed dynamic updates (RFC 2136) to a name server.
    Rfc2136(rfc2136::Rfc2136),
    /// Cloudflare's API.
    Cloudflare(cloudflare::Cloudflare),
    /// `PROGRAM present FQDN VALUE` / `PROGRAM cleanup FQDN VALUE` (lego's contract).
    Exec {
        /// The program.
        program: String,
    },
    /// Print the records and wait for Enter (terminal only).
    Manual,
}

/// One TXT record to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// `_acme-challenge.DOMAIN.` (absolute).
    pub fqdn: String,
    /// The key authorization digest.
    pub value: String,
}

impl Provider {
    /// Publishes one record.
    pub async fn present(&self, r: &Record) -> Result<()> {
        match self {
            Provider::Rfc2136(p) => p.present(r).await,
            Provider::Cloudflare(p) => p.present(r).await,
            Provider::Exec { program } => exec::run(program, "present", r).await,
            Provider::Manual => {
                use std::io::IsTerminal;
                if !std::io::stdin().is_terminal() {
                    return Err(CertError::DnsManualNeedsTerminal);
                }
                crate::progress::note(&format!(
                    "create this TXT record, then press Enter:\n  {} TXT \"{}\"",
                    r.fqdn, r.value
                ));
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map_err(CertError::DnsManualInput)?;
                Ok(())
            }
        }
    }

    /// Removes one record (best effort is the caller's choice).
    pub async fn cleanup(&self, r: &Record) -> Result<()> {
        match self {
            Provider::Rfc2136(p) => p.cleanup(r).await,
            Provider::Cloudflare(p) => p.cleanup(r).await,
            Provider::Exec { program } => exec::run(program, "cleanup", r).await,
            Provider::Manual => {
                crate::progress::note(&format!("you may now delete the TXT record {} \"{}\"", r.fqdn, r.value));
                Ok(())
            }
        }
    }

    /// The name servers to ask whether `fqdn`'s records are visible: `resolver` when given; for
    /// rfc2136 the server that took the update; otherwise the zone's authoritative servers,
    /// found through the system's resolver.
    pub async fn check_servers(&self, resolver: Option<SocketAddr>, fqdn: &str) -> Result<Vec<SocketAddr>> {
        if let Some(r) = resolver {
            return Ok(vec![r]);
        }
        if let Provider::Rfc2136(p) = self {
            return Ok(vec![p.server]);
        }
        let system = system_resolver().ok_or(CertError::NotSetResolver)?;
        authoritative_servers(system, fqdn).await
    }
}

/// The addresses (port 53) of the authoritative name servers of the zone holding `fqdn`, as
/// the recursive resolver `via` reports them; `via` itself when it names none.
async fn authoritative_servers(via: SocketAddr, fqdn: &str) -> Result<Vec<SocketAddr>> {
    let zone = query::zone_of(via, fqdn).await?.to_ascii();
    let mut servers = Vec::new();
    for ns in query::names(via, &zone, RecordType::NS).await? {
        for ip in query::names(via, &ns, RecordType::A).await? {
            if let Ok(ip) = ip.parse::<std::net::IpAddr>() {
                servers.push(SocketAddr::new(ip, 53));
            }
        }
    }
    if servers.is_empty() {
        servers.push(via);
    }
    Ok(servers)
}

/// Waits until every server in `servers` answers every record's value at its name, showing
/// progress; the error says which server answered what instead.
pub async fn wait_visible(servers: &[SocketAddr], records: &[Record], timeout: Duration) -> Result<()> {
    let list: Vec<String> = servers.iter().map(ToString::to_string).collect();
    let spinner = crate::progress::step(&format!("waiting for {} to answer the TXT records", list.join(", ")));
    let started = Instant::now();
    let result = loop {
        let mut missing = None;
        'check: for server in servers {
            for r in records {
                let answer = query::txt(*server, &r.fqdn).await;
                if !answer.as_ref().is_ok_and(|values| values.contains(&r.value)) {
                    let answered = match answer {
                        Ok(values) if values.is_empty() => "no TXT record".to_string(),
                        Ok(values) => format!("only {values:?}"),
                        Err(e) => format!("an error ({})", e.chain()),
                    };
                    missing = Some(format!("{server} answered {answered} for {}", r.fqdn));
                    break 'check;
                }
            }
        }
        let Some(missing) = missing else { break Ok(()) };
        if started.elapsed() > timeout {
            break Err(CertError::TimeoutPropagation { secs: timeout.as_secs(), missing });
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    drop(spinner);
    result
}

/// The first name server in /etc/resolv.conf (port 53), for providers that do not name one.
pub fn system_resolver() -> Option<SocketAddr> {
    let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    conf.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .find_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
}
