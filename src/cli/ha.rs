//! `pgs ha init|enable|disable|status`, `pgs switchover` and `pgs agent run`: high
//! availability (docs/high-availability.md).

use anyhow::Result;

use super::args::{AgentCommand, HaCommand, SwitchoverArgs};
use super::print_json;
use crate::docker::Docker;
use crate::platform::Platform;
use crate::platform::ha::HaStatus;

/// `pgs ha ...`.
pub(super) async fn run(platform: &Platform, command: HaCommand) -> Result<()> {
    match command {
        HaCommand::Init(a) => {
            let docker = Docker::connect().await?;
            let report = platform.ha_init(&docker).await?;
            if a.json {
                print_json(&report)?;
            } else {
                println!(
                    "store: {} members ({}), an agent on every node; next: `pgs create NAME --ha` or `pgs ha enable TENANT`",
                    report.members.len(),
                    report.members.join(", ")
                );
            }
        }
        HaCommand::Enable(a) => {
            let docker = Docker::connect().await?;
            let status = platform.ha_enable(&docker, &a.tenant, a.ha.standby_node.as_deref(), a.ha.durability).await?;
            if a.json {
                print_json(&status)?;
            } else {
                println!("{}: {}", status.tenant, status.roles());
            }
        }
        HaCommand::Disable(a) => {
            let docker = Docker::connect().await?;
            let node = platform.ha_disable(&docker, &a.tenant).await?;
            println!("{}: no standby any more; it runs on {node}", a.tenant);
        }
        HaCommand::Status(a) => {
            let all = platform.ha_status(a.tenant.as_deref()).await?;
            match (a.json, a.tenant.is_some()) {
                (true, true) => print_json(&all[0])?,
                (true, false) => print_json(&all)?,
                (false, _) => print_status(&all),
            }
        }
    }
    Ok(())
}

fn print_status(all: &[HaStatus]) {
    println!(
        "{:<20} {:<10} {:>5} {:<12} {:<12} {:<10} {:>10}  LAST FAILOVER",
        "TENANT", "DURABILITY", "EPOCH", "PRIMARY", "STANDBY", "STATE", "LAG"
    );
    for s in all {
        let lag = s.standby.lag_bytes.map_or("-".to_string(), |l| format!("{l} B"));
        let state = match s.standby.sync {
            Some(true) => format!("{} sync", s.standby.state),
            _ => s.standby.state.clone(),
        };
        let last = s.last_failover.as_ref().map_or("-".to_string(), |f| {
            let gap = f.write_gap_ms.map_or(String::new(), |g| format!(", writes refused {g} ms"));
            format!("{} -> {} ({}{gap})", f.from, f.to, f.reason)
        });
        println!(
            "{:<20} {:<10} {:>5} {:<12} {:<12} {:<10} {:>10}  {last}",
            s.tenant,
            s.durability.to_string(),
            s.epoch,
            format!("{}@{}", s.primary.state, s.primary.node),
            s.standby.node,
            state,
            lag
        );
        if s.store != "ok" {
            println!("  the store has no quorum: nothing is promoted until it has");
        }
        if let Some(r) = &s.refusal {
            println!("  refused: {r}");
        }
    }
}

/// `pgs switchover`.
pub(super) async fn switchover(platform: &Platform, a: SwitchoverArgs) -> Result<()> {
    let report = platform.switchover(&a.tenant, a.to.as_deref()).await?;
    if a.json {
        print_json(&report)?;
    } else {
        let gap = report.write_gap_ms.map_or("?".to_string(), |g| g.to_string());
        println!(
            "{}: primary on {} now (was {}); writes were refused for {gap} ms",
            report.tenant, report.to, report.from
        );
    }
    Ok(())
}

/// `pgs agent run`.
pub(super) async fn agent(platform: &Platform, command: AgentCommand) -> Result<()> {
    match command {
        AgentCommand::Run(a) => {
            super::init_logging(a.log_format);
            let opts = crate::ha::agent::Options { node: a.node };
            crate::ha::agent::run(platform.state().clone(), opts).await?;
        }
    }
    Ok(())
}
