//! The restore drill (`pgs backup verify`): a recovery to a moment of the window and on to
//! the latest state, in a throwaway container, then every database checked.

use super::recover::{Prepared, Recovery, refusal};
use crate::backup::Target;
use crate::backup::pgbackrest::Purpose;
use crate::docker::Docker;
use crate::platform::{Error, Platform, Result, now};
use crate::state::Drill;

impl Platform {
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
        let engine = self.serving_engine(docker, &config, &id, &tenant).await?;
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
}
