//! `pgs backup enable`, `pgs backup run` and what is due for the timer (`--due`).

use std::time::Duration;

use serde::Serialize;

use super::LONG_OPERATION;
use crate::backup::pgbackrest::Command;
use crate::backup::{Backup, Kind};
use crate::docker::Docker;
use crate::platform::{Error, Platform, Result, fail, now};
use crate::state::{BackupRecord, Drill, Tenant, TenantId};

/// A full backup is due this long after the last one.
pub(super) const FULL_EVERY_SECS: i64 = 7 * 24 * 3600;
/// A differential backup is due this long after the last backup of any kind.
pub(super) const DIFF_EVERY_SECS: i64 = 24 * 3600;
/// A restore drill is due this long after the last one (and after every new full backup).
pub(super) const DRILL_EVERY_SECS: u64 = 7 * 24 * 3600;

/// What `pgs backup run --due` did for one tenant.
#[derive(Debug, Clone, Serialize)]
pub struct DueResult {
    /// Tenant id.
    pub id: String,
    /// The backup taken, if one was due and succeeded.
    pub backup: Option<Backup>,
    /// The restore drill run, if one was due.
    pub drill: Option<Drill>,
    /// Why it failed, if it did (a backup that failed, or a drill that did not prove it).
    pub error: Option<String>,
}

/// Which backup is due, given the finish times of the last full one and of the last of any kind.
pub(super) fn due(now: i64, last_full: Option<i64>, last_any: Option<i64>) -> Option<Kind> {
    match (last_full, last_any) {
        (None, _) => Some(Kind::Full),
        (Some(full), _) if now - full >= FULL_EVERY_SECS => Some(Kind::Full),
        (_, Some(any)) if now - any >= DIFF_EVERY_SECS => Some(Kind::Diff),
        _ => None,
    }
}

impl Platform {
    /// Turns backups on for tenants created before (one, or all with `None`): their containers
    /// are recreated on the same data with archiving on (a restart), then a first full backup
    /// is taken.
    pub async fn backup_enable(&self, docker: &Docker, id: Option<&str>, timeout: Duration) -> Result<Vec<TenantId>> {
        let config = self.state.config()?;
        if config.backups.is_none() {
            fail!(Invalid, "backups are not set up: run `pgs setup --backups local` first");
        }
        let mut enabled = Vec::new();
        let manager = docker;
        for id in self.ids(id)? {
            let tenant = self.state.update(|_, tenants, _| -> Result<Option<Tenant>> {
                let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
                if t.backups {
                    return Ok(None);
                }
                if t.ha.is_some() {
                    // Both copies would need recreating, one after the other: not done here.
                    fail!(
                        Invalid,
                        "tenant {id} has high availability: turn its backups on without it (`pgs ha disable {id}`, \
                         `pgs backup enable {id}`, `pgs ha enable {id}`)"
                    );
                }
                t.backups = true;
                Ok(Some(t.clone()))
            })?;
            let Some(tenant) = tenant else { continue };
            let engine = self.engine_of(manager, &config, &tenant).await?;
            let docker = &engine;
            crate::progress::note(&format!("restarting {id} with WAL archiving on"));
            let result = async {
                if tenant.node.is_some() {
                    self.copy_backup_image(manager, docker, &tenant.image).await?;
                }
                self.recreate(docker, &config, &id, &tenant, timeout).await?;
                self.init_backups(docker, &id).await?;
                self.backup_run(manager, id.as_str(), Kind::Full).await.map(|_| ())
            }
            .await;
            if let Err(e) = result {
                // Leave the tenant as it was: no archiving, serving from the same data.
                let tenant = self.state.update(|_, tenants, _| -> Result<Tenant> {
                    let t = tenants.tenants.get_mut(&id).ok_or_else(|| Error::NoTenant(id.clone()))?;
                    t.backups = false;
                    Ok(t.clone())
                })?;
                let _ = self.recreate(docker, &config, &id, &tenant, timeout).await;
                return Err(e);
            }
            enabled.push(id);
        }
        Ok(enabled)
    }

