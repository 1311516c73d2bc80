//! The installation's certificate: imported, from the local CA, or from an ACME CA.

use super::{Platform, Result, fail};
use crate::certs::{self, CertFiles};
use crate::state::{CertificateSource, Config, StateLock};

impl Platform {
    /// Records where the installed certificate came from (re-reading the config under the lock,
    /// so a concurrent change to it is kept).
    fn record_certificate(&self, lock: &StateLock, source: CertificateSource) -> Result<()> {
        let mut config = self.state.config()?;
        config.certificate = source;
        Ok(self.state.save_config(lock, &config)?)
    }

    /// Installs the operator's certificate and key and records the choice.
    pub fn import_certificate(&self, cert: &std::path::Path, key: &std::path::Path) -> Result<CertFiles> {
        let lock = self.state.lock()?;
        let files = self.state.cert_files();
        certs::store::import(&files, cert, key)?;
        self.record_certificate(&lock, CertificateSource::Imported)?;
        Ok(files)
    }

    /// Issues a fresh wildcard certificate from the local CA and records the choice.
    pub fn self_signed(&self, config: &Config) -> Result<CertFiles> {
        let lock = self.state.lock()?;
        let files = self.state.cert_files();
        certs::local_ca::issue(&files, &config.domain)?;
        self.record_certificate(&lock, CertificateSource::SelfSigned)?;
        Ok(files)
    }

    /// Obtains a certificate from an ACME CA through DNS-01, installs it and records the choice
    /// (so that `renew` can repeat it). Exclusive with any other issue or renewal.
    pub async fn issue_certificate(
        &self,
        config: &Config,
        settings: &certs::acme::Settings,
        eab: Option<&certs::acme::Eab>,
    ) -> Result<CertFiles> {
        let files = self.state.cert_files();
        files.create_dir().map_err(|e| super::Error::io(format!("creating {}", files.dir().display()), e))?;
        let _renewing = certs::acme::lock(&files)?;
        certs::acme::issue(&files, &config.domain, settings, eab).await?;
        let lock = self.state.lock()?;
        self.record_certificate(&lock, CertificateSource::Acme)?;
        Ok(files)
    }

    /// Renews the ACME certificate when due (or `force`); concurrent runs issue once.
    pub async fn renew_certificate(&self, force: bool) -> Result<certs::acme::Renewal> {
        let config = self.state.config()?;
        if config.certificate != CertificateSource::Acme {
            fail!(
                Conflict,
                "the installed certificate is not from an ACME CA (it is {:?}): `pgs certs issue` obtains one",
                config.certificate
            );
        }
        let files = self.state.cert_files();
        let _renewing = certs::acme::lock(&files)?;
        Ok(certs::acme::renew(&files, &config.domain, force).await?)
    }
}
