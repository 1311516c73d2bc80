//! Counters for `/metrics` (Prometheus text format) and per-tenant session accounting.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Per-tenant counters.
#[derive(Default, Clone)]
struct TenantStats {
    open: u64,
    total: u64,
    bytes_in: u64,
    bytes_out: u64,
}

/// The gateway's counters.
#[derive(Default)]
pub struct Metrics {
    /// Connections accepted.
    pub connections_total: AtomicU64,
    /// Connections open (all phases).
    pub connections_open: AtomicU64,
    /// Connections naming no known tenant.
    pub route_misses: AtomicU64,
    /// Failed TLS handshakes.
    pub handshake_errors: AtomicU64,
    /// Failed dials to tenants' PostgreSQL.
    pub backend_dial_errors: AtomicU64,
    /// CancelRequests received.
    pub cancel_requests: AtomicU64,
    /// GSSENCRequests answered `N` (clients with Kerberos credentials; each costs a round trip).
    pub gssenc_requests: AtomicU64,
    /// Wake requests sent to the controller (one per suspended tenant, however many clients wait).
    pub wakes_total: AtomicU64,
    /// Wake requests that failed or timed out.
    pub wake_failures_total: AtomicU64,
    /// How long clients of a suspended tenant were held.
    pub wake_seconds: Histogram,
    refused: Mutex<BTreeMap<&'static str, u64>>,
    tenants: Mutex<HashMap<String, TenantStats>>,
    /// Session totals per tenant at the last activity report.
    reported: Mutex<HashMap<String, u64>>,
}

/// Upper bounds (seconds) of the wake latency histogram's buckets.
const WAKE_BUCKETS: [f64; 9] = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0, 10.0, 30.0];

/// A Prometheus histogram with fixed buckets ([`WAKE_BUCKETS`]).
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; WAKE_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        for (bound, n) in WAKE_BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                n.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(d.as_micros() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (bound, n) in WAKE_BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {}", n.load(Relaxed));
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {count}");
    }
}

/// An open session of a tenant; counted until dropped.
pub struct SessionSlot {
    metrics: Arc<Metrics>,
    tenant: String,
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        let mut t = self.metrics.tenants.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = t.get_mut(&self.tenant) {
            s.open = s.open.saturating_sub(1);
        }
    }
}

impl Metrics {
    /// Counts a refusal by reason.
    pub fn refused(&self, reason: &'static str) {
        *self.refused.lock().unwrap_or_else(|e| e.into_inner()).entry(reason).or_default() += 1;
    }

    /// Opens a session slot for `tenant` unless it already has `max` open.
    pub fn open_session(self: &Arc<Self>, tenant: &str, max: u64) -> Option<SessionSlot> {
        let mut t = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let s = t.entry(tenant.to_string()).or_default();
        if s.open >= max {
            return None;
        }
        s.open += 1;
        s.total += 1;
        Some(SessionSlot { metrics: self.clone(), tenant: tenant.to_string() })
    }

    /// Adds a finished session's byte counts.
    pub fn add_bytes(&self, tenant: &str, bytes_in: u64, bytes_out: u64) {
        let mut t = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let s = t.entry(tenant.to_string()).or_default();
        s.bytes_in += bytes_in;
        s.bytes_out += bytes_out;
    }

    /// Tenants with a session open now or opened since the last call (for the controller's
    /// idleness watch).
    pub fn active_tenants(&self) -> Vec<String> {
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        let mut active = Vec::new();
        for (id, s) in tenants.iter() {
            let before = reported.insert(id.clone(), s.total);
            if s.open > 0 || before != Some(s.total) {
                active.push(id.clone());
            }
        }
        active
    }

    /// Open sessions over all tenants.
    pub fn open_sessions(&self) -> u64 {
        self.tenants.lock().map(|t| t.values().map(|s| s.open).sum()).unwrap_or(0)
    }

