//! How the lifecycle verbs fail, by kind, so that a caller can tell the cases apart (a script
//! retrying on a timeout, the gateway waking a tenant, a later HTTP API mapping kinds to status
//! codes). Each variant's text is already the one line the CLI prints.

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
    /// Docker could not be reached or refused a request.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// The state dir could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// Anything else (certificates, images, files), with its context.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Errors with nothing to tell apart for callers: kept with their own message.
macro_rules! other {
    ($($t:ty),+) => {$(
        impl From<$t> for Error {
            fn from(e: $t) -> Self {
                Error::Other(e.into())
            }
        }
    )+};
}
other!(std::io::Error, crate::docker::image::ImageError, crate::docker::gateway::ImageBuildError);

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
