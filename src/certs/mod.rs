//! Certificates for the gateway: where they live in the state dir, and how they are made.
//! `acme` obtains and renews them from an ACME CA through DNS-01 (`dns` publishes the
//! records); `local_ca` issues them from a CA kept in the state dir (development, tests);
//! `store` imports and reads them. Knows nothing about tenants.

pub mod acme;
pub mod dns;
pub mod local_ca;
pub mod store;

use std::path::{Path, PathBuf};

/// The certificate files in the state dir's `certs/` folder.
#[derive(Debug, Clone)]
pub struct CertFiles {
    dir: PathBuf,
}

impl CertFiles {
    /// The files of the state dir at `root`.
    pub fn new(root: &Path) -> Self {
        Self { dir: root.join("certs") }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the folder (mode 0700) if it is missing.
    pub fn create_dir(&self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir)
    }

    /// Certificate chain the gateway presents (PEM, leaf first).
    pub fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    /// Private key of the certificate (PEM, mode 0600).
    pub fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }

    /// Root a client should trust, where pgs made it (local CA).
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Private key of the local CA (mode 0600).
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca-key.pem")
    }
}
