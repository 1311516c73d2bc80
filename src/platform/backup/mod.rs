//! `pgs backup enable|run|list|verify`, `pgs restore` and the data of `pgs clone`: backups through
//! the engine in [`crate::backup`], driven through Docker. A restore never destroys the only copy
//! of the data: it recovers into a new volume and keeps the previous one until the operator drops
//! it. Drills and clones recover in one-off containers, the repository read-only (and without
//! network, unless the repository is in S3).
//!
//! By verb: [`run`] (enable, run, what is due), [`list`], and [`restore`], [`clone`] and
//! [`drill`], which share [`recover`] (a recovery planned from the repository and watched in a
//! one-off container). This file holds what every verb needs: the derived image, the container
//! settings for archiving, the engine's commands in the tenant's container, archiving's status.

mod clone;
mod drill;
mod list;
mod recover;
mod restore;
mod run;

pub use list::human_bytes;
pub use restore::RestoreReport;
pub use run::DueResult;

use std::collections::HashMap;
use std::time::Duration;

use super::{Error, Platform, Result, fail};
use crate::backup::Archiving;
use crate::backup::pgbackrest::{self, Command};
use crate::docker::Docker;
use crate::docker::run::Output;
use crate::state::{Tenant, TenantId, backup_volume_name, container_name};

/// How long one backup or restore may take.
const LONG_OPERATION: Duration = Duration::from_secs(6 * 3600);
/// pgBackRest's exit code when another of its processes holds the lock it needs.
const LOCK_BUSY: i64 = 50;
/// How many times an engine command is tried while the lock is busy (a second apart).
const LOCK_ATTEMPTS: u32 = 10;
/// How long a quick engine command (info, check, stanza-create) may take.
const SHORT_OPERATION: Duration = Duration::from_secs(300);

/// What a tenant container with backups needs beyond the plain one.
pub(in crate::platform) struct BackupContainer {
    /// The image derived with the engine.
    pub image: String,
    /// The repository volume and its mount point.
    pub volumes: Vec<(String, String)>,
    /// The engine's configuration.
    pub env: Vec<String>,
    /// Files to put into the container before it starts: (directory, tar archive).
    pub uploads: Vec<(String, Vec<u8>)>,
    /// `postgres` arguments that turn archiving on.
    pub postgres_args: Vec<String>,
    /// The container must reach the repository over the network (S3).
    pub egress: bool,
}

/// How containers reach a tenant's repository.
struct RepoAccess {
    /// The engine's environment.
    env: Vec<String>,
    /// The repository volume and its mount point (a local repository).
    volume: Option<(String, String)>,
    /// Files to upload (an S3 repository's keys and passphrase).
    uploads: Vec<(String, Vec<u8>)>,
    /// The network a one-off container needs to reach it (`None` for a local repository: such
    /// containers get no network at all).
    network: Option<String>,
}

impl Platform {
    /// The image a tenant with backups runs: `base` with the engine, derived once per base image.
    async fn backup_image(&self, docker: &Docker, base: &str) -> Result<String> {
        let Some(base_id) = docker.image_id(base).await? else {
            fail!(Invalid, "image {base} is not available locally");
        };
        let tag = pgbackrest::derived_tag(&base_id);
        if docker.image_id(&tag).await?.is_none() {
            crate::progress::note(&format!(
                "deriving {tag} from {base} with pgBackRest (once per base image; installs it with the image's package manager if missing)"
            ));
            let labels = HashMap::from([
                (crate::docker::LABEL_MANAGED.to_string(), "true".to_string()),
                ("io.pgs.backup-base".to_string(), base.to_string()),
            ]);
            docker.build(&tag, &pgbackrest::dockerfile(base), labels).await?;
        }
        Ok(tag)
    }

    /// Makes sure engine `node` of another node has the image a tenant of image `base` runs with
    /// backups: derived on `manager`'s engine once, then copied (there is no registry, and the
    /// node may not reach a package mirror).
    pub(in crate::platform) async fn copy_backup_image(
        &self,
        manager: &Docker,
        node: &Docker,
        base: &str,
    ) -> Result<()> {
        let tag = self.backup_image(manager, base).await?;
        if !node.has_image(&tag).await? {
            let step = crate::progress::step(&format!("copying {tag} to the tenant's node"));
            manager.copy_image(&tag, node).await?;
            drop(step);
        }
        Ok(())
    }

    /// The repository volume of tenant `id` and where its containers mount it: a local
    /// repository's (none for S3, or without backups).
    pub(in crate::platform) fn repository_volume(&self, id: &TenantId) -> Result<Option<(String, String)>> {
        let config = self.state.config()?;
        Ok(config
            .backups
            .filter(|b| b.s3.is_none())
            .map(|_| (backup_volume_name(id), pgbackrest::REPO_MOUNT.to_string())))
    }

