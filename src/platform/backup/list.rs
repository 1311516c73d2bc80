//! `pgs backup list`: the backups, the archived WAL and the restorable window.

use crate::backup::Repository;
use crate::backup::plan::Window;
use crate::docker::Docker;
use crate::platform::{Platform, Result, now};
use crate::state::container_name;

impl Platform {
    /// The tenant's repository: backups, archived WAL and the restorable window. Asked of a
    /// stopped tenant, it reads the repository in a one-off container.
    pub async fn backup_list(&self, docker: &Docker, id: &str) -> Result<Repository> {
        let (config, id, tenant) = self.backed_up(id)?;
        let engine = self.serving_engine(docker, &config, &id, &tenant).await?;
        let docker = &engine;
        let running = docker.container_status(&container_name(&id)).await? == crate::docker::tenant::Status::Running;
        let (mut repo, archive) = self.survey(docker, &config, &id, &tenant).await?;
        // A running tenant whose archiving works can be restored to now: a restore archives what
        // is not archived yet first.
        let archiving_ok = running && self.archiving(docker, &id).await.is_ok_and(|a| a.ok);
        let window = Window::of(&repo, &archive, archiving_ok.then(|| now() as i64));
        repo.latest_restorable = window.map(|w| crate::backup::utc(w.latest));
        Ok(repo)
    }
}

/// Bytes as B, kB, MB, GB (powers of 1024, one decimal).
pub fn human_bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let (mut value, mut unit) = (n as f64, 0);
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", units[unit]) }
}
