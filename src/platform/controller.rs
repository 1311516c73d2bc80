//! The controller as the platform runs it: [`crate::controller::TenantOps`] implemented with
//! the platform's verbs and one Docker connection, and the processes that run a controller
//! (`pgs controller run`, and `pgs gateway run`, which runs one beside its gateway).

use std::time::Duration;

use super::Platform;
use crate::controller::{self, Activity, OpsResult, TenantOps};
use crate::docker::Docker;
use crate::state::{StateDir, TenantId};

/// The platform's verbs the controller uses, over one Docker connection.
struct Ops {
    platform: Platform,
    docker: Docker,
}

impl TenantOps for Ops {
    async fn wake(&self, id: &TenantId, timeout: Duration) -> OpsResult<Duration> {
        Ok(self.platform.wake(&self.docker, id, timeout).await?)
    }

    fn mark_awake(&self, id: &TenantId) -> OpsResult<()> {
        Ok(self.platform.mark_awake(id)?)
    }

    async fn activity(&self, id: &TenantId) -> OpsResult<Activity> {
        Ok(self.platform.activity(id).await?)
    }

    async fn suspend(&self, id: &TenantId) -> OpsResult<bool> {
        Ok(self.platform.suspend(&self.docker, id, false).await?)
    }

    async fn sync_node(&self, name: &str) -> OpsResult<()> {
        self.platform.node_sync(&self.docker, Some(name)).await?;
        Ok(())
    }

    fn prune_marks(&self, tenants: &crate::state::Tenants) -> OpsResult<()> {
        Ok(self.platform.prune_node_marks(tenants)?)
    }
}

/// Runs the controller of `state` (a node's dir when `opts.node` names one) with `docker`, that
/// node's engine, until the task is dropped.
pub async fn run(
    state: StateDir,
    docker: Docker,
    opts: controller::Options,
) -> Result<(), controller::ControllerError> {
    let platform = match &opts.node {
        Some(node) => Platform::on_node(state.clone(), node),
        None => Platform::new(state.clone()),
    };
    controller::run(state, Ops { platform, docker }, opts).await
}

/// Starts a controller in this process, beside a gateway, when Docker answers; without
/// Docker, suspended tenants cannot be woken, and the log says so.
pub async fn spawn_beside_gateway(state: &StateDir, wake_timeout: Duration) {
    match Docker::connect().await {
        Ok(docker) => {
            let opts = controller::Options { wake_timeout, node: None };
            let state = state.clone();
            tokio::spawn(async move {
                if let Err(e) = run(state, docker, opts).await {
                    tracing::error!(error = %e, "the controller stopped: suspended tenants will not wake");
                }
            });
        }
        Err(e) => tracing::warn!(
            error = %e,
            "no controller in this gateway (scale to zero needs Docker): suspended tenants wake only if another controller runs"
        ),
    }
}
