//! `pgs move`: a tenant to another node of the swarm, with its data. Volumes are node-local,
//! so the data goes through this host: the stopped tenant's data dir is read from its node's
//! engine and written into a new volume on the other node's engine (two archive endpoints,
//! streamed), then the tenant's container is made there and the routes switch. Until the new
//! copy answers, the tenant's record, container and volume on its old node are untouched: a
//! failed move leaves it where it was, started again if it ran.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Error, Platform, Result, fail};
use crate::docker::Docker;
use crate::state::{Desired, MANAGER_NODE, Tenant, TenantId, container_name};

/// What a copy through this host is planned with, in bytes per second. Between two engines on
/// one machine a whole move of 48 MB took 0.9 s (docs/scale-out.md); data crosses two links
/// between real hosts (old node to here, here to the new node), so the plan assumes less than
/// half of a gigabit link.
const COPY_RATE: u64 = 50_000_000;

/// A clean stop, a start on the other node and the first login, planned for together (a busy
/// tenant's checkpoint at shutdown may take longer).
const FIXED_DOWNTIME: Duration = Duration::from_secs(2);

/// What `pgs move` will do, stated before it starts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MovePlan {
    /// The tenant.
    pub tenant: String,
    /// The node it lives on.
    pub from: String,
    /// The node it goes to.
    pub to: String,
    /// Size of its data dir and local backup repository (a running tenant only: a stopped one
    /// is not measured).
    pub data_bytes: Option<u64>,
    /// How long its clients are refused, as planned.
    pub expected_downtime_secs: u64,
}

/// What a finished `pgs move` did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MoveReport {
    /// The plan it followed.
    #[serde(flatten)]
    pub plan: MovePlan,
    /// Bytes copied (the archive of the data dir).
    pub copied_bytes: u64,
    /// From the tenant's stop to its first login on the new node.
    pub downtime_secs: f64,
    /// The data volume left on the old node (`--keep-source`), to remove there by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_volume: Option<String>,
}

impl MovePlan {
    /// The plan in words, for the operator to confirm.
    pub fn describe(&self) -> String {
        let size = match self.data_bytes {
            Some(b) => format!("{} MB of data", b.div_ceil(1_000_000)),
            None => "its data (not measured: the tenant is stopped)".to_string(),
        };
        format!(
            "Move {} from node {} to node {}? Its clients are refused for about {} s: it stops, {size} is copied \
             through this host, then it starts on {}",
            self.tenant, self.from, self.to, self.expected_downtime_secs, self.to
        )
    }
}

/// The name of a node as shown: `local` for the manager's own host.
fn node_name(node: &Option<String>) -> String {
    node.clone().unwrap_or_else(|| MANAGER_NODE.to_string())
}

/// The name of the container that holds a tenant's volume while its data is copied.
fn holder_name(id: &TenantId) -> String {
    format!("{}-move", container_name(id))
}

impl Platform {
    /// Checks that tenant `id` can move to node `to` and says what the move will cost.
    pub async fn plan_move(&self, docker: &Docker, id: &str, to: &str) -> Result<MovePlan> {
        let (config, id, tenant) = self.tenant(id)?;
        self.no_ha(&id, &tenant, "move")?;
        if config.swarm.is_none() {
            fail!(Invalid, "there is no swarm to move {id} within (`pgs swarm init`, then `pgs node add`)");
        }
        let target = self.place(docker, Some(to)).await?;
        if target == tenant.node {
            fail!(Invalid, "{id} lives on node {to} already");
        }
        if tenant.restoring.is_some() {
            fail!(Conflict, "{id} is being restored: move it when the restore has ended");
        }
        let source = self.engine_of(docker, &config, &tenant).await?;
        let running = source.container_status(&container_name(&id)).await? == crate::docker::tenant::Status::Running;
        let data_bytes = if running { self.data_size(&source, &id, &tenant).await } else { None };
        let copy = Duration::from_secs(data_bytes.unwrap_or(0).div_ceil(COPY_RATE));
        Ok(MovePlan {
            tenant: id.to_string(),
            from: node_name(&tenant.node),
            to: node_name(&target),
            data_bytes,
            expected_downtime_secs: (FIXED_DOWNTIME + copy).as_secs(),
        })
    }

