//! `pgs`: a multi-tenant PostgreSQL platform on Docker hosts, as a library with the `pgs`
//! command line as its front end.
//!
//! The folders are the layers, from the bottom up; each one uses only those below it (the
//! test `tests/layers.rs` checks this on every run):
//!
//! | layer | owns | may use |
//! | --- | --- | --- |
//! | [`progress`] | how long operations report progress to whoever drives them | — |
//! | [`state`] | the state dir: every path in it, every document (config, tenants, secrets), the settings and pool sizes stored there, atomic writes and the lock | `progress` |
//! | [`docker`] | the Docker engine: tenant, gateway and one-off containers, images, volumes, swarm | `state`, `progress` |
//! | [`certs`] | certificates: ACME with DNS-01, the local CA, the certificate store | `state`, `progress` |
//! | [`backup`] | the backup engine (pgBackRest): its commands, reports and recovery plans | `state`, `docker`, `progress` |
//! | [`ha`] | high availability: the consensus store (etcd), the per-node agent that holds leases, promotes and fences, the replication relay | `state`, `docker`, `certs`, `progress` |
//! | [`gateway`] | the front door: wire protocol, TLS, routing, admission, relay, pooling | `state`, `certs`, `controller::protocol` |
//! | [`controller`] | scale to zero: wakes and suspends tenants for the gateways, retries stale nodes, through [`controller::Tenants`] | `state`, `progress` |
//! | [`platform`] | the verbs (create, start, backup, restore, move, …) composing the layers below | all of the above |
//! | [`api`] | the HTTP API: routes, bearer tokens, problem documents (a second front end beside `cli`) | `platform` and below |
//! | [`cli`] | the `pgs` command: parsing, prompts, human and `--json` output | all of the above |
//!
//! `gateway` and `controller` sit beside each other: they speak only through the control
//! socket's messages ([`controller::protocol`]). A process that runs both (`pgs gateway run`)
//! is composed in [`platform`], not inside the gateway. `docs/architecture.md` walks one
//! client connection and one `pgs create` through these layers.

pub mod api;
pub mod backup;
pub mod certs;
pub mod cli;
pub mod controller;
pub mod docker;
pub mod gateway;
pub mod ha;
pub mod platform;
pub mod progress;
pub mod state;
