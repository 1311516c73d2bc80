//! Certificates for the gateway: how they are made (where they live is [`CertFiles`], in the
//! state dir).
//! `acme` obtains and renews them from an ACME CA through DNS-01 (`dns` publishes the
//! records); `local_ca` issues them from a CA kept in the state dir (development, tests);
//! `store` imports and reads them; `pinned` recognises the installation's certificate when one
//! node dials another. Knows nothing about tenants. How each fails is
//! [`CertError`].

pub mod acme;
pub mod dns;
mod error;
pub mod local_ca;
pub mod pinned;
pub mod store;

pub use crate::state::CertFiles;
pub use error::CertError;

/// A result of the certificate layer.
pub type Result<T, E = CertError> = std::result::Result<T, E>;