    /// Takes a backup now and returns it; the attempt is recorded either way (`pgs info`, the
    /// gateway's metrics).
    pub async fn backup_run(&self, docker: &Docker, id: &str, kind: Kind) -> Result<Backup> {
        let (config, id, tenant) = self.backed_up(id)?;
        // A suspended tenant is woken for its backup and suspended again after it (unless a
        // client came meanwhile).
        if tenant.suspended {
            crate::progress::note(&format!("{id} is suspended: waking it for the backup"));
            // It stays marked suspended meanwhile: the controller leaves it alone, and a client
            // that comes is woken (which marks it awake) and keeps it running.
            self.wake(docker, &id, Duration::from_secs(120)).await?;
        }
        // One on another node is woken there, and stopped again after.
        let woken = self.wake_on_node(docker, &id, &tenant).await?;
        let result = match self.serving_engine(docker, &config, &id, &tenant).await {
            Ok(engine) => self.backup_now(&engine, &id, kind).await,
            Err(e) => Err(e),
        };
        if tenant.suspended && matches!(self.suspend(docker, &id, false).await, Ok(true)) {
            crate::progress::note(&format!("{id} is suspended again"));
        }
        if let Some(engine) = woken
            && let Err(e) = self.suspend_again_on_node(&engine, &id).await
        {
            crate::progress::note(&format!("{id} stays awake: {e}"));
        }
        result
    }

    pub(super) async fn backup_now(&self, docker: &Docker, id: &TenantId, kind: Kind) -> Result<Backup> {
        let id = id.clone();
        let result: Result<Backup> = async {
            self.require_archiving(docker, &id).await?;
            let step = crate::progress::step(&format!("{} backup of {id}", kind.as_str()));
            self.engine(docker, &id, Command::Backup(kind), LONG_OPERATION).await?;
            drop(step);
            let repo = self.backup_list(docker, id.as_str()).await?;
            repo.backups
                .last()
                .cloned()
                .ok_or_else(|| Error::Failing(format!("the backup of {id} finished but is not listed")))
        }
        .await;
        let record = BackupRecord {
            at: now(),
            kind: kind.as_str().to_string(),
            label: result.as_ref().ok().map(|b| b.label.clone()),
            error: result.as_ref().err().map(|e| e.to_string()),
        };
        self.state.update(|_, tenants, _| -> Result<()> {
            if let Some(t) = tenants.tenants.get_mut(&id) {
                if record.error.is_none() {
                    t.last_backup_ok_at = Some(record.at);
                }
                t.last_backup = Some(record);
            }
            Ok(())
        })?;
        result
    }

    /// Takes the backups that are due (full weekly, diff daily) for every tenant with backups,
    /// then the restore drills that are due (weekly, and after each new full backup). A failure
    /// for one tenant is reported in its result and the others still run.
    pub async fn backup_due(&self, docker: &Docker) -> Result<Vec<DueResult>> {
        let config = self.state.config()?;
        let tenants = self.state.tenants()?;
        let mut results = Vec::new();
        for (id, tenant) in tenants.tenants.iter().filter(|(_, t)| t.backups && t.phase == crate::state::Phase::Ready) {
            let mut result = DueResult { id: id.to_string(), backup: None, drill: None, error: None };
            let backup = async {
                self.require_archiving(&self.serving_engine(docker, &config, id, tenant).await?, id).await?;
                let repo = self.backup_list(docker, id.as_str()).await?;
                let last =
                    |full: bool| repo.backups.iter().filter(|b| !full || b.kind == "full").map(|b| b.finished).max();
                match due(now() as i64, last(true), last(false)) {
                    Some(kind) => self.backup_run(docker, id.as_str(), kind).await.map(Some),
                    None => Ok(None),
                }
            }
            .await;
            match backup {
                Ok(b) => result.backup = b,
                Err(e) => result.error = Some(e.to_string()),
            }
            let new_full = result.backup.as_ref().is_some_and(|b| b.kind == "full");
            let drill_due = tenant.last_drill.as_ref().is_none_or(|d| now().saturating_sub(d.at) >= DRILL_EVERY_SECS);
            if result.error.is_none() && (new_full || drill_due) {
                match self.backup_verify(docker, id.as_str(), None).await {
                    Ok(drill) => {
                        result.error = drill.error.as_ref().map(|e| format!("the restore drill failed: {e}"));
                        result.drill = Some(drill);
                    }
                    Err(e) => result.error = Some(format!("the restore drill could not run: {e}")),
                }
            }
            results.push(result);
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn full_weekly_diff_daily() {
        let day = 24 * 3600;
        assert_eq!(due(100 * day, None, None), Some(Kind::Full));
        assert_eq!(due(100 * day, Some(99 * day), Some(99 * day)), Some(Kind::Diff));
        assert_eq!(due(100 * day, Some(99 * day), Some(100 * day - 60)), None);
        assert_eq!(due(100 * day, Some(93 * day), Some(100 * day - 60)), Some(Kind::Full));
    }
}
