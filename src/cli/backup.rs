//! `pgs backup ...`, `pgs restore` and `pgs clone`: arguments in, output out; the work is done
//! by the backup verbs of [`crate::platform`].

use std::time::Duration;

use anyhow::Result;

use super::args::{BackupCommand, CloneArgs, RestoreArgs};
use super::{confirm, print_json};
use crate::backup::Target;
use crate::docker::Docker;
use crate::platform::{CreateRequest, Platform, human_bytes};

/// Runs one `pgs backup` subcommand.
pub async fn run(platform: &Platform, command: BackupCommand) -> Result<()> {
    let docker = Docker::connect().await?;
    match command {
        BackupCommand::Enable(a) => {
            let timeout = Duration::from_secs(a.timeout);
            let enabled = platform.backup_enable(&docker, a.tenant.as_deref(), timeout).await?;
            if enabled.is_empty() {
                eprintln!("pgs: nothing to do: backups were already on");
            }
            for id in enabled {
                eprintln!("pgs: backups on for {id} (WAL archiving, first full backup taken)");
            }
        }
        BackupCommand::Run(a) => {
            let Some(tenant) = a.tenant else {
                let results = platform.backup_due(&docker).await?;
                if a.json {
                    print_json(&results)?;
                } else {
                    for r in &results {
                        match &r.backup {
                            Some(b) => println!("{}: {} backup {}", r.id, b.kind, b.label),
                            None if r.error.is_none() => println!("{}: no backup due", r.id),
                            None => {}
                        }
                        if let Some(d) = r.drill.as_ref().filter(|d| d.ok) {
                            println!("{}: restore drill passed ({}s)", r.id, d.seconds);
                        }
                        if let Some(e) = &r.error {
                            eprintln!("pgs: {}: FAILED: {e}", r.id);
                        }
                    }
                }
                let failed = results.iter().filter(|r| r.error.is_some()).count();
                if failed > 0 {
                    anyhow::bail!("{failed} of {} tenants' backups failed (see above)", results.len());
                }
                return Ok(());
            };
            let backup = platform.backup_run(&docker, &tenant, a.kind).await?;
            if a.json {
                print_json(&backup)?;
            } else {
                println!(
                    "{} backup {} of {tenant}: {} in {}s",
                    backup.kind,
                    backup.label,
                    human_bytes(backup.repository_bytes),
                    backup.finished - backup.started
                );
            }
        }
        BackupCommand::List(a) => {
            let repo = platform.backup_list(&docker, &a.tenant).await?;
            if a.json {
                print_json(&repo)?;
            } else {
                println!("repository: {}", repo.status);
                if let Some((first, last)) = &repo.wal {
                    println!("archived WAL: {first} .. {last}");
                }
                if let Some(earliest) = &repo.earliest_restorable {
                    let latest = repo
                        .latest_restorable
                        .as_ref()
                        .map_or("the end of the archived WAL".into(), |t| format!("{t} UTC"));
                    println!("restorable: {earliest} UTC .. {latest}");
                }
                println!(
                    "{:<36} {:<5} {:<20} {:<20} {:>10} {:>10}  WAL",
                    "LABEL", "TYPE", "STARTED (UTC)", "FINISHED (UTC)", "DATABASE", "STORED"
                );
                for b in &repo.backups {
                    let wal = b.wal.as_ref().map_or("-".to_string(), |(start, stop)| format!("{start} .. {stop}"));
                    println!(
                        "{:<36} {:<5} {:<20} {:<20} {:>10} {:>10}  {wal}",
                        b.label,
                        b.kind,
                        crate::backup::utc(b.started),
                        crate::backup::utc(b.finished),
                        human_bytes(b.database_bytes),
                        human_bytes(b.repository_bytes)
                    );
                }
            }
        }
        BackupCommand::Verify(a) => {
            let at = a.at.as_deref().map(crate::backup::parse_time).transpose()?;
            let drill = platform.backup_verify(&docker, &a.tenant, at).await?;
            if a.json {
                print_json(&drill)?;
            } else {
                for line in &drill.report {
                    println!("{line}");
                }
            }
            match &drill.error {
                None => eprintln!("pgs: the latest backup of {} is proven restorable ({}s)", a.tenant, drill.seconds),
                Some(e) => anyhow::bail!("the restore drill for {} FAILED after {}s: {e}", a.tenant, drill.seconds),
            }
        }
    }
    Ok(())
}

/// `pgs restore`.
pub async fn restore(platform: &Platform, a: RestoreArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let target = Target::named(a.at.as_deref(), a.backup.as_deref())?;
    let what = match &target {
        Target::Time { at, .. } => format!("as of {at}"),
        Target::Backup(l) => format!("to backup {l}"),
        Target::Latest => "to its latest archived state".to_string(),
    };
    confirm(
        &format!(
            "Restore {} {what}? It is stopped meanwhile; its current data is kept in a volume of its own.",
            a.tenant
        ),
        a.yes,
    )?;
    let report = platform.restore(&docker, &a.tenant, &target, Duration::from_secs(a.timeout)).await?;
    if a.json {
        print_json(&report)?;
    } else {
        eprintln!("pgs: {} restored {what} in {}s; it now runs on volume {}", report.id, report.seconds, report.volume);
        eprintln!(
            "pgs: its previous data is kept in volume {}: `pgs prune-volumes {} --volume {}` deletes it once you are satisfied",
            report.previous_volume, report.id, report.previous_volume
        );
    }
    Ok(())
}

/// `pgs clone`.
pub async fn clone(platform: &Platform, a: CloneArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let target = Target::named(a.at.as_deref(), a.backup.as_deref())?;
    let req = CreateRequest {
        id: a.new,
        password: a.tenant.password,
        image: None,
        memory: a.tenant.memory,
        cpus: a.tenant.cpus,
        no_access: a.tenant.no_access,
        adopt: false,
        timeout: Duration::from_secs(a.timeout),
        clone_of: Some((a.source.clone(), target)),
        suspend_after: a.tenant.suspend_after,
        settings: a.tenant.pg_settings.into_iter().collect(),
        node: None,
        egress: a.tenant.egress,
        ha: None,
    };
    let info = platform.create(&docker, req).await?;
    if a.json {
        print_json(&info)?;
    } else {
        eprintln!("pgs: tenant {} is ready: a copy of {} with credentials of its own", info.id, a.source);
        println!("{}", info.url.as_deref().unwrap_or_default());
    }
    Ok(())
}
