//! PostgreSQL settings for a tenant, derived from its memory limit (`pgs create --memory`) and
//! overridden by the operator (`--pg-setting NAME=VALUE`).
//!
//! PostgreSQL's defaults assume a server of its own. Hundreds of small tenants on one host want
//! instead: shared memory sized to the limit (the defaults reserve more than a 256 MB container
//! should hand to buffers), connection slots that fit the memory a backend needs, and no idle
//! background processes that nobody uses. Settings that only cap what a busy tenant may start
//! (parallel workers) scale with the limit; none of them slows a tenant at rest or under a
//! load that fits its limit. A tenant without `--memory` keeps PostgreSQL's defaults.
//!
//! | setting | derived from the limit M |
//! |---|---|
//! | `shared_buffers` | M/4, 16 MB to 8 GB |
//! | `effective_cache_size` | 3M/4 (a planner hint, no memory) |
//! | `maintenance_work_mem` | M/16, 16 MB to 1 GB |
//! | `work_mem` | M/64, 1 MB to 64 MB |
//! | `max_connections` | M/4 MB, 20 to 100 (a backend at work needs a few MB) |
//! | below 1 GB: `max_worker_processes` 4, `max_parallel_workers_per_gather` 1, `max_parallel_maintenance_workers` 1, `autovacuum_max_workers` 2, `max_logical_replication_workers` 0 (no idle launcher process; set it to use subscriptions), `autovacuum_naptime` 5min (an idle tenant's autovacuum workers are most of its CPU: see bench/density.sh; `--pg-setting autovacuum_naptime=1min` for a small tenant with heavy writes) |

use std::collections::BTreeMap;

/// The settings an HA tenant's copies run with (unless the operator set them):
/// `wal_log_hints` lets an old primary rejoin with `pg_rewind` rather than a full copy; a
/// walreceiver retries every second (not 5 s) and both ends notice a dead peer in 10 s (not 60).
pub const HA: [(&str, &str); 4] = [
    ("wal_log_hints", "on"),
    ("wal_retrieve_retry_interval", "1s"),
    ("wal_receiver_timeout", "10s"),
    ("wal_sender_timeout", "10s"),
];

/// Adds the [`HA`] settings to `settings`, keeping the operator's.
pub fn add_ha(settings: &mut BTreeMap<String, String>) {
    for (name, value) in HA {
        settings.entry(name.to_string()).or_insert_with(|| value.to_string());
    }
}

const MB: i64 = 1024 * 1024;

/// The settings pgs derives for a memory limit of `memory` bytes (none without a limit).
pub fn derived(memory: Option<i64>) -> BTreeMap<String, String> {
    let Some(m) = memory else { return BTreeMap::new() };
    let mb = |bytes: i64| format!("{}MB", bytes / MB);
    let mut s = BTreeMap::from([
        ("shared_buffers".to_string(), mb((m / 4).clamp(16 * MB, 8192 * MB))),
        ("effective_cache_size".to_string(), mb((m * 3 / 4).max(16 * MB))),
        ("maintenance_work_mem".to_string(), mb((m / 16).clamp(16 * MB, 1024 * MB))),
        ("work_mem".to_string(), mb((m / 64).clamp(MB, 64 * MB))),
        ("max_connections".to_string(), (m / (4 * MB)).clamp(20, 100).to_string()),
    ]);
    if m < 1024 * MB {
        for (k, v) in [
            ("max_worker_processes", "4"),
            ("max_parallel_workers_per_gather", "1"),
            ("max_parallel_maintenance_workers", "1"),
            ("autovacuum_max_workers", "2"),
            ("max_logical_replication_workers", "0"),
            ("autovacuum_naptime", "5min"),
        ] {
            s.insert(k.to_string(), v.to_string());
        }
    }
    s
}

/// Where a tenant's PostgreSQL listens besides its Unix socket: the container's own loopback,
/// which nothing outside the container reaches (an operator may choose otherwise with
/// `--pg-setting listen_addresses=...`, reachable then only on Docker's default bridge of a
/// tenant with `--egress`).
pub const LISTEN_ADDRESSES: &str = "localhost";

/// Arguments after `postgres` for a tenant: where it listens, the derived settings, then the
/// operator's (which win), as `-c NAME=VALUE`.
pub fn postgres_args(memory: Option<i64>, overrides: &BTreeMap<String, String>) -> Vec<String> {
    let mut all = derived(memory);
    all.insert("listen_addresses".to_string(), LISTEN_ADDRESSES.to_string());
    all.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.into_iter().flat_map(|(k, v)| ["-c".to_string(), format!("{k}={v}")]).collect()
}

/// The pooled endpoint's settings for a tenant: transaction mode, and a pool of a quarter of its
/// connection slots (2 to 20) per role and database, which leaves room for direct clients.
pub fn pool(memory: Option<i64>, overrides: &BTreeMap<String, String>) -> crate::state::PoolSettings {
    let slots = overrides
        .get("max_connections")
        .or(derived(memory).get("max_connections"))
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(100);
    crate::state::PoolSettings { size: (slots / 4).clamp(2, 20), ..Default::default() }
}

/// Parses `NAME=VALUE` for a PostgreSQL setting (a name of letters, digits, `_` and `.`).
pub fn parse_setting(s: &str) -> Result<(String, String), String> {
    let (name, value) = s.split_once('=').ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))?;
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') {
        return Err(format!("{name:?} is not a PostgreSQL setting name"));
    }
    Ok((name, value.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_limits_get_small_settings_and_overrides_win() {
        let s = derived(Some(256 * MB));
        assert_eq!(s["shared_buffers"], "64MB");
        assert_eq!(s["max_connections"], "64");
        assert_eq!(s["work_mem"], "4MB");
        assert_eq!(s["max_logical_replication_workers"], "0");
        let big = derived(Some(16 * 1024 * MB));
        assert_eq!(big["shared_buffers"], "4096MB");
        assert_eq!(big["max_connections"], "100");
        assert!(!big.contains_key("max_worker_processes"));
        assert!(derived(None).is_empty());
        let tiny = derived(Some(32 * MB));
        assert_eq!((tiny["shared_buffers"].as_str(), tiny["max_connections"].as_str()), ("16MB", "20"));
        let args = postgres_args(Some(256 * MB), &BTreeMap::from([("max_connections".into(), "200".into())]));
        assert!(args.windows(2).any(|w| w == ["-c", "max_connections=200"]));
        assert!(!args.iter().any(|a| a == "max_connections=64"));
        assert_eq!(postgres_args(None, &BTreeMap::new()), ["-c", "listen_addresses=localhost"]);
    }

    #[test]
    fn pools_take_a_quarter_of_the_connection_slots() {
        assert_eq!(pool(Some(256 * MB), &BTreeMap::new()).size, 16);
        assert_eq!(pool(Some(32 * MB), &BTreeMap::new()).size, 5);
        assert_eq!(pool(None, &BTreeMap::new()).size, 20);
        assert_eq!(pool(None, &BTreeMap::from([("max_connections".into(), "8".into())])).size, 2);
    }
}
