//! The data of `pgs clone`: a new tenant's volume filled from another's backups.

use super::recover::Recovery;
use crate::backup::Target;
use crate::backup::pgbackrest::{self, Purpose};
use crate::docker::Docker;
use crate::platform::{Platform, Result, fail};
use crate::state::{Tenant, TenantId};

impl Platform {
    /// Fills the (new) data volume of tenant `id` with a copy of `source` at `target`, from
    /// `source`'s backups: restored and recovered in a one-off container (no network for a local
    /// repository), with the source's repository read-only, then the role and database renamed
    /// to `id` and given the new tenant's passwords. The source keeps running untouched.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::platform) async fn fill_from_backup(
        &self,
        docker: &Docker,
        config: &crate::state::Config,
        id: &TenantId,
        tenant: &Tenant,
        secrets: &crate::state::Secrets,
        source: &str,
        target: &Target,
    ) -> Result<()> {
        let (_, source_id, source) = self.backed_up(source)?;
        if source.node != tenant.node {
            fail!(Invalid, "a clone of {source_id} is made on the node it lives on, where its backups are");
        }
        let prepared = self.prepare(docker, config, &source_id, &source, target).await?;
        crate::progress::note(&format!("copying {source_id} from {}", prepared.plan.why));
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        let volume = tenant.data_volume(id);
        docker.create_volume(&volume, &labels).await?;
        let (dir, file) = pgbackrest::CLONE_SQL.rsplit_once('/').unwrap_or(("/tmp", pgbackrest::CLONE_SQL));
        let recovery = Recovery {
            purpose: Purpose::Clone,
            source: (&source_id, &source),
            id,
            volume: &volume,
            uploads: vec![(dir.to_string(), crate::platform::create::clone_archive(&source_id, id, secrets, file)?)],
        };
        self.recover(docker, config, recovery, target, &prepared)
            .await
            .map_err(|e| crate::platform::Error::step(format!("cloning {source_id} failed"), e))?;
        Ok(())
    }
}