    /// The size of what a move copies of a running tenant: its data dir and a local backup
    /// repository (one `du` in its container), if it can be read.
    async fn data_size(&self, engine: &Docker, id: &TenantId, tenant: &Tenant) -> Option<u64> {
        let repository = if tenant.backups { self.repository_volume(id).ok()? } else { None };
        let cmd: Vec<String> = ["du", "-skc", tenant.data_mount.as_str()]
            .into_iter()
            .chain(repository.as_ref().map(|(_, mount)| mount.as_str()))
            .map(str::to_string)
            .collect();
        let out = engine.exec(&container_name(id), "root", &cmd, &[], Duration::from_secs(30)).await.ok()?;
        // The last line is the total.
        let kib: u64 = out.stdout.lines().last()?.split_whitespace().next()?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Moves a tenant as `plan` says; its data volume on the old node is removed once the new
    /// copy answers, unless `keep_source`. Waits at most `timeout` for the new copy.
    pub async fn move_tenant(
        &self,
        docker: &Docker,
        plan: &MovePlan,
        keep_source: bool,
        timeout: Duration,
    ) -> Result<MoveReport> {
        let (config, id, tenant) = self.tenant(&plan.tenant)?;
        if node_name(&tenant.node) != plan.from {
            fail!(Conflict, "{id} moved to node {} meanwhile", node_name(&tenant.node));
        }
        let target = (plan.to != MANAGER_NODE).then(|| plan.to.clone());
        let source = self.engine_of(docker, &config, &tenant).await?;
        let moved = Tenant { node: target.clone(), ..tenant.clone() };
        let engine = self.engine_of(docker, &config, &moved).await?;
        let name = container_name(&id);
        let volume = tenant.data_volume(&id);
        // A local backup repository moves with the data.
        let repository = if tenant.backups { self.repository_volume(&id)? } else { None };
        let volumes: Vec<&String> = std::iter::once(&volume).chain(repository.as_ref().map(|(v, _)| v)).collect();
        // Before any downtime: nothing of the tenant's on the target, and its images there.
        for &volume in &volumes {
            if engine.volume_exists(volume).await? {
                fail!(
                    Conflict,
                    "node {} holds a volume {volume} already (kept by an earlier move with --keep-source?): \
                     remove it there (`docker volume rm {volume}`) if it is not needed, then move again",
                    plan.to
                );
            }
        }
        for container in [name.clone(), holder_name(&id)] {
            if engine.inspect_container(&container).await?.is_some() {
                fail!(Conflict, "node {} has a container {container} already: remove it there first", plan.to);
            }
        }
        if !engine.has_image(&tenant.image).await? {
            let step = crate::progress::step(&format!("copying image {} to {}", tenant.image, plan.to));
            source.copy_image(&tenant.image, &engine).await?;
            drop(step);
        }
        if tenant.backups && target.is_some() {
            self.copy_backup_image(docker, &engine, &tenant.image).await?;
        }

        let was_running =
            source.container_status(&name).await? == crate::docker::tenant::Status::Running && !tenant.suspended;
        let stopped = Instant::now();
        let step = crate::progress::step(&format!("stopping {id} on {}", plan.from));
        let result = source.stop_container(&name, super::lifecycle::STOP_GRACE_SECS).await;
        drop(step);
        result?;
        let copied = self.copy_to(&source, &engine, &id, &moved, repository.as_ref(), plan, timeout).await;
        let copied_bytes = match copied {
            Ok(bytes) => bytes,
            Err(e) => {
                // Nothing switched: the tenant runs on its old node as before.
                let _ = engine.remove_container(&name).await;
                let _ = engine.remove_container(&holder_name(&id)).await;
                for &volume in &volumes {
                    let _ = engine.remove_volume(volume).await;
                }
                if was_running && let Err(start) = source.start_container(&name).await {
                    crate::progress::note(&format!("{id} could not be started again on {}: {start}", plan.from));
                }
                return Err(Error::step(format!("moving {id} to {} failed, it stays on {}", plan.to, plan.from), e));
            }
        };
        let downtime = stopped.elapsed();
        if let Some(previous) = &tenant.previous_data_volume {
            crate::progress::note(&format!(
                "{previous}, the data {id} had before its last restore, stays on {}: remove it there when no longer needed",
                plan.from
            ));
        }
        self.state.update(|_, tenants, _| -> Result<()> {
            let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
            t.node = target.clone();
            // A volume kept by a restore stays on the old node, where `docker volume ls` shows it.
            t.previous_data_volume = None;
            // A suspended tenant runs on its new node until that node's controller finds it idle.
            t.suspended = false;
            Ok(())
        })?;
        self.sync_nodes(docker).await;
        // Not running before and not suspended (its node's controller may have suspended it
        // without the manager's record saying so: any tenant with a policy).
        let resume = was_running || tenant.suspended || tenant.suspend_after.is_some();
        if tenant.desired == Desired::Stopped || !resume {
            engine.stop_container(&name, super::lifecycle::STOP_GRACE_SECS).await?;
        }

        // The old copy goes only now that the new one answered and the routes point to it.
        let step = crate::progress::step(&format!("removing {id}'s old container on {}", plan.from));
        let mut cleanup = source.remove_container(&name).await;
        if !keep_source {
            for &volume in &volumes {
                cleanup = cleanup.and(source.remove_volume(volume).await);
            }
        }
        drop(step);
        if let Err(e) = cleanup {
            crate::progress::note(&format!("{id} moved, but its old copy on {} was not removed: {e}", plan.from));
        }
        if tenant.node.is_none()
            && let Err(e) = self.state.remove_host_dirs(&id)
        {
            crate::progress::note(&format!("{e}: remove it by hand"));
        }
        Ok(MoveReport {
            plan: plan.clone(),
            copied_bytes,
            downtime_secs: downtime.as_secs_f64(),
            kept_volume: keep_source.then_some(volume),
        })
    }

    /// Copies the stopped tenant's data dir (and its local backup repository, `repository`)
    /// from `source` into new volumes on `engine`, makes its container there (`tenant` is its
    /// record with the new node) and waits for a login. Returns the bytes copied.
    #[allow(clippy::too_many_arguments)]
    async fn copy_to(
        &self,
        source: &Docker,
        engine: &Docker,
        id: &TenantId,
        tenant: &Tenant,
        repository: Option<&(String, String)>,
        plan: &MovePlan,
        timeout: Duration,
    ) -> Result<u64> {
        let config = self.state.config()?;
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        let holder = holder_name(id);
        let mut copied = 0;
        let data = (tenant.data_volume(id), tenant.data_mount.clone());
        for (volume, mount) in std::iter::once(&data).chain(repository) {
            engine.create_volume(volume, &labels).await?;
            engine.create_holder(&holder, &tenant.image, volume, mount, labels.clone()).await?;
            let step = crate::progress::step(&format!("copying {id}'s {volume} to {}", plan.to));
            let done = source.copy_dir(&container_name(id), mount, engine, &holder).await;
            drop(step);
            engine.remove_container(&holder).await?;
            copied += done?;
        }
        let tenant = self.provision(engine, &config, id, tenant.clone(), None, &mut super::Steps::new()).await?;
        self.wait_until_ready(engine, id, &tenant, timeout).await?;
        Ok(copied)
    }
}