    /// Renders every counter in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut gauge = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        gauge(
            "pgs_gateway_connections_total",
            "counter",
            "Connections accepted.",
            self.connections_total.load(Relaxed),
        );
        gauge("pgs_gateway_connections_open", "gauge", "Connections open.", self.connections_open.load(Relaxed));
        gauge(
            "pgs_gateway_route_misses_total",
            "counter",
            "Connections naming no known tenant.",
            self.route_misses.load(Relaxed),
        );
        gauge(
            "pgs_gateway_handshake_errors_total",
            "counter",
            "Failed TLS handshakes.",
            self.handshake_errors.load(Relaxed),
        );
        gauge(
            "pgs_gateway_backend_dial_errors_total",
            "counter",
            "Failed connections to tenants.",
            self.backend_dial_errors.load(Relaxed),
        );
        gauge(
            "pgs_gateway_cancel_requests_total",
            "counter",
            "Cancel requests received.",
            self.cancel_requests.load(Relaxed),
        );
        gauge(
            "pgs_gateway_gssenc_requests_total",
            "counter",
            "GSSENCRequests answered N (the client then negotiates TLS).",
            self.gssenc_requests.load(Relaxed),
        );
        gauge(
            "pgs_gateway_wakes_total",
            "counter",
            "Wake requests for suspended tenants.",
            self.wakes_total.load(Relaxed),
        );
        gauge(
            "pgs_gateway_wake_failures_total",
            "counter",
            "Wake requests that failed or timed out.",
            self.wake_failures_total.load(Relaxed),
        );
        self.wake_seconds.render(
            &mut out,
            "pgs_gateway_wake_seconds",
            "How long clients of suspended tenants were held.",
        );
        let _ = writeln!(
            out,
            "# HELP pgs_gateway_refused_total Connections refused, by reason.\n# TYPE pgs_gateway_refused_total counter"
        );
        for (reason, n) in self.refused.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "pgs_gateway_refused_total{{reason=\"{reason}\"}} {n}");
        }
        let tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut ids: Vec<_> = tenants.keys().collect();
        ids.sort();
        for (name, help, pick) in [
            (
                "pgs_gateway_tenant_sessions_open",
                "Open sessions per tenant.",
                (|s: &TenantStats| s.open) as fn(&TenantStats) -> u64,
            ),
            ("pgs_gateway_tenant_sessions_total", "Sessions per tenant.", |s| s.total),
            ("pgs_gateway_tenant_bytes_in_total", "Bytes from clients per tenant (closed sessions).", |s| s.bytes_in),
            ("pgs_gateway_tenant_bytes_out_total", "Bytes to clients per tenant (closed sessions).", |s| s.bytes_out),
        ] {
            let kind = if name.ends_with("_open") { "gauge" } else { "counter" };
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for id in &ids {
                let _ = writeln!(out, "{name}{{tenant=\"{id}\"}} {}", pick(&tenants[*id]));
            }
        }
        out
    }
}

/// Adds the label `generation="N"` to every sample of the gateway's own series (`pgs_gateway_*`),
/// so that series of a replaced gateway and of its successor never mix; and states this
/// gateway's version and generation in `pgs_gateway_info`.
pub fn with_generation(text: &str, generation: u64) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let _ = writeln!(
        out,
        "# HELP pgs_gateway_info This gateway's version and generation.\n# TYPE pgs_gateway_info gauge\n\
         pgs_gateway_info{{version=\"{}\",generation=\"{generation}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    for line in text.lines() {
        let sample = line.starts_with("pgs_gateway_");
        match line.find(['{', ' ']) {
            Some(i) if sample && line.as_bytes()[i] == b'{' => {
                let _ = writeln!(out, "{}{{generation=\"{generation}\",{}", &line[..i], &line[i + 1..]);
            }
            Some(i) if sample => {
                let _ = writeln!(out, "{}{{generation=\"{generation}\"}}{}", &line[..i], &line[i..]);
            }
            _ => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}

/// Tenants by state as recorded (`running`, `suspended`, `stopped`, `creating`), from
/// `tenants.json` when scraped.
pub fn render_tenant_states(tenants: &crate::state::Tenants) -> String {
    use crate::state::{Desired, Phase};
    let mut counts = BTreeMap::from([("creating", 0u64), ("running", 0), ("stopped", 0), ("suspended", 0)]);
    for t in tenants.tenants.values() {
        let state = match (t.phase, t.desired, t.suspended) {
            (Phase::Provisioning, _, _) => "creating",
            (_, Desired::Stopped, _) => "stopped",
            (_, _, true) => "suspended",
            _ => "running",
        };
        *counts.entry(state).or_default() += 1;
    }
    let mut out = String::from("# HELP pgs_tenants Tenants by state.\n# TYPE pgs_tenants gauge\n");
    for (state, n) in counts {
        let _ = writeln!(out, "pgs_tenants{{state=\"{state}\"}} {n}");
    }
    out
}

/// The swarm's nodes as the manager records them: 1 for a node whose gateway has missed
/// changes (`pgs node sync` catches it up), from `config.json` when scraped. A node that is down
/// shows as its own gateway's scrape failing (`up == 0`).
pub fn render_nodes(config: &crate::state::Config) -> String {
    let Some(swarm) = &config.swarm else { return String::new() };
    let mut out = String::from(
        "# HELP pgs_node_stale 1 if the node's gateway has missed changes (it serves older routes until `pgs node sync`).\n\
         # TYPE pgs_node_stale gauge\n",
    );
    for (name, node) in &swarm.nodes {
        let _ = writeln!(out, "pgs_node_stale{{node=\"{name}\"}} {}", u8::from(node.stale_since.is_some()));
    }
    out
}

/// Backup metrics for every tenant with backups, from `tenants.json` (read when scraped, so a
/// monitoring system can alert on an old last success or a failed drill).
pub fn render_backups(tenants: &crate::state::Tenants) -> String {
    let mut out = String::new();
    let with_backups: Vec<_> = tenants.tenants.iter().filter(|(_, t)| t.backups).collect();
    type Pick = fn(&crate::state::Tenant) -> Option<u64>;
    let series: [(&str, &str, Pick); 4] = [
        (
            "pgs_backup_last_success_timestamp_seconds",
            "Unix time of the tenant's last successful backup (0: never).",
            |t| Some(t.last_backup_ok_at.unwrap_or(0)),
        ),
        ("pgs_backup_last_attempt_failed", "1 if the tenant's last backup attempt failed.", |t| {
            t.last_backup.as_ref().map(|b| u64::from(b.error.is_some()))
        }),
        ("pgs_backup_drill_timestamp_seconds", "Unix time of the tenant's last restore drill.", |t| {
            t.last_drill.as_ref().map(|d| d.at)
        }),
        ("pgs_backup_drill_ok", "1 if the tenant's last restore drill proved its backup restorable.", |t| {
            t.last_drill.as_ref().map(|d| u64::from(d.ok))
        }),
    ];
    for (name, help, pick) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (id, t) in &with_backups {
            if let Some(v) = pick(t) {
                let _ = writeln!(out, "{name}{{tenant=\"{id}\"}} {v}");
            }
        }
    }
    out
}

