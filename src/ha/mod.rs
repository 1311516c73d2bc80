//! High availability (docs/high-availability.md).

pub mod agent;
pub mod copy;
pub mod keys;
pub mod member;
pub mod relay;
pub mod store;
