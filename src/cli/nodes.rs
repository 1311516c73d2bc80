//! `pgs swarm init`, `pgs node add|list|sync|remove` and `pgs move`: more than one host.

use std::time::Duration;

use anyhow::Result;

use super::args::{NodeCommand, SwarmCommand};
use super::{confirm, print_json};
use crate::docker::Docker;
use crate::platform::Platform;

/// The commands about nodes, as [`super::run`] hands them over.
pub(super) enum NodesCommand {
    /// `pgs swarm ...`.
    Swarm(SwarmCommand),
    /// `pgs node ...`.
    Node(NodeCommand),
    /// `pgs move`.
    Move(super::args::MoveArgs),
}

/// Runs one command about nodes.
pub(super) async fn run(platform: &Platform, command: NodesCommand) -> Result<()> {
    match command {
        NodesCommand::Swarm(SwarmCommand::Init(a)) => {
            let docker = Docker::connect().await?;
            let swarm = platform.swarm_init(&docker, a.advertise_addr.as_deref()).await?;
            if a.json {
                print_json(&swarm)?;
            } else {
                println!(
                    "swarm manager {} at {}; this host is node \"{}\"; next: `pgs node add NAME --docker-host URL`",
                    swarm.manager_id,
                    swarm.advertise_addr,
                    crate::state::MANAGER_NODE
                );
            }
        }
        NodesCommand::Node(NodeCommand::Add(a)) => {
            let docker = Docker::connect().await?;
            let node = platform
                .node_add(&docker, &a.name, &a.docker_host, a.address.as_deref(), a.data_dir.as_deref())
                .await?;
            if a.json {
                print_json(&node)?;
            } else {
                println!("node {} ({}) joined at {}", node.name, node.swarm_id, node.address);
            }
        }
        NodesCommand::Node(NodeCommand::List(a)) => {
            let docker = Docker::connect().await?;
            let nodes = platform.node_list(&docker).await?;
            if a.json {
                print_json(&nodes)?;
            } else {
                println!(
                    "{:<16} {:<10} {:<8} {:<16} {:>7} {:>12}",
                    "NODE", "STATE", "AVAIL", "ADDRESS", "TENANTS", "MEMORY FREE"
                );
                for n in &nodes {
                    println!(
                        "{:<16} {:<10} {:<8} {:<16} {:>7} {:>9} MB",
                        n.name,
                        if n.stale_since.is_some() { format!("{},stale", n.state) } else { n.state.clone() },
                        n.availability,
                        n.address,
                        n.tenants,
                        n.memory_free >> 20
                    );
                }
            }
        }
        NodesCommand::Move(a) => {
            let docker = Docker::connect().await?;
            let plan = platform.plan_move(&docker, &a.tenant, &a.to).await?;
            confirm(&plan.describe(), a.yes)?;
            let report = platform.move_tenant(&docker, &plan, a.keep_source, Duration::from_secs(a.timeout)).await?;
            if a.json {
                print_json(&report)?;
            } else {
                println!(
                    "{} moved from {} to {}: {} MB copied, refused clients for {:.1} s",
                    report.plan.tenant,
                    report.plan.from,
                    report.plan.to,
                    report.copied_bytes.div_ceil(1_000_000),
                    report.downtime_secs
                );
                if let Some(volume) = &report.kept_volume {
                    println!(
                        "its old data volume {volume} stays on {}: remove it there when no longer needed",
                        report.plan.from
                    );
                }
            }
        }
        NodesCommand::Node(NodeCommand::Sync(a)) => {
            let docker = Docker::connect().await?;
            let synced = platform.node_sync(&docker, a.name.as_deref()).await?;
            eprintln!("pgs: the gateways of {} node(s) are up to date", synced.len());
        }
        NodesCommand::Node(NodeCommand::Drain(a)) => {
            let report = platform.drain(&a.name).await?;
            if a.json {
                print_json(&report)?;
            } else {
                for s in &report.switched {
                    let gap = s.write_gap_ms.map_or("?".to_string(), |g| g.to_string());
                    println!("{}: primary {} -> {} (writes refused {gap} ms)", s.tenant, s.from, s.to);
                }
                if !report.staying.is_empty() {
                    println!(
                        "without HA, down while {} is: {} (`pgs move` them first)",
                        report.node,
                        report.staying.join(", ")
                    );
                }
                eprintln!("pgs: no HA primary on {} any more", report.node);
            }
        }
        NodesCommand::Node(NodeCommand::Remove(a)) => {
            let docker = Docker::connect().await?;
            platform.node_remove(&docker, &a.name).await?;
            eprintln!("pgs: node {} left the swarm", a.name);
        }
    }
    Ok(())
}
