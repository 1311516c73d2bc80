//! How the lifecycle verbs fail, by kind, so that a caller can tell the cases apart (a script
//! retrying on a timeout, the gateway waking a tenant, a later HTTP API mapping kinds to status
//! codes). Each variant's text is already the one line the CLI prints.

use std::path::PathBuf;

use crate::docker::DockerError;
use crate::state::{InvalidTenantId, StateError, TenantId};

/// A failed platform operation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No tenant with that id in this installation.
    #[error("no tenant {0}: `pgs list` shows the tenants")]
    NoTenant(TenantId),
    /// Something is in the way: a tenant, container, volume or network of that name exists, or
    /// another installation owns it.
    #[error("{0}")]
    Conflict(String),
    /// The request is not valid (an id, domain, network or option).
    #[error("{0}")]
    Invalid(String),
    /// Something did not happen in time (a database that does not become ready).
    #[error("{0}")]
    Timeout(String),
    /// Something that should work does not (WAL archiving, a backup).
    #[error("{0}")]
    Failing(String),
    /// A node, or its Docker engine, cannot be reached.
    #[error("{0}")]
    Unreachable(String),
    /// A step of a verb failed (`what` says which, and what became of the tenant); `source`
    /// is why.
    #[error("{what}")]
    Step {
        /// The step, in the operator's words.
        what: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },
    /// A tenant's passwords are not in the state dir.
    #[error("no stored password for {id} in {}", path.display())]
    NoSecrets {
        /// The tenant.
        id: TenantId,
        /// Where they should be.
        path: PathBuf,
    },
    /// A file or folder could not be read, written or made.
    #[error("{what}")]
    Io {
        /// What was being done (`creating /path`).
        what: String,
        /// Why it failed.
        #[source]
        source: std::io::Error,
    },
    /// Docker could not be reached or refused a request.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// An image could not be pulled or derived.
    #[error(transparent)]
    Image(#[from] crate::docker::image::ImageError),
    /// The gateway image could not be built from this binary.
    #[error(transparent)]
    GatewayImage(#[from] crate::docker::gateway::ImageBuildError),
    /// The backup engine's output (or a time) could not be read.
    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),
    /// Files could not be packed for a container.
    #[error(transparent)]
    Archive(#[from] crate::docker::archive::ArchiveError),
    /// A document could not be encoded.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The state dir could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// A certificate could not be made, read or renewed.
    #[error(transparent)]
    Certs(#[from] crate::certs::CertError),
}

impl Error {
    /// `source` as the cause of the failed step `what`.
    pub fn step(what: impl Into<String>, source: Error) -> Self {
        Error::Step { what: what.into(), source: Box::new(source) }
    }

    /// An I/O failure while `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io { what: what.into(), source }
    }
}

impl From<InvalidTenantId> for Error {
    fn from(e: InvalidTenantId) -> Self {
        Error::Invalid(e.to_string())
    }
}

/// A platform result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Returns early with `Error::$kind(format!(...))`.
macro_rules! fail {
    ($kind:ident, $($fmt:tt)+) => {
        return Err($crate::platform::Error::$kind(format!($($fmt)+)))
    };
}
pub(crate) use fail;
