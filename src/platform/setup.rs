//! `pgs setup`: the installation's settings, created or updated in place.

use super::{Platform, Result, fail};
use crate::certs;
use crate::state::generate_password;
use crate::state::{CertificateSource, Config, DEFAULT_DOMAIN, DEFAULT_GATEWAY_PORT, DEFAULT_IMAGE, SCHEMA_VERSION};

/// What `pgs setup` was asked to set.
#[derive(Debug, Default, Clone)]
pub struct SetupRequest {
    /// Public domain.
    pub domain: Option<String>,
    /// Default tenant image.
    pub image: Option<String>,
    /// Gateway port.
    pub gateway_port: Option<u16>,
    /// Use a local CA.
    pub self_signed: bool,
    /// Port of the managed gateway's health endpoints.
    pub health_port: Option<u16>,
    /// Where backups go (new tenants get them).
    pub backups: Option<crate::state::BackupRepository>,
    /// The object store and its keys, for S3 backups.
    pub s3: Option<S3Request>,
}

/// An S3-compatible backup repository as `pgs setup` was given it.
#[derive(Debug, Clone)]
pub struct S3Request {
    /// Where it is.
    pub settings: crate::state::S3Settings,
    /// Access key id (from the environment, never argv).
    pub access_key: String,
    /// Secret access key (likewise).
    pub secret_key: String,
}

impl Platform {
    /// Creates or updates the configuration. Idempotent: tenants and secrets are kept, and only
    /// the settings given change.
    pub fn setup(&self, req: &SetupRequest) -> Result<Config> {
        self.state.create()?;
        let lock = self.state.lock()?;
        let existing = self.state.config_opt()?;
        let mut config = existing.clone().unwrap_or_else(|| Config {
            schema_version: SCHEMA_VERSION,
            instance: generate_password()[..12].to_lowercase(),
            domain: DEFAULT_DOMAIN.to_string(),
            image: DEFAULT_IMAGE.to_string(),
            gateway_port: DEFAULT_GATEWAY_PORT,
            certificate: CertificateSource::None,
            hostaddr: None,
            health_port: crate::state::DEFAULT_HEALTH_PORT,
            managed_gateway: false,
            backups: None,
            swarm: None,
        });
        if let Some(domain) = &req.domain {
            let domain = domain.trim_end_matches('.').to_ascii_lowercase();
            validate_domain(&domain)?;
            config.domain = domain;
        }
        if let Some(image) = &req.image {
            config.image = image.clone();
        }
        if let Some(port) = req.gateway_port {
            config.gateway_port = port;
        }
        if let Some(port) = req.health_port {
            config.health_port = port;
        }
        match (req.backups, &req.s3) {
            (Some(crate::state::BackupRepository::S3), None) => {
                fail!(
                    Invalid,
                    "--backups s3 needs --s3-endpoint and --s3-bucket, and the keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
                )
            }
            (Some(crate::state::BackupRepository::S3), Some(s3)) => {
                // Keep an existing passphrase: the repositories it encrypted stay readable.
                let cipher_pass = self
                    .state
                    .backup_secrets()?
                    .map(|s| s.cipher_pass)
                    .unwrap_or_else(|| generate_password() + &generate_password());
                let secrets = crate::state::BackupSecrets {
                    schema_version: SCHEMA_VERSION,
                    access_key: s3.access_key.clone(),
                    secret_key: s3.secret_key.clone(),
                    cipher_pass,
                };
                self.state.save_backup_secrets(&lock, &secrets)?;
                config.backups = Some(crate::state::BackupSettings {
                    repository: crate::state::BackupRepository::S3,
                    s3: Some(s3.settings.clone()),
                });
            }
            (Some(repository), _) => config.backups = Some(crate::state::BackupSettings { repository, s3: None }),
            (None, _) => {}
        }
        if req.self_signed || config.certificate == CertificateSource::None {
            config.certificate = CertificateSource::SelfSigned;
        }
        // Local development domains have no DNS records: connection strings carry the address.
        let local = [".localhost", ".test", ".local", ".internal"].iter().any(|s| config.domain.ends_with(s))
            || config.domain == "localhost";
        config.hostaddr = local.then(|| "127.0.0.1".to_string());
        self.state.save_config(&lock, &config)?;
        let domain_changed = existing.is_none_or(|old| old.domain != config.domain);
        let files = self.state.cert_files();
        if config.certificate == CertificateSource::SelfSigned && (domain_changed || !files.cert().exists()) {
            certs::local_ca::issue(&files, &config.domain)
                .map_err(|e| super::Error::step("issuing the self-signed certificate", e.into()))?;
        }
        Ok(config)
    }
}

fn validate_domain(domain: &str) -> Result<()> {
    let ok = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        });
    if !ok {
        fail!(Invalid, "invalid domain {domain:?}: expected a DNS name such as pgs.example.com");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert!(validate_domain("pgs.example.com").is_ok());
        assert!(validate_domain("pgs.localhost").is_ok());
        assert!(validate_domain("-bad.com").is_err());
        assert!(validate_domain("a..b").is_err());
        assert!(validate_domain("UPPER.com").is_err());
    }
}
