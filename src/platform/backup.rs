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
use crate::backup::pgbackrest::{self, Command, Purpose};
use crate::backup::plan::{Archive, Plan, Refusal, Side, Window};
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

/// The target refused in pgs's words: what the repository cannot reach, what it can, and, for a
/// time after the archived WAL, why the window ends there. `running`: whether the tenant runs.
fn refusal(id: &TenantId, refusal: Refusal, running: bool) -> Error {
    Error::Invalid(match refusal {
        Refusal::NoBackup => format!("{id} has no backup yet: `pgs backup run {id}` takes one"),
        Refusal::UnknownLabel(label) => format!("{id} has no backup {label}: `pgs backup list {id}` shows them"),
        Refusal::Outside { at, side, window } => {
            let hint = match side {
                Side::AfterArchive if running => {
                    format!("; its newest WAL could not be archived: `pgs info {id}` shows how archiving does")
                }
                Side::AfterArchive => {
                    format!(
                        "; {id} is stopped, so its window ends when it stopped: after `pgs start {id}` it reaches the present"
                    )
                }
                _ => String::new(),
            };
            format!("{id} cannot be recovered to {at}: {side} (the restorable window is {}){hint}", window.describe())
        }
        Refusal::NoUsableBackup(why) => format!("cannot restore {id}: {why} (`pgs backup list {id}` shows them)"),
    })
}

/// The time a recovery may take: two minutes, plus the backup at 20 MB/s and the archived WAL
/// (compressed, so four times its size) at the same rate.
fn recovery_timeout(plan: &Plan, archive: &Archive) -> Duration {
    const RATE: u64 = 20 << 20;
    Duration::from_secs(120 + (plan.database_bytes + archive.bytes.saturating_mul(4)) / RATE)
}

/// A repository surveyed and a recovery planned, before anything is touched.
#[derive(Clone)]
struct Prepared {
    /// The repository as `pgbackrest info` reports it.
    repo: Repository,
    /// Its timelines and archived segments.
    archive: Archive,
    /// The restorable window.
    window: Option<Window>,
    /// How the recovery is to run.
    plan: Plan,
}

/// A recovery in a one-off container ([`pgbackrest::recover_command`]).
struct Recovery<'a> {
    /// What it is for.
    purpose: Purpose,
    /// The tenant whose repository is read, and its record.
    source: (&'a TenantId, &'a Tenant),
    /// The tenant the data is for (labels, container name).
    id: &'a TenantId,
    /// The (new, empty) data volume to fill.
    volume: &'a str,
    /// Files to upload besides the repository's (a clone's SQL).
    uploads: Vec<(String, Vec<u8>)>,
}

