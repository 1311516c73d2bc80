//! The tenant verbs: `pgs create|list|info|start|stop|recreate|remove|prune-volumes`, access
//! (`enable-access`, `disable-access`, `allow`, `deny`), `pgs pool` and scale to zero
//! (`suspend-policy`, `suspend`). Each calls [`Platform`] and renders what it returns.

use std::time::Duration;

use anyhow::Result;

use super::args;
use super::confirm;
use super::output::{print_json, print_table, print_tenant};
use crate::docker::Docker;
use crate::platform::{CreateRequest, Platform};

/// `pgs create`: create a tenant: container, volume, network and credentials.
pub(super) async fn create(platform: &Platform, a: args::CreateArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let req = CreateRequest {
        id: a.tenant,
        password: a.options.password,
        image: a.image,
        memory: a.options.memory,
        cpus: a.options.cpus,
        no_access: a.options.no_access,
        adopt: a.adopt,
        timeout: Duration::from_secs(a.timeout),
        clone_of: None,
        suspend_after: a.options.suspend_after,
        settings: a.options.pg_settings.into_iter().collect(),
        node: a.node,
        egress: a.options.egress,
        ha: a.ha.then_some(crate::platform::create::HaRequest {
            standby_node: a.ha_options.standby_node,
            durability: a.ha_options.durability,
        }),
    };
    let info = platform.create(&docker, req).await?;
    if a.json {
        print_json(&info)?;
    } else {
        eprintln!("pgs: tenant {} is ready", info.id);
        println!("{}", info.url.as_deref().unwrap_or_default());
    }
    Ok(())
}

/// `pgs list`: list tenants with their hostname, status and access.
pub(super) async fn list(platform: &Platform, a: args::JsonArg) -> Result<()> {
    let docker = Docker::connect().await?;
    let tenants = platform.list(&docker).await?;
    if a.json {
        print_json(&tenants)?
    } else {
        print_table(&tenants)
    }
    Ok(())
}

/// `pgs info`: show a tenant's connection details.
pub(super) async fn info(platform: &Platform, a: args::InfoArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let info = platform.info(&docker, &a.tenant, a.show_password).await?;
    if a.json {
        print_json(&info)?
    } else {
        print_tenant(&info)
    }
    Ok(())
}

/// `pgs start`: start a tenant, or every tenant.
pub(super) async fn start(platform: &Platform, a: args::StartArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    for id in platform.start(&docker, a.tenant.as_deref(), Duration::from_secs(a.timeout)).await? {
        eprintln!("pgs: {id} started");
    }
    if a.tenant.is_none() && platform.managed_gateway()? {
        platform.gateway_start(&docker, crate::platform::DEFAULT_DRAIN, false).await?;
        eprintln!("pgs: gateway started");
    }
    Ok(())
}

/// `pgs stop`: stop a tenant, or every tenant.
pub(super) async fn stop(platform: &Platform, a: args::OptionalTenant) -> Result<()> {
    let docker = Docker::connect().await?;
    if a.tenant.is_none() && platform.managed_gateway()? {
        platform.gateway_stop(&docker, false).await?;
        eprintln!("pgs: gateway stopped");
    }
    for id in platform.stop(&docker, a.tenant.as_deref()).await? {
        eprintln!("pgs: {id} stopped");
    }
    Ok(())
}

/// `pgs remove`: remove a tenant (keeps its data volume unless --purge).
pub(super) async fn remove(platform: &Platform, a: args::RemoveArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let question = if a.purge {
        format!("Remove tenant {} and DELETE its data volume and passwords for good?", a.tenant)
    } else {
        format!("Remove tenant {} (its data volume is kept)?", a.tenant)
    };
    platform.info(&docker, &a.tenant, false).await?;
    confirm(&question, a.yes)?;
    if a.purge_backups {
        // A question of its own: the backups are the last copy of the tenant's data.
        confirm(&format!("Also DELETE every backup of {}? Nothing could restore it afterwards.", a.tenant), a.yes)?;
    }
    platform.remove(&docker, &a.tenant, a.purge, a.purge_backups).await?;
    if a.purge_backups {
        eprintln!("pgs: {} removed with its data and backups", a.tenant);
    } else if a.purge {
        eprintln!("pgs: {} removed with its data (its backups, if any, are kept)", a.tenant);
    } else {
        eprintln!(
            "pgs: {} removed; its data volume is kept (`pgs create {} --adopt` brings it back)",
            a.tenant, a.tenant
        );
    }
    Ok(())
}

/// `pgs prune-volumes`: delete a tenant's data volumes that it does not run on (what restores left; `pgs info` lists them).
pub(super) async fn prune_volumes(platform: &Platform, a: args::PruneVolumesArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let info = platform.info(&docker, &a.tenant, false).await?;
    let doomed: Vec<&str> = info
        .data_volumes
        .iter()
        .filter(|v| v.role != crate::platform::volumes::VolumeRole::InUse)
        .filter(|v| a.volume.as_deref().is_none_or(|only| only == v.name))
        .map(|v| v.name.as_str())
        .collect();
    if !doomed.is_empty() {
        confirm(&format!("DELETE {} of {} for good?", doomed.join(", "), a.tenant), a.yes)?;
    }
    let removed = platform.prune_volumes(&docker, &a.tenant, a.volume.as_deref()).await?;
    if a.json {
        print_json(&removed)?;
    } else if removed.is_empty() {
        eprintln!("pgs: {} has no data volume besides the one it runs on", a.tenant);
    } else {
        eprintln!("pgs: removed {}", removed.join(", "));
    }
    Ok(())
}

