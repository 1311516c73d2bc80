//! What the store holds for each HA tenant, under `/pgs/INSTANCE/ha/TENANT/`:
//!
//! | key | value | written by |
//! | --- | --- | --- |
//! | `leader` | the node whose copy is primary, with that node's agent's lease | the agent that takes or keeps the lead |
//! | `state` | [`TenantState`]: epoch, primary, which standby was synchronous, last failover | the leader's agent (and the verbs, with compare-and-swap) |
//! | `replication` | [`Replication`]: what the primary sees of its standby | the leader's agent, when it changes |
//! | `switchover` | the node a planned switchover goes to | `pgs switchover`; the leader's agent deletes it |
//! | `refusal` | why a failover was refused (a standby not synchronous, a lag over the cap) | the standby's agent |
//!
//! Only the holder of `leader` may run a primary: the key goes with its agent's lease when the
//! agent stops renewing it, and a standby takes it only while it is free.

use serde::{Deserialize, Serialize};

/// The prefix of every HA key of installation `instance`.
pub fn prefix(instance: &str) -> String {
    format!("/pgs/{instance}/ha/")
}

/// The key `name` of tenant `tenant`.
pub fn key(instance: &str, tenant: &str, name: &str) -> String {
    format!("{}{tenant}/{name}", prefix(instance))
}

/// Splits a key under [`prefix`] into (tenant, name).
pub fn split<'a>(instance: &str, key: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = key.strip_prefix(&prefix(instance))?;
    rest.split_once('/')
}

/// Key names.
pub const LEADER: &str = "leader";
/// See the table above.
pub const STATE: &str = "state";
/// See the table above.
pub const REPLICATION: &str = "replication";
/// See the table above.
pub const SWITCHOVER: &str = "switchover";
/// See the table above.
pub const REFUSAL: &str = "refusal";

/// The `state` key of a tenant.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TenantState {
    /// Increases with every change of primary.
    pub epoch: u64,
    /// The node whose copy is primary in this epoch.
    pub primary: String,
    /// The standby node that was confirmed synchronous in this epoch (`required`: every commit
    /// acknowledged since waited for it): the only copy that may be promoted. None right after
    /// a failover, until the old primary has rejoined and caught up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
    /// For `preferred`: the standby's lag in bytes when the primary last saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_bytes: Option<u64>,
    /// The last change of primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failover: Option<Failover>,
}

/// A change of primary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Failover {
    /// Unix time in milliseconds when writes stopped: the old primary's clean stop (a
    /// switchover), or the standby's last message from it (a failover: an estimate, late by up
    /// to the primary's keepalive interval when it was idle).
    pub at_ms: u64,
    /// The node that was primary.
    pub from: String,
    /// The node promoted.
    pub to: String,
    /// Why (the lease expired, a switchover asked for).
    pub reason: String,
    /// How long writes were refused, in milliseconds: from `at_ms` to the promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_gap_ms: Option<u64>,
}

/// The `replication` key: the primary's view of its standby.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    /// The walsender's state (`streaming`, `catchup`, ...) or `down`.
    pub state: String,
    /// Whether the standby is the synchronous one now.
    pub sync: bool,
    /// Bytes of WAL the standby has not flushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_bytes: Option<u64>,
    /// Seconds of replay lag, as PostgreSQL reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_back() {
        let k = key("abc", "t1", LEADER);
        assert_eq!(k, "/pgs/abc/ha/t1/leader");
        assert_eq!(split("abc", &k), Some(("t1", "leader")));
        assert_eq!(split("other", &k), None);
    }
}