/// High availability, from this node's `ha.json` (read when scraped): per HA tenant whether it
/// has a primary (0 while failing over, or with the store out of quorum), whether a standby
/// streams, its epoch, whether a failover was refused (with the reason in `pgs ha status`), and
/// how old the agent's view is (an agent that stopped writing it is stuck or gone).
pub fn render_ha(view: &crate::state::HaView, now_ms: u64) -> String {
    if view.tenants.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    type Pick = fn(&crate::state::HaRoles) -> u64;
    let series: [(&str, &str, Pick); 4] = [
        ("pgs_ha_has_primary", "1 if the HA tenant has a primary holding the lead (0: failing over).", |r| {
            u64::from(r.primary.is_some())
        }),
        ("pgs_ha_standby_streaming", "1 if the HA tenant's standby streams from its primary.", |r| {
            u64::from(r.standby.is_some())
        }),
        ("pgs_ha_epoch", "The HA tenant's epoch: it increases with every change of primary.", |r| r.epoch),
        ("pgs_ha_failover_refused", "1 if the last failover or switchover of the HA tenant was refused.", |r| {
            u64::from(r.refused.is_some())
        }),
    ];
    for (name, help, pick) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (id, roles) in &view.tenants {
            let _ = writeln!(out, "{name}{{tenant=\"{id}\"}} {}", pick(roles));
        }
    }
    let age = now_ms.saturating_sub(view.at_ms) as f64 / 1000.0;
    let _ = writeln!(
        out,
        "# HELP pgs_ha_view_age_seconds Seconds since this node's agent last confirmed who is primary.\n\
         # TYPE pgs_ha_view_age_seconds gauge\npgs_ha_view_age_seconds {age:.3}"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gateway_sample_carries_the_generation() {
        let text = "# HELP pgs_gateway_x X.\npgs_gateway_x 3\npgs_gateway_y{tenant=\"t1\"} 4\npgs_tenants{state=\"running\"} 1\n";
        let out = with_generation(text, 7);
        assert!(out.contains("pgs_gateway_x{generation=\"7\"} 3\n"), "{out}");
        assert!(out.contains("pgs_gateway_y{generation=\"7\",tenant=\"t1\"} 4\n"), "{out}");
        assert!(out.contains("pgs_tenants{state=\"running\"} 1\n"), "{out}");
        assert!(out.contains("pgs_gateway_info{version=") && out.contains("generation=\"7\"} 1"), "{out}");
    }
}
