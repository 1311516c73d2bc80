//! The `rfc2136` provider: TSIG-signed dynamic updates (RFC 2136, RFC 8945) to any name server
//! that accepts them (BIND, Knot, PowerDNS, ...). Records are added next to existing values and
//! removed by value, so the wildcard's and the apex's TXT values coexist at one name.

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hickory_proto::dnssec::rdata::tsig::TsigAlgorithm;
use hickory_proto::dnssec::tsig::TSigner;
use hickory_proto::op::{Message, ResponseCode, update_message};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{Name, RData, RecordSet, RecordType};
use serde::{Deserialize, Serialize};

use super::{Record, Secret, query};
use crate::certs::{CertError, Result};

/// TTL of the challenge records, in seconds.
const TTL: u32 = 60;
/// Clock difference the server may allow between our signature time and its own (RFC 8945).
pub(crate) const FUDGE: u16 = 300;

/// Where and how to send updates.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rfc2136 {
    /// The name server that takes the updates (usually the zone's primary).
    pub server: SocketAddr,
    /// The zone to update; found with an SOA query to `server` when absent.
    pub zone: Option<String>,
    /// TSIG key name, as the server knows it.
    pub key_name: String,
    /// TSIG algorithm, e.g. `hmac-sha256`.
    pub algorithm: String,
    /// TSIG secret, base64.
    pub secret: Secret,
}

/// A TSIG key read from `tsig-keygen` output or a bare base64 secret.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyFile {
    /// `key "NAME"` when the text is a BIND key clause.
    pub name: Option<String>,
    /// `algorithm ALG;` when given.
    pub algorithm: Option<String>,
    /// The base64 secret.
    pub secret: String,
}

/// Reads a TSIG key: either the clause `tsig-keygen` prints (`key "n" { algorithm a; secret "s"; };`)
/// or just the base64 secret.
pub fn parse_key(text: &str) -> Result<KeyFile> {
    let text = text.trim();
    let quoted_after = |word: &str| {
        let rest = &text[text.find(word)? + word.len()..];
        let start = rest.find('"')? + 1;
        let len = rest[start..].find('"')?;
        Some(rest[start..start + len].to_string())
    };
    let key = if text.contains("secret") {
        let algorithm = text.find("algorithm").map(|i| {
            let rest = text[i + "algorithm".len()..].trim_start();
            rest.split(|c: char| c == ';' || c.is_whitespace()).next().unwrap_or_default().to_string()
        });
        KeyFile {
            name: quoted_after("key"),
            algorithm,
            secret: quoted_after("secret").ok_or(CertError::InvalidTsigKey)?,
        }
    } else {
        KeyFile { name: None, algorithm: None, secret: text.to_string() }
    };
    base64::engine::general_purpose::STANDARD.decode(&key.secret).map_err(CertError::InvalidTsigSecret)?;
    Ok(key)
}

impl Rfc2136 {
    fn signer(&self) -> Result<TSigner> {
        let key = base64::engine::general_purpose::STANDARD
            .decode(self.secret.expose())
            .map_err(CertError::InvalidTsigSecret)?;
        let algorithm =
            TsigAlgorithm::from_name(Name::from_ascii(&self.algorithm).map_err(CertError::InvalidTsigAlgorithmName)?);
        let name = Name::from_ascii(&self.key_name).map_err(|source| CertError::InvalidName {
            what: "TSIG key name",
            name: self.key_name.clone(),
            source,
        })?;
        TSigner::new(key, algorithm, name, FUDGE)
            .map_err(|error| CertError::InvalidTsigAlgorithm { algorithm: self.algorithm.clone(), error })
    }

    /// Adds the record's value at its name.
    pub async fn present(&self, r: &Record) -> Result<()> {
        self.update(r, true).await
    }

    /// Removes the record's value (other values at the name stay).
    pub async fn cleanup(&self, r: &Record) -> Result<()> {
        self.update(r, false).await
    }

    async fn update(&self, r: &Record, add: bool) -> Result<()> {
        let name = Name::from_ascii(&r.fqdn).map_err(|source| CertError::InvalidName {
            what: "DNS name",
            name: r.fqdn.clone(),
            source,
        })?;
        let zone = match &self.zone {
            Some(z) => Name::from_ascii(z).map_err(|source| CertError::InvalidName {
                what: "zone name",
                name: z.clone(),
                source,
            })?,
            None => query::zone_of(self.server, &r.fqdn).await?,
        };
        let mut rrset = RecordSet::with_ttl(name, RecordType::TXT, TTL);
        rrset.add_rdata(RData::TXT(TXT::new(vec![r.value.clone()])));
        let mut msg: Message = if add {
            update_message::append(rrset, zone.clone(), false, false)
        } else {
            update_message::delete_by_rdata(rrset, zone.clone(), false)
        };
        let id: u16 = rand::random();
        msg.set_id(id);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_err(CertError::Clock)?.as_secs() as u32;
        let verifier = msg.finalize(&self.signer()?, now).map_err(CertError::DnsMessage)?;
        let request = msg.to_vec().map_err(CertError::DnsMessage)?;
        let reply = query::exchange(self.server, &request, id).await?;
        let server = self.server;
        let parsed = Message::from_vec(&reply).map_err(|source| CertError::DnsUnreadableUpdate { server, source })?;
        let what = if add { "add" } else { "remove" };
        let (key_name, fqdn) = (self.key_name.clone(), r.fqdn.clone());
        match parsed.response_code() {
            ResponseCode::NoError => {}
            ResponseCode::NotAuth => return Err(CertError::DnsTsigRefused { server, key_name, what, fqdn }),
            ResponseCode::Refused => return Err(CertError::DnsUpdateRefused { server, what, fqdn, key_name }),
            ResponseCode::NotZone => return Err(CertError::DnsNotZone { fqdn, zone: zone.to_string(), server }),
            code => return Err(CertError::DnsUpdateAnswer { server, code, what, fqdn }),
        }
        // A signed request gets a signed reply: check it, so a forged "done" is not believed.
        if let Some(mut verify) = verifier {
            verify(&reply).map_err(|error| CertError::DnsTsigVerification { server, error })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tsig_keygen_output_and_bare_secrets() {
        let clause = "key \"pgs-acme\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0c2VjcmV0\";\n};\n";
        assert_eq!(
            parse_key(clause).unwrap(),
            KeyFile {
                name: Some("pgs-acme".into()),
                algorithm: Some("hmac-sha256".into()),
                secret: "c2VjcmV0c2VjcmV0".into()
            }
        );
        assert_eq!(parse_key(" c2VjcmV0 \n").unwrap().secret, "c2VjcmV0");
        assert!(parse_key("not base64 !!").is_err());
        assert!(parse_key("key \"k\" { algorithm hmac-sha256; };").is_err());
    }

    #[test]
    fn unknown_algorithms_are_refused_with_the_supported_ones() {
        let cfg = Rfc2136 {
            server: "127.0.0.1:53".parse().unwrap(),
            zone: None,
            key_name: "k".into(),
            algorithm: "hmac-md5".into(),
            secret: Secret::new("c2VjcmV0".into()),
        };
        assert!(cfg.signer().err().unwrap().to_string().contains("hmac-sha256"));
    }
}
