//! `pgs restore`: a tenant recovered into a new data volume and started on it; the previous
//! volume is kept.

use std::time::Duration;

use serde::Serialize;

use super::SHORT_OPERATION;
use super::recover::Recovery;
use crate::backup::Target;
use crate::backup::pgbackrest::{Command, Purpose};
use crate::docker::Docker;
use crate::platform::lifecycle::STOP_GRACE_SECS;
use crate::platform::{Error, Platform, Result, now};
use crate::state::{Tenant, container_name, volume_name};

/// What `pgs restore` did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RestoreReport {
    /// Tenant id.
    pub id: String,
    /// The data volume the tenant now runs on.
    pub volume: String,
    /// The data volume it ran on before, kept: `pgs prune-volumes` deletes it when satisfied.
    pub previous_volume: String,
    /// Seconds the restore took, recovery included.
    pub seconds: u64,
    /// The backup it started from and the timeline it followed, and why.
    pub plan: String,
    /// What happened on the way (nothing committed after the target, say).
    pub events: Vec<String>,
}

impl Platform {
    /// Restores a tenant to `target`: archives what is not archived yet, reads the repository
    /// and chooses the backup and timeline (a target outside the window is refused here), stops
    /// the tenant, restores and recovers into a new data volume in a one-off container, then
    /// starts the tenant on it and waits until it accepts logins. If anything fails the tenant
    /// is as it was: on its previous data, untouched, running if it ran.
    ///
    /// An HA tenant loses its standby for the restore: `ha disable` (the tenant stays on the
    /// node of its primary), the restore there, then `ha enable` with a standby streamed anew
    /// from the restored data on the node the standby was on.
    pub async fn restore(
        &self,
        docker: &Docker,
        id: &str,
        target: &Target,
        timeout: Duration,
    ) -> Result<RestoreReport> {
        let (config, id, tenant) = self.backed_up(id)?;
        let Some(ha) = tenant.ha.clone() else { return self.restore_here(docker, id.as_str(), target, timeout).await };
        let started = std::time::Instant::now();
        // A target the repository cannot reach is refused before the standby goes.
        let engine = self.serving_engine(docker, &config, &id, &tenant).await?;
        self.prepare(&engine, &config, &id, &tenant, target).await?;
        let primary = self.ha_disable(docker, id.as_str()).await?;
        let standby =
            if primary == tenant.home_node() { ha.standby_node.clone() } else { tenant.home_node().to_string() };
        crate::progress::note(&format!(
            "{id} runs without its standby on {standby} for the restore (on {primary}); it is streamed anew after it"
        ));
        let restored = self.restore_here(docker, id.as_str(), target, timeout).await;
        let again = self.ha_enable(docker, id.as_str(), Some(&standby), ha.durability).await;
        let lost = |e: &Error| {
            format!(
                "{id} has NO standby now ({e}): `pgs ha enable {id} --standby-node {standby} --durability {}` makes it",
                ha.durability
            )
        };
        match (restored, again) {
            (Ok(mut report), Ok(_)) => {
                report.events.push(format!("its standby on {standby} is synchronous again"));
                report.seconds = started.elapsed().as_secs();
                Ok(report)
            }
            (Ok(mut report), Err(e)) => {
                report.events.push(lost(&e));
                report.seconds = started.elapsed().as_secs();
                Ok(report)
            }
            (Err(e), Ok(_)) => Err(e),
            (Err(e), Err(again)) => Err(Error::step(lost(&again), e)),
        }
    }

    /// [`Platform::restore`] of a tenant without a standby.
    async fn restore_here(
        &self,
        docker: &Docker,
        id: &str,
        target: &Target,
        timeout: Duration,
    ) -> Result<RestoreReport> {
        let started = std::time::Instant::now();
        let (config, id, tenant) = self.backed_up(id)?;
        let manager = docker;
        let engine = self.engine_of(docker, &config, &tenant).await?;
        let docker = &engine;
        let name = container_name(&id);
        let was_running = docker.container_status(&name).await? == crate::docker::tenant::Status::Running;
        let prepared = self.prepare(docker, &config, &id, &tenant, target).await?;
        crate::progress::note(&format!("restoring {id} from {}", prepared.plan.why));
        let previous = tenant.data_volume(&id);
        // Unique even for two restores within one second (a killed one and its rerun).
        let volume =
            format!("{}-{}-{}", volume_name(&id), now(), &crate::state::generate_password()[..4].to_lowercase());
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        let mark = |restoring: Option<String>| {
            self.state.update(|_, tenants, _| -> Result<()> {
                let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
                t.restoring = restoring;
                Ok(())
            })
        };
        if let Some(half_made) = tenant.restoring.as_ref().filter(|v| **v != previous) {
            // An earlier restore was killed before it switched volumes: its volume is incomplete.
            crate::progress::note(&format!("removing {half_made}, left incomplete by an interrupted restore"));
            docker.remove_container(&format!("{name}-restore")).await?;
            docker.remove_volume(half_made).await?;
        }
        mark(Some(volume.clone()))?;

        let step = crate::progress::step(&format!("stopping {id}"));
        docker.stop_container(&name, STOP_GRACE_SECS).await?;
        drop(step);
        docker.create_volume(&volume, &labels).await?;
        let recovery = Recovery {
            purpose: Purpose::Restore,
            source: (&id, &tenant),
            id: &id,
            volume: &volume,
            uploads: Vec::new(),
        };
        let recovered = self.recover(docker, &config, recovery, target, &prepared).await;
        let report = match recovered {
            Ok(report) => report,
            Err(e) => {
                let _ = docker.remove_volume(&volume).await;
                let _ = mark(None);
                let back = if was_running {
                    match self.start(manager, Some(id.as_str()), timeout).await {
                        Ok(_) => "it runs on its previous data again, untouched".to_string(),
                        Err(e) => format!(
                            "its previous data is untouched, but it did not start again ({e}): `pgs start {id}`"
                        ),
                    }
                } else {
                    "its previous data is untouched".to_string()
                };
                return Err(Error::step(format!("the restore of {id} failed ({back})"), e));
            }
        };

        let switch = |data: Option<String>, previous: Option<String>| {
            self.state.update(|_, tenants, _| -> Result<Tenant> {
                let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
                t.data_volume = data;
                t.previous_data_volume = previous;
                t.restoring = None;
                Ok(t.clone())
            })
        };
        let now_on = switch(Some(volume.clone()), Some(previous.clone()))?;
        if let Err(e) = self.recreate(docker, &config, &id, &now_on, timeout).await {
            // Back to the data it had: the restored volume stays for inspection.
            let back = switch(tenant.data_volume.clone(), tenant.previous_data_volume.clone())?;
            let _ = self.recreate(docker, &config, &id, &back, timeout).await;
            return Err(Error::step(
                format!(
                    "{id} did not start on the restored data; it runs on its previous data again, and the restored \
                     volume {volume} is kept for inspection (`pgs info {id}` lists it)"
                ),
                e,
            ));
        }
        if let Err(e) = self.engine(docker, &id, Command::Check, SHORT_OPERATION).await {
            crate::progress::note(&format!("{id} is restored but archiving does not work yet: {e}"));
        }
        Ok(RestoreReport {
            id: id.to_string(),
            volume,
            previous_volume: previous,
            seconds: started.elapsed().as_secs(),
            plan: prepared.plan.why.clone(),
            events: report.events,
        })
    }
}
