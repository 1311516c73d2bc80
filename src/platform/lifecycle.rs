//! `pgs start`, `pgs stop`, `pgs recreate` and `pgs remove`.

use std::time::Duration;

use super::{Error, Platform, Result, fail};
use crate::docker::Docker;
use crate::state::{Desired, Tenant, TenantId, backup_volume_name, container_name, network_name};

/// Seconds PostgreSQL gets for a clean shutdown before it is killed.
pub const STOP_GRACE_SECS: i64 = 30;

impl Platform {
    /// Starts one tenant or all, recreating a container that was removed behind pgs's back
    /// (its data volume is reused), and waits until each accepts connections.
    pub async fn start(&self, docker: &Docker, id: Option<&str>, timeout: Duration) -> Result<Vec<TenantId>> {
        let ids = self.ids(id)?;
        let config = self.state.config()?;
        let manager = docker;
        // The other nodes' gateways are told once, also after a failure (what changed before
        // it stays).
        let result: Result<()> = async {
            for id in &ids {
                let tenant = self.set_desired(id, Desired::Running)?;
                let engine = self.engine_of(manager, &config, &tenant).await?;
                let docker = &engine;
                let name = container_name(id);
                let tenant = if docker.inspect_container(&name).await?.is_none() {
                    crate::progress::note(&format!("container {name} is missing: recreating it on its data volume"));
                    self.provision(docker, &config, id, tenant.clone(), None, &mut super::Steps::new()).await?
                } else {
                    docker.start_container(&name).await?;
                    tenant
                };
                self.wait_until_ready(docker, id, &tenant, timeout).await?;
            }
            Ok(())
        }
        .await;
        self.sync_nodes(manager).await;
        result?;
        Ok(ids)
    }

    /// Records that tenant `id` should be in state `desired` (and is not suspended); returns its
    /// record.
    fn set_desired(&self, id: &TenantId, desired: Desired) -> Result<Tenant> {
        self.state.update(|_, tenants, _| -> Result<Tenant> {
            let t = tenants.tenants.get_mut(id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            t.desired = desired;
            t.suspended = false;
            Ok(t.clone())
        })
    }

    /// Stops one tenant or all (clean PostgreSQL shutdown).
    pub async fn stop(&self, docker: &Docker, id: Option<&str>) -> Result<Vec<TenantId>> {
        let ids = self.ids(id)?;
        let config = self.state.config()?;
        for id in &ids {
            self.no_ha(id, &self.tenant(id.as_str())?.2, "stop")?;
        }
        let result: Result<()> = async {
            for id in &ids {
                let tenant = self.set_desired(id, Desired::Stopped)?;
                let engine = self.engine_of(docker, &config, &tenant).await?;
                let spinner = crate::progress::step(&format!("stopping {id}"));
                let result = engine.stop_container(&container_name(id), STOP_GRACE_SECS).await;
                drop(spinner);
                result?;
            }
            Ok(())
        }
        .await;
        self.sync_nodes(docker).await;
        result?;
        Ok(ids)
    }

    /// Recreates one tenant's container or every tenant's, one at a time, from the tenant's
    /// record: what this version of pgs sets on a container (no healthcheck process, the socket
    /// dir, an init, settings) applies to tenants created by an earlier one. Data, credentials
    /// and access stay; each tenant is down for its restart. Stopped and suspended tenants are
    /// left stopped.
    pub async fn recreate_containers(
        &self,
        docker: &Docker,
        id: Option<&str>,
        timeout: Duration,
    ) -> Result<Vec<TenantId>> {
        let ids = self.ids(id)?;
        let config = self.state.config()?;
        for id in &ids {
            self.no_ha(id, &self.tenant(id.as_str())?.2, "recreate")?;
        }
        for id in &ids {
            let (_, _, tenant) = self.tenant(id.as_str())?;
            let engine = self.engine_of(docker, &config, &tenant).await?;
            let spinner = crate::progress::step(&format!("recreating the container of {id}"));
            let result = self.recreate(&engine, &config, id, &tenant, timeout).await;
            drop(spinner);
            result?;
            if tenant.desired == Desired::Stopped || tenant.suspended {
                engine.stop_container(&container_name(id), STOP_GRACE_SECS).await?;
            }
        }
        Ok(ids)
    }

    /// Replaces a tenant's container with one made from `tenant` as recorded now (same data
    /// volume unless the record names another) and waits until it accepts logins. `docker` is
    /// the engine of the tenant's node.
    pub(super) async fn recreate(
        &self,
        docker: &Docker,
        config: &crate::state::Config,
        id: &TenantId,
        tenant: &Tenant,
        timeout: Duration,
    ) -> Result<()> {
        let name = container_name(id);
        docker.stop_container(&name, STOP_GRACE_SECS).await?;
        docker.remove_container(&name).await?;
        let tenant = self.provision(docker, config, id, tenant.clone(), None, &mut super::Steps::new()).await?;
        self.wait_until_ready(docker, id, &tenant, timeout).await
    }

    /// Removes a tenant's container (and the network of its own of a tenant made by an earlier
    /// release); with `purge` also its data volumes (the one in
    /// use and one a restore kept) and secrets; with `purge_backups` too its backup repository.
    pub async fn remove(&self, docker: &Docker, id: &str, purge: bool, purge_backups: bool) -> Result<()> {
        let (config, id, tenant) = self.tenant(id)?;
        self.no_ha(&id, &tenant, "remove")?;
        if purge_backups && !purge {
            fail!(Invalid, "--purge-backups deletes the backups of a tenant whose data is deleted: add --purge");
        }
        // A tenant on another node goes from that node's engine (its socket dir, empty, stays
        // in the node's dir), and that node's gateway forgets it.
        let manager = docker;
        let engine = match &tenant.node {
            Some(node) => self.node_engine(&config, node).await?,
            None => docker.clone(),
        };
        let docker = &engine;
        let name = container_name(&id);
        // Every data volume restores left, for --purge.
        let data_volumes =
            if purge { self.data_volumes(docker, &config.instance, &id, None).await? } else { Vec::new() };
        let spinner = crate::progress::step(&format!("removing {id}"));
        let result: Result<(), crate::docker::DockerError> = async {
            docker.stop_container(&name, STOP_GRACE_SECS).await?;
            docker.remove_container(&name).await?;
            if tenant.subnet.is_some() {
                docker.disconnect_network(&network_name(&id), crate::docker::gateway::CONTAINER).await?;
                docker.remove_network(&network_name(&id)).await?;
            }
            if purge {
                docker.remove_volume(&tenant.data_volume(&id)).await?;
                for left in data_volumes {
                    docker.remove_volume(&left.name).await?;
                }
            }
            if purge_backups {
                docker.remove_volume(&backup_volume_name(&id)).await?;
            }
            Ok(())
        }
        .await;
        drop(spinner);
        result?;
        // Empty after a clean shutdown; what a crashed server left may belong to the container's
        // user. Either way it is not worth failing the removal for.
        if let Err(e) = self.state.remove_host_dirs(&id) {
            crate::progress::note(&format!("{e}: remove it by hand"));
        }
        self.state.update(|_, tenants, lock| -> Result<()> {
            tenants.tenants.remove(&id);
            if purge {
                self.state.remove_secrets(lock, &id)?;
                tenants.retired.remove(&id);
            } else {
                tenants.retired.insert(id.clone(), tenant.data_volume(&id));
            }
            Ok(())
        })?;
        self.sync_nodes(manager).await;
        Ok(())
    }
}
