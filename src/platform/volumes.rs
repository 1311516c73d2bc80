//! A tenant's data volumes: the one it runs on, and those restores left behind (the data a
//! restore replaced, a restore that was rolled back). `pgs info` lists them, `pgs prune-volumes`
//! removes the ones not in use, and `pgs create --adopt` finds the one a removed tenant last
//! ran on.

use serde::Serialize;

use super::{Platform, Result, fail};
use crate::docker::Docker;
use crate::state::{Tenant, TenantId, volume_name};

/// What a data volume is to its tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VolumeRole {
    /// The tenant runs on it.
    InUse,
    /// The data the last restore replaced.
    Previous,
    /// A restore is filling it (or was killed while it did: the next restore removes it).
    Restoring,
    /// Nothing refers to it: the data of an earlier restore, or a restored copy kept for
    /// inspection after the tenant did not start on it.
    Unused,
}

impl std::fmt::Display for VolumeRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            VolumeRole::InUse => "in use",
            VolumeRole::Previous => "previous (before the last restore)",
            VolumeRole::Restoring => "being restored into",
            VolumeRole::Unused => "unused",
        })
    }
}

/// One data volume of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DataVolume {
    /// Volume name (`pgs-TENANT-data`, `pgs-TENANT-data-UNIXTIME-XXXX`).
    pub name: String,
    /// What it is to the tenant.
    pub role: VolumeRole,
}

/// Whether `name` is a data volume of tenant `id`: `pgs-ID-data` or a restore's
/// `pgs-ID-data-UNIXTIME-XXXX`.
fn is_data_volume(id: &TenantId, name: &str) -> bool {
    let base = volume_name(id);
    name == base || name.strip_prefix(&base).is_some_and(|rest| rest.starts_with('-'))
}

/// The volume a removed tenant last ran on, among `names`: the one recorded at its removal if
/// it is there; else the newest restore's (their names carry the time), else `pgs-ID-data`.
pub(super) fn last_used(id: &TenantId, recorded: Option<&str>, names: &[String]) -> Option<String> {
    if let Some(r) = recorded.filter(|r| names.iter().any(|n| n == r)) {
        return Some(r.to_string());
    }
    let restored_at = |n: &str| -> Option<u64> {
        n.strip_prefix(&volume_name(id))?.strip_prefix('-')?.split('-').next()?.parse().ok()
    };
    names.iter().filter(|n| is_data_volume(id, n)).max_by_key(|n| restored_at(n).unwrap_or(0)).cloned()
}

impl Platform {
    /// Every data volume of tenant `id` on its node's engine `docker`: one Docker call.
    pub(super) async fn data_volumes(
        &self,
        docker: &Docker,
        instance: &str,
        id: &TenantId,
        tenant: Option<&Tenant>,
    ) -> Result<Vec<DataVolume>> {
        let labels = crate::docker::tenant::labels(instance, id.as_str());
        let mut volumes: Vec<DataVolume> = docker
            .volumes_labeled(&labels)
            .await?
            .into_iter()
            .filter(|name| is_data_volume(id, name))
            .map(|name| {
                let role = match tenant {
                    Some(t) if t.data_volume(id) == name => VolumeRole::InUse,
                    Some(t) if t.previous_data_volume.as_deref() == Some(name.as_str()) => VolumeRole::Previous,
                    Some(t) if t.restoring.as_deref() == Some(name.as_str()) => VolumeRole::Restoring,
                    _ => VolumeRole::Unused,
                };
                DataVolume { name, role }
            })
            .collect();
        // The first one, then restores' by time (their names carry it).
        volumes.sort_by(|a, b| (a.name.len(), &a.name).cmp(&(b.name.len(), &b.name)));
        Ok(volumes)
    }

    /// Removes tenant `id`'s data volumes that it does not run on (only `only`, when given):
    /// what restores left behind. Returns the names removed.
    pub async fn prune_volumes(&self, docker: &Docker, id: &str, only: Option<&str>) -> Result<Vec<String>> {
        let (config, id, tenant) = self.tenant(id)?;
        let engine = self.engine_of(docker, &config, &tenant).await?;
        let volumes = self.data_volumes(&engine, &config.instance, &id, Some(&tenant)).await?;
        if let Some(name) = only {
            match volumes.iter().find(|v| v.name == name) {
                None => fail!(Invalid, "{name} is not a data volume of {id}: `pgs info {id}` lists them"),
                Some(v) if v.role == VolumeRole::InUse => {
                    fail!(Invalid, "{id} runs on {name}: `pgs remove {id} --purge` deletes the tenant with its data")
                }
                Some(_) => {}
            }
        }
        let doomed: Vec<String> = volumes
            .into_iter()
            .filter(|v| v.role != VolumeRole::InUse && only.is_none_or(|o| o == v.name))
            .map(|v| v.name)
            .collect();
        for name in &doomed {
            engine.remove_volume(name).await?;
        }
        self.state.update(|_, tenants, _| -> Result<()> {
            if let Some(t) = tenants.tenants.get_mut(&id) {
                if t.previous_data_volume.as_ref().is_some_and(|p| doomed.contains(p)) {
                    t.previous_data_volume = None;
                }
                if t.restoring.as_ref().is_some_and(|r| doomed.contains(r)) {
                    t.restoring = None;
                }
            }
            Ok(())
        })?;
        Ok(doomed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_volume_last_used() {
        let id = TenantId::parse("t1").unwrap();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let all = names(&[
            "pgs-t1-data",
            "pgs-t1-data-1796462090-dxl3",
            "pgs-t1-data-1796462999-abcd",
            "pgs-t1-backup",
            "pgs-t10-data",
        ]);
        assert_eq!(last_used(&id, None, &all).as_deref(), Some("pgs-t1-data-1796462999-abcd"));
        assert_eq!(
            last_used(&id, Some("pgs-t1-data-1796462090-dxl3"), &all).as_deref(),
            Some("pgs-t1-data-1796462090-dxl3")
        );
        assert_eq!(last_used(&id, Some("gone"), &names(&["pgs-t1-data"])).as_deref(), Some("pgs-t1-data"));
        assert_eq!(last_used(&id, None, &names(&["pgs-t10-data", "pgs-t1-backup"])), None);
        assert!(!is_data_volume(&id, "pgs-t1-drill-1"));
    }
}
