//! `pgs backup enable|run|list|verify`, `pgs restore` and the data of `pgs clone`: backups through
//! the engine in [`crate::backup`], driven through Docker. A restore never destroys the only copy
//! of the data: it recovers into a new volume and keeps the previous one until the operator drops
//! it. Drills and clones recover in one-off containers, the repository read-only (and without
//! network, unless the repository is in S3).

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use super::lifecycle::STOP_GRACE_SECS;
use super::{Error, Platform, Result, fail, now};
use crate::backup::pgbackrest::{self, Command};
use crate::backup::{Archiving, Backup, Kind, Repository, Target};
use crate::docker::Docker;
use crate::docker::run::{OneOff, Output};
use crate::state::{BackupRecord, Drill, Tenant, TenantId, backup_volume_name, container_name, volume_name};

/// How long one backup or restore may take.
const LONG_OPERATION: Duration = Duration::from_secs(6 * 3600);
/// How long a quick engine command (info, check, stanza-create) may take.
const SHORT_OPERATION: Duration = Duration::from_secs(300);

/// What a tenant container with backups needs beyond the plain one.
pub(super) struct BackupContainer {
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

/// A full backup is due this long after the last one.
const FULL_EVERY_SECS: i64 = 7 * 24 * 3600;
/// A differential backup is due this long after the last backup of any kind.
const DIFF_EVERY_SECS: i64 = 24 * 3600;
/// A restore drill is due this long after the last one (and after every new full backup).
const DRILL_EVERY_SECS: u64 = 7 * 24 * 3600;

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
fn due(now: i64, last_full: Option<i64>, last_any: Option<i64>) -> Option<Kind> {
    match (last_full, last_any) {
        (None, _) => Some(Kind::Full),
        (Some(full), _) if now - full >= FULL_EVERY_SECS => Some(Kind::Full),
        (_, Some(any)) if now - any >= DIFF_EVERY_SECS => Some(Kind::Diff),
        _ => None,
    }
}

/// Refuses a target the repository cannot reach, before anything is touched: no backup at all,
/// an unknown label, or a time before the end of every backup.
fn check_target(id: &TenantId, repo: &Repository, target: &Target) -> Result<()> {
    if repo.backups.is_empty() {
        fail!(Invalid, "{id} has no backup yet: `pgs backup run {id}` takes one");
    }
    match target {
        Target::Backup(label) if !repo.backups.iter().any(|b| &b.label == label) => {
            fail!(Invalid, "{id} has no backup {label}: `pgs backup list {id}` shows them");
        }
        // A restore to a time starts from a backup that had finished before it.
        Target::Time { at, unix } if !repo.backups.iter().any(|b| b.finished < *unix) => {
            let earliest = repo.backups.iter().map(|b| b.finished + 1).min().unwrap_or_default();
            fail!(
                Invalid,
                "no backup of {id} had finished by {at}: the earliest time it can be restored to is {} (Unix time {earliest})",
                crate::backup::utc(earliest)
            );
        }
        _ => Ok(()),
    }
}

/// What `pgs restore` did.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    /// Tenant id.
    pub id: String,
    /// The data volume the tenant now runs on.
    pub volume: String,
    /// The data volume it ran on before, kept: drop it with `docker volume rm` when satisfied.
    pub previous_volume: String,
    /// Seconds the restore took, recovery included.
    pub seconds: u64,
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
    pub(super) async fn copy_backup_image(&self, manager: &Docker, node: &Docker, base: &str) -> Result<()> {
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
    pub(super) fn repository_volume(&self, id: &TenantId) -> Result<Option<(String, String)>> {
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
                        super::create::file_archive(pgbackrest::CONFIG_FILE, &file, 0o644)?,
                    )],
                })
            }
        }
    }

    /// The container settings of a tenant with backups; creates its repository volume if needed.
    pub(super) async fn backup_settings(
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
        let out = docker.exec(&container_name(id), "postgres", &argv, &env, timeout).await?;
        if !out.success() {
            let what = argv[..2].join(" ");
            return Err(anyhow::anyhow!("{what} failed for {id} (exit {}):\n{}", out.code, out.tail(15)).into());
        }
        Ok(out)
    }

    /// How the tenant's WAL archiving is doing (it must be running).
    pub(super) async fn archiving(&self, docker: &Docker, id: &TenantId) -> Result<Archiving> {
        let secrets = self.state.secrets(id)?.filter(|s| !s.superuser_password.is_empty()).ok_or_else(|| {
            Error::Invalid(format!("pgs does not know the superuser password of {id} (an adopted tenant?)"))
        })?;
        let argv: Vec<String> = [
            "psql",
            "-h",
            crate::state::CONTAINER_SOCKET_DIR,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-XAt",
            "-F",
            "|",
            "-c",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([crate::backup::ARCHIVER_SQL.to_string()])
        .collect();
        let env = [format!("PGPASSWORD={}", secrets.superuser_password)];
        let out = docker.exec(&container_name(id), "postgres", &argv, &env, SHORT_OPERATION).await?;
        if !out.success() {
            return Err(anyhow::anyhow!("cannot read {id}'s archiver status:\n{}", out.tail(5)).into());
        }
        crate::backup::parse_archiver(&out.stdout).map_err(|e| anyhow::anyhow!("{e}").into())
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

    /// If the tenant runs, switches WAL and waits until the segment is archived, so that
    /// everything committed until now is in the repository. A failure is reported, not fatal:
    /// what the repository has can still be restored.
    async fn archive_newest(&self, docker: &Docker, id: &TenantId) -> Result<()> {
        if docker.container_status(&container_name(id)).await? == crate::docker::tenant::Status::Running
            && let Err(e) = self.engine(docker, id, Command::Check, SHORT_OPERATION).await
        {
            crate::progress::note(&format!(
                "could not archive the newest WAL of {id} ({e}); using what its repository has"
            ));
        }
        Ok(())
    }

    /// Creates the tenant's stanza and proves archiving works (a WAL switch reaches the
    /// repository).
    pub(super) async fn init_backups(&self, docker: &Docker, id: &TenantId) -> Result<()> {
        let _step = crate::progress::step(&format!("setting up backups for {id}"));
        self.engine(docker, id, Command::StanzaCreate, SHORT_OPERATION).await?;
        self.engine(docker, id, Command::Check, SHORT_OPERATION).await?;
        Ok(())
    }

    /// The tenant, which must have backups.
    pub(super) fn backed_up(&self, id: &str) -> Result<(crate::state::Config, TenantId, Tenant)> {
        let (config, id, tenant) = self.tenant(id)?;
        if !tenant.backups {
            fail!(Invalid, "{id} has no backups: `pgs backup enable {id}` turns them on (it restarts the tenant)");
        }
        Ok((config, id, tenant))
    }

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
        let result = match self.engine_of(docker, &config, &tenant).await {
            Ok(engine) => self.backup_now(&engine, &id, kind).await,
            Err(e) => Err(e),
        };
        if tenant.suspended && matches!(self.suspend(docker, &id, false).await, Ok(true)) {
            crate::progress::note(&format!("{id} is suspended again"));
        }
        result
    }

    async fn backup_now(&self, docker: &Docker, id: &TenantId, kind: Kind) -> Result<Backup> {
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
                .ok_or_else(|| anyhow::anyhow!("the backup of {id} finished but is not listed").into())
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
                self.require_archiving(&self.engine_of(docker, &config, tenant).await?, id).await?;
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
                match self.backup_verify(docker, id.as_str()).await {
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

    /// Fills the (new) data volume of tenant `id` with a copy of `source` at `target`, from
    /// `source`'s backups: restored and recovered in a one-off container (no network for a local
    /// repository), with the source's repository read-only, then the role and database renamed
    /// to `id` and given the new tenant's passwords. The source keeps running untouched.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn fill_from_backup(
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
        self.archive_newest(docker, &source_id).await?;
        let repo = self.backup_list(docker, source_id.as_str()).await?;
        check_target(&source_id, &repo, target)?;
        let image = self.backup_image(docker, &source.image).await?;
        let pgdata = docker.ensure_image(&source.image).await?.pgdata();
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        let volume = tenant.data_volume(id);
        docker.create_volume(&volume, &labels).await?;
        let (dir, file) = pgbackrest::CLONE_SQL.rsplit_once('/').unwrap_or(("/tmp", pgbackrest::CLONE_SQL));
        let access = self.repo_access(&source_id, &pgdata)?;
        let mut uploads = access.uploads;
        uploads.push((dir.to_string(), super::create::clone_archive(&source_id, id, secrets, file)?));
        let spec = OneOff {
            name: format!("{}-clone", container_name(id)),
            image,
            command: pgbackrest::clone_command(target, &pgdata),
            user: Some("root".into()),
            env: access.env,
            volumes: vec![(volume, tenant.data_mount.clone())],
            read_only_volumes: access.volume.into_iter().collect(),
            labels,
            uploads,
            network: access.network,
        };
        let step = crate::progress::step(&format!("restoring a copy of {source_id} for {id}"));
        let out = docker.run_once(&spec, LONG_OPERATION).await?;
        drop(step);
        if !out.success() {
            return Err(anyhow::anyhow!("cloning {source_id} failed (exit {}):\n{}", out.code, out.tail(15)).into());
        }
        Ok(())
    }

    /// The restore drill: restores the latest backup and all archived WAL into a throwaway
    /// one-off container (the repository read-only; no network for a local one), lets PostgreSQL recover, checks
    /// every database, records the result in the state dir and removes everything it made. The
    /// tenant keeps running. Returns the record; an `Err` only when the drill could not run.
    pub async fn backup_verify(&self, docker: &Docker, id: &str) -> Result<Drill> {
        let started = std::time::Instant::now();
        let (config, id, tenant) = self.backed_up(id)?;
        // Where the tenant and its repository are.
        let engine = self.engine_of(docker, &config, &tenant).await?;
        let docker = &engine;
        self.archive_newest(docker, &id).await?;
        let image = self.backup_image(docker, &tenant.image).await?;
        let pgdata = docker.ensure_image(&tenant.image).await?.pgdata();
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        let scratch = format!("pgs-{id}-drill-{}", now());
        let access = self.repo_access(&id, &pgdata)?;
        docker.create_volume(&scratch, &labels).await?;
        let spec = OneOff {
            name: format!("{}-drill", container_name(&id)),
            image,
            command: pgbackrest::drill_command(&pgdata),
            user: Some("root".into()),
            env: access.env,
            volumes: vec![(scratch.clone(), tenant.data_mount.clone())],
            read_only_volumes: access.volume.into_iter().collect(),
            labels,
            uploads: access.uploads,
            network: access.network,
        };
        let step = crate::progress::step(&format!("restore drill for {id}: restore, recover, check"));
        let ran = docker.run_once(&spec, LONG_OPERATION).await;
        drop(step);
        let _ = docker.remove_volume(&scratch).await;
        let out = ran?;
        let report: Vec<&str> = out.stdout.lines().filter_map(|l| l.trim().strip_prefix("drill: ")).collect();
        let failure = match out.code {
            0 => None,
            2 => Some(format!("the restore failed:\n{}", out.tail(12))),
            3 => Some(format!("PostgreSQL did not recover the restored data:\n{}", out.tail(12))),
            4 => Some(format!("a check of the restored data failed:\n{}", out.tail(12))),
            code => Some(format!("the drill container exited {code}:\n{}", out.tail(12))),
        };
        let drill = Drill {
            at: now(),
            ok: failure.is_none(),
            seconds: started.elapsed().as_secs(),
            report: report.iter().map(|s| s.to_string()).collect(),
            error: failure,
        };
        let recorded = drill.clone();
        self.state.update(|_, tenants, _| -> Result<()> {
            if let Some(t) = tenants.tenants.get_mut(&id) {
                t.last_drill = Some(recorded);
            }
            Ok(())
        })?;
        Ok(drill)
    }

    /// The tenant's repository: backups and archived WAL.
    /// Asked of a stopped tenant, it reads the repository in a one-off container.
    pub async fn backup_list(&self, docker: &Docker, id: &str) -> Result<Repository> {
        let (config, id, tenant) = self.backed_up(id)?;
        let engine = self.engine_of(docker, &config, &tenant).await?;
        let docker = &engine;
        let running = docker.container_status(&container_name(&id)).await? == crate::docker::tenant::Status::Running;
        let out = if running {
            self.engine(docker, &id, Command::Info, SHORT_OPERATION).await?
        } else {
            let pgdata = docker.ensure_image(&tenant.image).await?.pgdata();
            let access = self.repo_access(&id, &pgdata)?;
            let spec = OneOff {
                name: format!("{}-info", container_name(&id)),
                image: self.backup_image(docker, &tenant.image).await?,
                command: pgbackrest::command(Command::Info).0,
                user: Some("postgres".into()),
                env: access.env,
                read_only_volumes: access.volume.into_iter().collect(),
                labels: crate::docker::tenant::labels(&config.instance, id.as_str()),
                uploads: access.uploads,
                network: access.network,
                ..Default::default()
            };
            docker.run_once(&spec, SHORT_OPERATION).await?
        };
        let mut repo = pgbackrest::parse_info(&out.stdout).map_err(|e| anyhow::anyhow!("{e}"))?;
        if running {
            repo.latest_restorable = self.archiving(docker, &id).await.ok().and_then(|a| a.last_archived_at);
        }
        // At least the end of the newest backup (a server just restored has no archiver history).
        if repo.latest_restorable.is_none() {
            repo.latest_restorable = repo.backups.iter().map(|b| b.finished).max().map(crate::backup::utc);
        }
        Ok(repo)
    }

    /// Restores a tenant to `target`: archives what is not archived yet, stops the tenant,
    /// restores into a new data volume in a one-off container, starts the tenant on it
    /// (PostgreSQL recovers, then promotes) and waits until it accepts logins. If anything fails
    /// the tenant is started again on its previous data, untouched.
    pub async fn restore(
        &self,
        docker: &Docker,
        id: &str,
        target: &Target,
        timeout: Duration,
    ) -> Result<RestoreReport> {
        let started = std::time::Instant::now();
        let (config, id, tenant) = self.backed_up(id)?;
        let engine = self.engine_of(docker, &config, &tenant).await?;
        let docker = &engine;
        let name = container_name(&id);
        self.archive_newest(docker, &id).await?;
        let repo = self.backup_list(docker, id.as_str()).await?;
        check_target(&id, &repo, target)?;
        let image = self.backup_image(docker, &tenant.image).await?;
        let pgdata = docker.ensure_image(&tenant.image).await?.pgdata();
        let previous = tenant.data_volume(&id);
        // Unique even for two restores within one second (a killed one and its rerun).
        let volume = format!("{}-{}-{}", volume_name(&id), now(), &super::generate_password()[..4].to_lowercase());
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
        let access = self.repo_access(&id, &pgdata)?;
        let spec = OneOff {
            name: format!("{name}-restore"),
            image,
            command: pgbackrest::restore_command(target, &pgdata),
            user: Some("root".into()),
            env: access.env,
            volumes: std::iter::once((volume.clone(), tenant.data_mount.clone())).chain(access.volume).collect(),
            labels: labels.clone(),
            uploads: access.uploads,
            network: access.network,
            ..Default::default()
        };
        let step = crate::progress::step(&format!("restoring {id} into {volume}"));
        let restored = docker.run_once(&spec, LONG_OPERATION).await;
        drop(step);
        let restored = match restored {
            Ok(out) if out.success() => Ok(()),
            Ok(out) => {
                Err(Error::Other(anyhow::anyhow!("the restore of {id} failed (exit {}):\n{}", out.code, out.tail(15))))
            }
            Err(e) => Err(e.into()),
        };
        if let Err(e) = restored {
            let _ = docker.remove_volume(&volume).await;
            let _ = mark(None);
            let _ = docker.start_container(&name).await;
            return Err(e);
        }

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
            return Err(anyhow::anyhow!(
                "{id} did not start on the restored data ({e}); it runs on its previous data again, and the restored \
                 volume {volume} is kept for inspection"
            )
            .into());
        }
        if let Err(e) = self.engine(docker, &id, Command::Check, SHORT_OPERATION).await {
            crate::progress::note(&format!("{id} is restored but archiving does not work yet: {e}"));
        }
        Ok(RestoreReport {
            id: id.to_string(),
            volume,
            previous_volume: previous,
            seconds: started.elapsed().as_secs(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_weekly_diff_daily() {
        let day = 24 * 3600;
        assert_eq!(due(100 * day, None, None), Some(Kind::Full));
        assert_eq!(due(100 * day, Some(99 * day), Some(99 * day)), Some(Kind::Diff));
        assert_eq!(due(100 * day, Some(99 * day), Some(100 * day - 60)), None);
        assert_eq!(due(100 * day, Some(93 * day), Some(100 * day - 60)), Some(Kind::Full));
    }
}