    /// How a container of tenant `id` reaches its repository, for the data directory `pgdata`.
    fn repo_access(&self, id: &TenantId, pgdata: &str) -> Result<RepoAccess> {
        let config = self.state.config()?;
        match config.backups.as_ref().and_then(|b| b.s3.as_ref()) {
            None => Ok(RepoAccess {
                env: pgbackrest::env(pgdata, pgbackrest::Repo::Local),
                volume: Some((backup_volume_name(id), pgbackrest::REPO_MOUNT.to_string())),
                uploads: Vec::new(),
                network: None,
            }),
            Some(s3) => {
                let secrets = self.state.backup_secrets()?.ok_or_else(|| {
                    Error::Invalid(
                        "the S3 backup keys are missing from the state dir: run `pgs setup --backups s3 ...` again"
                            .into(),
                    )
                })?;
                let path = format!("/{}/{id}", config.instance);
                let file = pgbackrest::secrets_config(&secrets);
                Ok(RepoAccess {
                    env: pgbackrest::env(pgdata, pgbackrest::Repo::S3 { s3, path: &path }),
                    volume: None,
                    // Docker's default bridge: out to the store, no tenant network.
                    network: Some("bridge".into()),
                    uploads: vec![(
                        pgbackrest::CONFIG_DIR.to_string(),
                        crate::docker::archive::Archive::single(pgbackrest::CONFIG_FILE, file.as_bytes(), 0o644)?,
                    )],
                })
            }
        }
    }

    /// The container settings of a tenant with backups; creates its repository volume if needed.
    pub(in crate::platform) async fn backup_settings(
        &self,
        docker: &Docker,
        id: &TenantId,
        tenant: &Tenant,
        labels: &HashMap<String, String>,
    ) -> Result<BackupContainer> {
        let image = self.backup_image(docker, &tenant.image).await?;
        let pgdata = docker.ensure_image(&tenant.image).await?.pgdata();
        let access = self.repo_access(id, &pgdata)?;
        if let Some((volume, _)) = &access.volume
            && !docker.volume_exists(volume).await?
        {
            docker.create_volume(volume, labels).await?;
        }
        Ok(BackupContainer {
            image,
            egress: access.network.is_some(),
            volumes: access.volume.into_iter().collect(),
            env: access.env,
            uploads: access.uploads,
            postgres_args: pgbackrest::postgres_args(),
        })
    }

    /// Runs an engine command in the tenant's running container; an error carries its output.
    async fn engine(&self, docker: &Docker, id: &TenantId, cmd: Command, timeout: Duration) -> Result<Output> {
        let (argv, needs_db) = pgbackrest::command(cmd);
        let mut env = Vec::new();
        if needs_db {
            let secrets = self.state.secrets(id)?.filter(|s| !s.superuser_password.is_empty()).ok_or_else(|| {
                Error::Invalid(format!(
                    "pgs does not know the superuser password of {id} (an adopted tenant?): backups need it"
                ))
            })?;
            env.push(format!("PGPASSWORD={}", secrets.superuser_password));
        }
        // pgBackRest exits 50 when another of its processes holds the lock, e.g. the
        // archive_command pushing a segment while the stanza is made: wait and retry a few times.
        let mut attempts = 0;
        let out = loop {
            let out = docker.exec(&container_name(id), "postgres", &argv, &env, timeout).await?;
            attempts += 1;
            if out.code == LOCK_BUSY && attempts < LOCK_ATTEMPTS {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            break out;
        };
        if !out.success() {
            let what = argv[..2].join(" ");
            return Err(Error::Failing(format!("{what} failed for {id} (exit {}):\n{}", out.code, out.tail(15))));
        }
        Ok(out)
    }

    /// How the tenant's WAL archiving is doing (it must be running).
    pub(in crate::platform) async fn archiving(&self, docker: &Docker, id: &TenantId) -> Result<Archiving> {
        let out = self
            .superuser_psql(docker, id, &["-At", "-F", "|", "-c", crate::backup::ARCHIVER_SQL], SHORT_OPERATION)
            .await
            .map_err(|e| Error::step(format!("cannot read {id}'s archiver status"), e))?;
        Ok(crate::backup::parse_archiver(&out.stdout)?)
    }

    /// Fails with what is wrong if the tenant's WAL archiving is failing: its backups could
    /// not be restored to now, and a backup would wait for WAL that never arrives.
    async fn require_archiving(&self, docker: &Docker, id: &TenantId) -> Result<()> {
        let a = self.archiving(docker, id).await?;
        if !a.ok {
            fail!(
                Failing,
                "WAL archiving of {id} is FAILING since {} UTC ({} failed attempts, last segment {}): is its backup \
                 volume pgs-{id}-backup full or unwritable? `docker logs pgs-{id}` shows pgBackRest's error",
                a.last_failed_at.as_deref().unwrap_or("?"),
                a.failed_count,
                a.last_failed_wal.as_deref().unwrap_or("?")
            );
        }
        Ok(())
    }

    /// Creates the tenant's stanza and proves archiving works (a WAL switch reaches the
    /// repository).
    pub(in crate::platform) async fn init_backups(&self, docker: &Docker, id: &TenantId) -> Result<()> {
        let _step = crate::progress::step(&format!("setting up backups for {id}"));
        self.engine(docker, id, Command::StanzaCreate, SHORT_OPERATION).await?;
        self.engine(docker, id, Command::Check, SHORT_OPERATION).await?;
        Ok(())
    }

    /// The tenant, which must have backups.
    pub(in crate::platform) fn backed_up(&self, id: &str) -> Result<(crate::state::Config, TenantId, Tenant)> {
        let (config, id, tenant) = self.tenant(id)?;
        if !tenant.backups {
            fail!(Invalid, "{id} has no backups: `pgs backup enable {id}` turns them on (it restarts the tenant)");
        }
        Ok((config, id, tenant))
    }
}
