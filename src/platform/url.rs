//! Connection strings through the gateway.

use super::Platform;
use crate::state::{CertificateSource, Config, TenantId};

/// Percent-encodes a URL component (RFC 3986 unreserved characters stay as they are).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Platform {
    /// The connection URL of a tenant through the gateway.
    pub fn url(&self, config: &Config, id: &TenantId, password: &str) -> String {
        self.endpoint_url(config, id, id.as_str(), password)
    }

    /// The connection URL of a tenant's pooled endpoint (`TENANT-pooler.DOMAIN`).
    pub fn pooled_url(&self, config: &Config, id: &TenantId, password: &str) -> String {
        let host = format!("{id}{}", crate::gateway::route::POOLER_SUFFIX);
        self.endpoint_url(config, id, &host, password)
    }

    /// The URL of host label `label` under the domain, for tenant `id`'s role and database.
    fn endpoint_url(&self, config: &Config, id: &TenantId, label: &str, password: &str) -> String {
        let mut params = Vec::new();
        let ca = self.state.cert_files().ca();
        match config.certificate {
            CertificateSource::SelfSigned if ca.exists() => {
                params.push("sslmode=verify-full".to_string());
                params.push(format!("sslrootcert={}", url_encode(&ca.to_string_lossy())));
            }
            // A certificate from a public CA: libpq 16+ verifies it against the system's roots.
            CertificateSource::Acme | CertificateSource::Imported => {
                params.push("sslmode=verify-full".to_string());
                params.push("sslrootcert=system".to_string());
            }
            _ => params.push("sslmode=require".to_string()),
        }
        if let Some(addr) = &config.hostaddr {
            params.push(format!("hostaddr={addr}"));
        }
        format!(
            "postgresql://{id}:{}@{label}.{}:{}/{id}?{}",
            url_encode(password),
            config.domain,
            config.gateway_port,
            params.join("&")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b/c@d"), "a%20b%2Fc%40d");
        assert_eq!(url_encode("Abc-1.2_~"), "Abc-1.2_~");
    }
}