/// What `pgs restore` did.
#[derive(Debug, Clone, Serialize)]
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
                        crate::docker::archive::Archive::single(pgbackrest::CONFIG_FILE, file.as_bytes(), 0o644)?,
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
    /// everything committed until now is in the repository. Returns whether it runs, and the time
    /// the switch started if it worked (the window reaches it). A failure is reported, not fatal:
    /// what the repository has can still be restored.
    async fn archive_newest(&self, docker: &Docker, id: &TenantId) -> Result<(bool, Option<i64>)> {
        if docker.container_status(&container_name(id)).await? != crate::docker::tenant::Status::Running {
            return Ok((false, None));
        }
        let started = now() as i64;
        match self.engine(docker, id, Command::Check, SHORT_OPERATION).await {
            Ok(_) => Ok((true, Some(started))),
            Err(e) => {
                crate::progress::note(&format!(
                    "could not archive the newest WAL of {id} ({e}); using what its repository has"
                ));
                Ok((true, None))
            }
        }
    }

    /// Reads the repository of tenant `id` (`pgbackrest info`, the archive's files, the timeline
    /// histories): in its running container, or else in a one-off container.
    async fn survey(
        &self,
        docker: &Docker,
        config: &crate::state::Config,
        id: &TenantId,
        tenant: &Tenant,
    ) -> Result<(Repository, Archive)> {
        let running = docker.container_status(&container_name(id)).await? == crate::docker::tenant::Status::Running;
        let out = if running {
            docker.exec(&container_name(id), "postgres", &pgbackrest::survey_command(), &[], SHORT_OPERATION).await?
        } else {
            let pgdata = docker.ensure_image(&tenant.image).await?.pgdata();
            let access = self.repo_access(id, &pgdata)?;
            let spec = OneOff {
                name: format!("{}-info", container_name(id)),
                image: self.backup_image(docker, &tenant.image).await?,
                command: pgbackrest::survey_command(),
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
        if !out.success() {
            return Err(anyhow::anyhow!("cannot read the backup repository of {id}:\n{}", out.tail(10)).into());
        }
        pgbackrest::parse_survey(&out.stdout).map_err(|e| anyhow::anyhow!("{e}").into())
    }

    /// Archives the newest WAL of a running tenant, reads its repository and plans the recovery
    /// to `target`; a target the repository cannot reach is refused here, before anything is
    /// touched.
    async fn prepare(
        &self,
        docker: &Docker,
        config: &crate::state::Config,
        id: &TenantId,
        tenant: &Tenant,
        target: &Target,
    ) -> Result<Prepared> {
        let (running, fresh) = self.archive_newest(docker, id).await?;
        let (repo, archive) = self.survey(docker, config, id, tenant).await?;
        let window = Window::of(&repo, &archive, fresh);
        let plan = crate::backup::plan::plan(&repo, &archive, window, target, now() as i64)
            .map_err(|r| refusal(id, r, running))?;
        tracing::debug!(tenant = %id, plan = %plan.why, "recovery planned");
        Ok(Prepared { repo, archive, window, plan })
    }

    /// Restores and recovers `prepared`'s plan into `r.volume` in a one-off container, showing
    /// progress, within a time that scales with the data. Returns what the recovery reported;
    /// a failure is one line in pgs's words, with the server's log as detail.
    async fn recover(
        &self,
        docker: &Docker,
        config: &crate::state::Config,
        r: Recovery<'_>,
        target: &Target,
        prepared: &Prepared,
    ) -> Result<pgbackrest::Report> {
        let (source_id, source) = r.source;
        let plan = &prepared.plan;
        let image = self.backup_image(docker, &source.image).await?;
        let pgdata = docker.ensure_image(&source.image).await?.pgdata();
        let access = self.repo_access(source_id, &pgdata)?;
        let mut uploads = access.uploads;
        uploads.extend(r.uploads);
        // Only a restore writes to the repository (the new timeline's history file).
        let (volumes, read_only_volumes) = match r.purpose {
            Purpose::Restore => (
                vec![(r.volume.to_string(), source.data_mount.clone())].into_iter().chain(access.volume).collect(),
                Vec::new(),
            ),
            _ => (vec![(r.volume.to_string(), source.data_mount.clone())], access.volume.into_iter().collect()),
        };
        let suffix = match r.purpose {
            Purpose::Restore => "restore",
            Purpose::Clone => "clone",
            Purpose::Drill => "drill",
        };
        let spec = OneOff {
            name: format!("{}-{suffix}", container_name(r.id)),
            image,
            command: pgbackrest::recover_command(target, plan, r.purpose, &pgdata),
            user: Some("root".into()),
            env: access.env,
            volumes,
            read_only_volumes,
            labels: crate::docker::tenant::labels(&config.instance, r.id.as_str()),
            uploads,
            network: access.network,
        };
        let timeout = recovery_timeout(plan, &prepared.archive);
        let step = crate::progress::transfer(&format!(
            "restoring backup {} of {source_id} ({}; allowing {})",
            plan.set,
            human_bytes(plan.database_bytes),
            minutes(timeout)
        ));
        step.set_total(plan.database_bytes);
        let base = prepared.repo.backups.iter().find(|b| b.label == plan.set).and_then(|b| b.lsn_stop);
        let end = plan.end_segment.as_deref().and_then(segment_end);
        let mut recovering: Option<Box<dyn crate::progress::Step>> = None;
        let mut step = Some(step);
        let mut on_line = |line: &str| match pgbackrest::progress(line) {
            Some(pgbackrest::Progress::Restored(bytes)) => {
                if let Some(s) = &step {
                    s.set_done(bytes)
                }
            }
            Some(pgbackrest::Progress::Replayed(lsn)) => {
                step = None;
                let s = recovering.get_or_insert_with(|| {
                    let s = crate::progress::transfer(&format!("recovering {source_id}'s data: replaying WAL"));
                    if let (Some(base), Some(end)) = (base, end) {
                        s.set_total(end.saturating_sub(base.0));
                    }
                    s
                });
                s.set_done(lsn.0.saturating_sub(base.map_or(0, |b| b.0)));
            }
            None => {
                if let Some(event) = line.strip_prefix("pgs-event: ") {
                    crate::progress::note(event);
                }
            }
        };
        let out = docker.run_once_watched(&spec, timeout, &mut on_line).await;
        // The progress ends with the container.
        drop((step, recovering));
        let out = out.map_err(|e| match e {
            crate::docker::DockerError::Api { message, .. } if message.starts_with("not finished within") => {
                Error::Timeout(format!(
                    "the recovery of {source_id}'s backup {} did not finish within {} (allowed for {} of data and {} of \
                     compressed WAL); its container was removed",
                    plan.set,
                    minutes(timeout),
                    human_bytes(plan.database_bytes),
                    human_bytes(prepared.archive.bytes)
                ))
            }
            e => e.into(),
        })?;
        let report = pgbackrest::Report::read(&out.stdout);
        if let Some(why) = report.failure(out.code) {
            let detail = if report.log.trim().is_empty() { out.tail(15) } else { report.log.trim_end().to_string() };
            fail!(Failing, "{why}\n{detail}");
        }
        Ok(report)
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
            uploads: vec![(dir.to_string(), super::create::clone_archive(&source_id, id, secrets, file)?)],
        };
        self.recover(docker, config, recovery, target, &prepared)
            .await
            .map_err(|e| anyhow::anyhow!("cloning {source_id} failed: {e}"))?;
        Ok(())
    }

    /// The restore drill: restores a backup and the archived WAL into a throwaway one-off
    /// container (the repository read-only; no network for a local one), recovers to a random
    /// moment of the restorable window (recovery pauses there, and the last commit replayed must
    /// not be after it), goes on to the end of the archived WAL, checks every database, records
    /// the result in the state dir and removes everything it made. When the moment's backup is not
    /// the newest one, the newest is restored and checked too. The tenant keeps running. Returns
    /// the record; an `Err` only when the drill could not run. `at` chooses the moment (a time
    /// target) instead of a random one.
    pub async fn backup_verify(&self, docker: &Docker, id: &str, at: Option<Target>) -> Result<Drill> {
        let started = std::time::Instant::now();
        let (config, id, tenant) = self.backed_up(id)?;
        // Where the tenant and its repository are.
        let engine = self.engine_of(docker, &config, &tenant).await?;
        let docker = &engine;
        let latest = self.prepare(docker, &config, &id, &tenant, &Target::Latest).await?;
        // The moment asked for, or a random one of the window when it has one.
        let moment = at.or_else(|| {
            latest.window.filter(|w| w.latest > w.earliest).map(|w| {
                use rand::Rng;
                let unix = rand::rng().random_range(w.earliest..=w.latest);
                Target::Time { at: format!("{}.000000+00", crate::backup::utc(unix)), unix }
            })
        });
        let mut runs = Vec::new();
        if let Some(target) = moment {
            let plan = crate::backup::plan::plan(&latest.repo, &latest.archive, latest.window, &target, now() as i64);
            match plan {
                Ok(plan) => {
                    // The moment's recovery goes on to the end of its own timeline from its own
                    // backup: the latest state needs a run of its own when either differs.
                    let newest = latest.plan.set == plan.set && latest.plan.timeline == plan.timeline;
                    runs.push((target, Prepared { plan, ..latest.clone() }));
                    if !newest {
                        runs.push((Target::Latest, latest));
                    }
                }
                Err(r) => {
                    crate::progress::note(&format!("no point-in-time check: {}", refusal(&id, r, true)));
                    runs.push((Target::Latest, latest));
                }
            }
        } else {
            runs.push((Target::Latest, latest));
        }
        let labels = crate::docker::tenant::labels(&config.instance, id.as_str());
        let mut report = Vec::new();
        let mut failure = None;
        for (target, prepared) in &runs {
            let scratch = format!("pgs-{id}-drill-{}", now());
            docker.create_volume(&scratch, &labels).await?;
            let what = match target {
                Target::Time { at, .. } => format!("to {at} and on to the latest state"),
                _ => "to the latest state".to_string(),
            };
            let step = crate::progress::step(&format!("restore drill for {id}: backup {} {what}", prepared.plan.set));
            let recovery = Recovery {
                purpose: Purpose::Drill,
                source: (&id, &tenant),
                id: &id,
                volume: &scratch,
                uploads: Vec::new(),
            };
            let ran = self.recover(docker, &config, recovery, target, prepared).await;
            drop(step);
            let _ = docker.remove_volume(&scratch).await;
            match ran {
                Ok(r) => report.extend(r.steps),
                Err(Error::Failing(why)) | Err(Error::Timeout(why)) => {
                    failure = Some(why);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        let drill =
            Drill { at: now(), ok: failure.is_none(), seconds: started.elapsed().as_secs(), report, error: failure };
        let recorded = drill.clone();
        self.state.update(|_, tenants, _| -> Result<()> {
            if let Some(t) = tenants.tenants.get_mut(&id) {
                t.last_drill = Some(recorded);
            }
            Ok(())
        })?;
        Ok(drill)
    }

    /// The tenant's repository: backups, archived WAL and the restorable window. Asked of a
    /// stopped tenant, it reads the repository in a one-off container.
    pub async fn backup_list(&self, docker: &Docker, id: &str) -> Result<Repository> {
        let (config, id, tenant) = self.backed_up(id)?;
        let engine = self.engine_of(docker, &config, &tenant).await?;
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

    /// Restores a tenant to `target`: archives what is not archived yet, reads the repository
    /// and chooses the backup and timeline (a target outside the window is refused here), stops
    /// the tenant, restores and recovers into a new data volume in a one-off container, then
    /// starts the tenant on it and waits until it accepts logins. If anything fails the tenant
    /// is as it was: on its previous data, untouched, running if it ran.
    pub async fn restore(
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
                return Err(anyhow::anyhow!("the restore of {id} failed ({back}): {e}").into());
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
            return Err(anyhow::anyhow!(
                "{id} did not start on the restored data ({e}); it runs on its previous data again, and the restored \
                 volume {volume} is kept for inspection (`pgs info {id}` lists it)"
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
            plan: prepared.plan.why.clone(),
            events: report.events,
        })
    }
}

/// The WAL position just past the end of a segment, by its 24-digit name (16 MiB segments,
/// PostgreSQL's default; for progress only).
fn segment_end(name: &str) -> Option<u64> {
    let log = u64::from_str_radix(name.get(8..16)?, 16).ok()?;
    let seg = u64::from_str_radix(name.get(16..24)?, 16).ok()?;
    Some((log << 32) + (seg + 1) * (16 << 20))
}

/// A duration in whole minutes, for the operator (`3 min`).
fn minutes(d: Duration) -> String {
    format!("up to {} min", d.as_secs().div_ceil(60))
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
