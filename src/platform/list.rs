//! `pgs list` and `pgs info`: tenants as recorded, with their containers' real status.

use super::{Platform, Result, TenantInfo};
use crate::docker::Docker;
use crate::state::{Phase, container_name};

impl Platform {
    /// Every tenant with the real status of its container.
    pub async fn list(&self, docker: &Docker) -> Result<Vec<TenantInfo>> {
        let config = self.state.config()?;
        let tenants = self.state.tenants()?;
        let statuses = futures_util::future::join_all(tenants.tenants.iter().map(|(id, t)| async move {
            match t.phase {
                Phase::Provisioning => Ok("creating".to_string()),
                Phase::Ready => docker.container_status(&container_name(id)).await.map(|s| s.to_string()),
            }
        }))
        .await;
        tenants
            .tenants
            .iter()
            .zip(statuses)
            .map(|((id, t), status)| Ok(self.info_of(&config, id, t, status?)))
            .collect()
    }

    /// One tenant, with its password and URL when `show_password`.
    /// One tenant, with its password and URL when `show_password`, and, when it has backups and
    /// runs, how its WAL archiving is doing.
    pub async fn info(&self, docker: &Docker, id: &str, show_password: bool) -> Result<TenantInfo> {
        let (config, id, tenant) = self.tenant(id)?;
        let status = match tenant.phase {
            Phase::Provisioning => "creating".to_string(),
            Phase::Ready => docker.container_status(&container_name(&id)).await?.to_string(),
        };
        let mut info = self.info_of(&config, &id, &tenant, status);
        if tenant.backups && info.status == "running" {
            // One more Docker call, for this one tenant: `list` stays at a few in all.
            info.archiving = self.archiving(docker, &id).await.ok();
        }
        if show_password { self.with_secret(&config, &id, info) } else { Ok(info) }
    }
}