/// `pgs enable-access`: let the gateway admit a tenant's clients.
pub(super) async fn enable_access(platform: &Platform, a: args::TenantArg) -> Result<()> {
    platform.set_access(&a.tenant, true).await?;
    eprintln!("pgs: access to {} enabled", a.tenant);
    Ok(())
}

/// `pgs disable-access`: refuse a tenant's clients at the gateway.
pub(super) async fn disable_access(platform: &Platform, a: args::TenantArg) -> Result<()> {
    platform.set_access(&a.tenant, false).await?;
    eprintln!("pgs: access to {} disabled", a.tenant);
    Ok(())
}

/// `pgs allow`: add client networks (CIDR) to a tenant's allowlist (an empty list admits everyone).
pub(super) async fn allow(platform: &Platform, a: args::CidrArgs) -> Result<()> {
    let list = platform.set_allow(&a.tenant, &a.cidrs, true).await?;
    eprintln!("pgs: {} admits clients from {}", a.tenant, list.join(", "));
    Ok(())
}

/// `pgs deny`: remove client networks (CIDR) from a tenant's allowlist.
pub(super) async fn deny(platform: &Platform, a: args::CidrArgs) -> Result<()> {
    let list = platform.set_allow(&a.tenant, &a.cidrs, false).await?;
    if list.is_empty() {
        eprintln!(
            "pgs: the allowlist of {} is empty: every address may connect (disable-access refuses all)",
            a.tenant
        );
    } else {
        eprintln!("pgs: {} admits clients from {}", a.tenant, list.join(", "));
    }
    Ok(())
}

/// `pgs recreate`: recreate a tenant's container, or every tenant's one at a time, on the same data (after an upgrade of pgs: no healthcheck process, sockets, settings); each restarts.
pub(super) async fn recreate(platform: &Platform, a: args::RecreateArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let ids = platform.recreate_containers(&docker, a.tenant.as_deref(), Duration::from_secs(a.timeout)).await?;
    eprintln!("pgs: recreated {} container(s)", ids.len());
    Ok(())
}

/// `pgs pool`: show or change the pooled endpoint TENANT-pooler (applies while the gateway runs).
pub(super) async fn pool(platform: &Platform, a: args::PoolArgs) -> Result<()> {
    let change = crate::platform::PoolChange {
        mode: a.mode,
        size: a.size,
        max_clients: a.max_clients,
        queue_timeout_secs: a.queue_timeout,
        server_idle_timeout_secs: a.server_idle_timeout,
        reserve: a.reserve,
        reset: a.reset,
    };
    let mut view = platform.set_pool(&a.tenant, &change).await?;
    // Who holds a reserved connection now (auto mode), if the gateway on this host answers.
    view.reserved = platform.pool_reserved(&a.tenant).await?;
    let (settings, reserved) = (view.settings, view.reserved.clone());
    if a.json {
        print_json(&view)?;
    } else {
        println!(
            "{}-pooler: {} mode, {} server connections per role and database, at most {} clients, \
                 queue timeout {}s, server idle timeout {}s",
            a.tenant,
            settings.mode.as_str(),
            settings.size,
            settings.max_clients,
            settings.queue_timeout_secs,
            settings.server_idle_timeout_secs
        );
        if settings.mode == crate::state::PoolMode::Auto {
            println!(
                "  clients holding session state (LISTEN, SET ROLE, ...) may keep up to {} of them for themselves",
                settings.reserve_limit()
            );
        }
        if let Some(reserved) = reserved.filter(|r| !r.is_empty() || settings.mode == crate::state::PoolMode::Auto) {
            let total: u64 = reserved.values().sum();
            let why: Vec<String> = reserved.iter().map(|(reason, n)| format!("{reason} {n}")).collect();
            println!(
                "{total} client(s) hold a server connection of their own{}",
                if why.is_empty() { String::new() } else { format!(" ({})", why.join(", ")) }
            );
        }
    }
    Ok(())
}

/// `pgs suspend-policy`: scale to zero: suspend a tenant after a time without clients (--after), or never (--never).
pub(super) async fn suspend_policy(platform: &Platform, a: args::SuspendPolicyArgs) -> Result<()> {
    let after = if a.never { None } else { a.after };
    platform.set_suspend_policy(&a.tenant, after).await?;
    match after {
        Some(secs) => eprintln!("pgs: {} is suspended after {secs}s without clients", a.tenant),
        None => eprintln!("pgs: {} is never suspended", a.tenant),
    }
    Ok(())
}

/// `pgs suspend`: suspend a tenant now (stopped until its next client wakes it).
pub(super) async fn suspend(platform: &Platform, a: args::SuspendArgs) -> Result<()> {
    let docker = Docker::connect().await?;
    let id = crate::state::TenantId::parse(&a.tenant)?;
    let spinner = crate::progress::step(&format!("suspending {id}"));
    let done = platform.suspend(&docker, &id, a.force).await;
    drop(spinner);
    if !done? {
        anyhow::bail!("tenant {id} has open client sessions: not suspended (--force closes them)");
    }
    eprintln!("pgs: {id} is suspended; its next client wakes it");
    Ok(())
}
