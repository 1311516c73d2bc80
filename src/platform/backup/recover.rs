//! A recovery planned from the repository (window, timeline, backup) and run in a one-off
//! container that is watched to its end: what restores, clones and drills share.

use std::time::Duration;

use super::{SHORT_OPERATION, human_bytes};
use crate::backup::pgbackrest::{self, Command, Purpose};
use crate::backup::plan::{Archive, Plan, Refusal, Side, Window};
use crate::backup::{Repository, Target};
use crate::docker::Docker;
use crate::docker::run::OneOff;
use crate::platform::{Error, Platform, Result, fail, now};
use crate::state::{Tenant, TenantId, container_name};

/// The target refused in pgs's words: what the repository cannot reach, what it can, and, for a
/// time after the archived WAL, why the window ends there. `running`: whether the tenant runs.
pub(super) fn refusal(id: &TenantId, refusal: Refusal, running: bool) -> Error {
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
/// (compressed, so four times its size) at the same rate, plus a second per segment and timeline:
/// PostgreSQL looks for a segment on the timelines of its history, newest first, and each ask is
/// a `pgbackrest archive-get` (a round trip to S3), found or not, so a history with many
/// failovers may ask many times (an upper bound: most segments are found at the first ask).
pub(super) fn recovery_timeout(plan: &Plan, archive: &Archive) -> Duration {
    pub(super) const RATE: u64 = 20 << 20;
    let asks = archive.segments.saturating_mul(archive.timelines.len().max(1) as u64);
    Duration::from_secs(120 + (plan.database_bytes + archive.bytes.saturating_mul(4)) / RATE + asks)
}

/// A repository surveyed and a recovery planned, before anything is touched.
#[derive(Clone)]
pub(super) struct Prepared {
    /// The repository as `pgbackrest info` reports it.
    pub(super) repo: Repository,
    /// Its timelines and archived segments.
    pub(super) archive: Archive,
    /// The restorable window.
    pub(super) window: Option<Window>,
    /// How the recovery is to run.
    pub(super) plan: Plan,
}

/// A recovery in a one-off container ([`pgbackrest::recover_command`]).
pub(super) struct Recovery<'a> {
    /// What it is for.
    pub(super) purpose: Purpose,
    /// The tenant whose repository is read, and its record.
    pub(super) source: (&'a TenantId, &'a Tenant),
    /// The tenant the data is for (labels, container name).
    pub(super) id: &'a TenantId,
    /// The (new, empty) data volume to fill.
    pub(super) volume: &'a str,
    /// Files to upload besides the repository's (a clone's SQL).
    pub(super) uploads: Vec<(String, Vec<u8>)>,
}

impl Platform {
    /// If the tenant runs, switches WAL and waits until the segment is archived, so that
    /// everything committed until now is in the repository. Returns whether it runs, and the time
    /// the switch started if it worked (the window reaches it). A failure is reported, not fatal:
    /// what the repository has can still be restored.
    pub(super) async fn archive_newest(&self, docker: &Docker, id: &TenantId) -> Result<(bool, Option<i64>)> {
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
    pub(super) async fn survey(
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
            return Err(Error::Failing(format!("cannot read the backup repository of {id}:\n{}", out.tail(10))));
        }
        Ok(pgbackrest::parse_survey(&out.stdout)?)
    }

    /// Archives the newest WAL of a running tenant, reads its repository and plans the recovery
    /// to `target`; a target the repository cannot reach is refused here, before anything is
    /// touched.
    pub(super) async fn prepare(
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
    pub(super) async fn recover(
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
            binds: Vec::new(),
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
}

/// The WAL position just past the end of a segment, by its 24-digit name (16 MiB segments,
/// PostgreSQL's default; for progress only).
pub(super) fn segment_end(name: &str) -> Option<u64> {
    let log = u64::from_str_radix(name.get(8..16)?, 16).ok()?;
    let seg = u64::from_str_radix(name.get(16..24)?, 16).ok()?;
    Some((log << 32) + (seg + 1) * (16 << 20))
}

/// A duration in whole minutes, for the operator (`3 min`).
pub(super) fn minutes(d: Duration) -> String {
    format!("up to {} min", d.as_secs().div_ceil(60))
}
