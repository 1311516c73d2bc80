//! Holding clients of a suspended tenant while the controller starts it.
//!
//! The gateway cannot start containers. A client that reaches a suspended tenant is held: the
//! first one sends a wake request over the control socket ([`crate::controller::protocol`]),
//! every other client of that tenant that arrives meanwhile waits for the same answer (one wake
//! per tenant, however many clients). When the controller answers, the held clients are dialled
//! through as if nothing happened; after the wake timeout they get SQLSTATE 57P03.
//!
//! [`report_activity`] tells the controller every few seconds which tenants have clients, so
//! that it does not suspend them.

use std::collections::HashMap;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

use super::Gateway;
use super::errors::Refusal;
use crate::controller::protocol::{self, Request};

/// One wake in flight: every held client of the tenant awaits the same cell.
type Pending = Arc<OnceCell<Result<(), String>>>;

/// Wakes in flight, by tenant.
#[derive(Default)]
pub struct Wakes {
    pending: Mutex<HashMap<String, Pending>>,
}

/// How often tenants with clients are reported to the controller.
pub const REPORT_EVERY: Duration = Duration::from_secs(2);

/// Holds the caller until `tenant` is awake, at most the gateway's wake timeout.
pub async fn wake(gw: &Gateway, tenant: &str) -> Result<(), Refusal> {
    let held = Instant::now();
    let cell = {
        let mut pending = gw.wakes.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.entry(tenant.to_string()).or_default().clone()
    };
    let socket = gw.state.control_socket();
    let timeout = gw.opts.wake_timeout;
    let outcome = cell
        .get_or_init(|| async {
            gw.metrics.wakes_total.fetch_add(1, Relaxed);
            let result = protocol::call(&socket, &Request::Wake(tenant.to_string()), timeout).await;
            // Later clients start a new wake (the tenant may have been suspended again).
            gw.wakes.pending.lock().unwrap_or_else(|e| e.into_inner()).remove(tenant);
            result.map_err(|e| e.to_string())
        })
        .await;
    gw.metrics.wake_seconds.observe(held.elapsed());
    match outcome {
        Ok(()) => {
            tracing::debug!(tenant, ms = held.elapsed().as_millis() as u64, "held client released");
            Ok(())
        }
        Err(why) => {
            gw.metrics.wake_failures_total.fetch_add(1, Relaxed);
            tracing::warn!(tenant, error = %why, "cannot wake tenant");
            Err(Refusal::Waking(tenant.to_string()))
        }
    }
}

/// Reports tenants with clients to the controller every [`REPORT_EVERY`], forever.
pub async fn report_activity(gw: Arc<Gateway>) {
    let socket = gw.state.control_socket();
    let mut interval = tokio::time::interval(REPORT_EVERY);
    loop {
        interval.tick().await;
        let active = gw.metrics.active_tenants();
        if active.is_empty() {
            continue;
        }
        if let Err(e) = protocol::call(&socket, &Request::Active(active), REPORT_EVERY).await {
            tracing::debug!(error = %e, "cannot report activity to the controller");
        }
    }
}
