//! The command-line interface: argument parsing ([`args`]), prompts, human and `--json`
//! output, progress ([`progress`]). The work itself is done by [`crate::platform`].

pub mod args;
mod backup;
mod certs;
mod gateway;
mod nodes;
mod output;
pub mod progress;

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::CommandFactory;

use crate::docker::Docker;
use crate::platform::{CreateRequest, Platform, SetupRequest};
use crate::state::StateDir;
use args::{Cli, Command};
use output::{print_json, print_table, print_tenant};

fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// The S3 repository `--s3-*` name, with its keys from the environment (never argv).
fn s3_request(a: &args::SetupArgs) -> Result<Option<crate::platform::setup::S3Request>> {
    let (Some(endpoint), Some(bucket)) = (&a.s3_endpoint, &a.s3_bucket) else { return Ok(None) };
    let (host, port) = match endpoint.rsplit_once(':') {
        Some((h, p)) => {
            (h.to_string(), p.parse().with_context(|| format!("invalid port in --s3-endpoint {endpoint}"))?)
        }
        None => (endpoint.clone(), 443),
    };
    let key = |name: &str| {
        std::env::var(name).map_err(|_| anyhow::anyhow!("--s3-endpoint: set the S3 keys in {name} (and its pair)"))
    };
    Ok(Some(crate::platform::setup::S3Request {
        settings: crate::state::S3Settings {
            endpoint: host,
            port,
            bucket: bucket.clone(),
            region: a.s3_region.clone(),
            path_style: a.s3_path_style,
            verify_tls: !a.s3_no_verify_tls,
        },
        access_key: key("AWS_ACCESS_KEY_ID")?,
        secret_key: key("AWS_SECRET_ACCESS_KEY")?,
    }))
}

fn setup_request(a: &args::SetupArgs) -> Result<SetupRequest> {
    let mut req = SetupRequest {
        domain: a.domain.clone(),
        image: a.image.clone(),
        gateway_port: a.gateway_port,
        self_signed: a.self_signed,
        health_port: a.health_port,
        backups: a.backups,
        s3: s3_request(a)?,
    };
    if a.yes || !interactive() {
        return Ok(req);
    }
    let theme = dialoguer::theme::SimpleTheme;
    if req.domain.is_none() {
        let d: String = dialoguer::Input::with_theme(&theme)
            .with_prompt("Domain (tenants are reached as TENANT.DOMAIN)")
            .default(crate::state::DEFAULT_DOMAIN.to_string())
            .interact_text()?;
        req.domain = Some(d);
    }
    if req.gateway_port.is_none() {
        let p: u16 = dialoguer::Input::with_theme(&theme)
            .with_prompt("Gateway port")
            .default(crate::state::DEFAULT_GATEWAY_PORT)
            .interact_text()?;
        req.gateway_port = Some(p);
    }
    Ok(req)
}

fn confirm(question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        bail!("{question}: refusing without confirmation; pass --yes");
    }
    let ok = dialoguer::Confirm::new().with_prompt(question).default(false).interact()?;
    if !ok {
        bail!("cancelled");
    }
    Ok(())
}

fn init_logging(format: args::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PGS_LOG").unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        args::LogFormat::Text => builder.init(),
        args::LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// The `pgs` command: parses the arguments, runs the verb, and turns an error into one line on
/// stderr (later lines, such as a container's log, add detail) and exit status 1.
pub fn main() {
    use clap::Parser;
    let cli = Cli::parse();
    crate::progress::install(Box::new(progress::Terminal));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(cli)) {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(1);
    }
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> Result<()> {
    let home = match cli.home.clone() {
        Some(h) => h,
        None => StateDir::default_root().context("cannot find a home directory for the state dir; pass --home")?,
    };
    let platform = Platform::new(StateDir::new(home));
    // The servers set up their own logging; other verbs log only when asked (`PGS_LOG=pgs=debug`
    // shows, for one, how long each step of a `create` took).
    let serves = matches!(
        cli.command,
        Command::Gateway(args::GatewayCommand::Run(_)) | Command::Controller(args::ControllerCommand::Run(_))
    );
    if !serves && std::env::var_os("PGS_LOG").is_some() {
        init_logging(args::LogFormat::Text);
    }
    match cli.command {
        Command::Setup(a) => {
            let req = setup_request(&a)?;
            let config = platform.setup(&req)?;
            eprintln!("pgs: state dir {}", platform.state().root().display());
            if !a.yes && !a.self_signed && interactive() {
                certs::choose_in_setup(&platform).await?;
            }
            println!(
                "domain {} (tenants are TENANT.{}), gateway port {}",
                config.domain, config.domain, config.gateway_port
            );
            let start_gateway = !a.no_gateway
                && (a.yes
                    || !interactive()
                    || dialoguer::Confirm::new()
                        .with_prompt("Start the managed gateway container now?")
                        .default(true)
                        .interact()?);
            if start_gateway {
                let docker = Docker::connect().await?;
                platform.gateway_start(&docker, crate::platform::DEFAULT_DRAIN, false).await?;
                println!("gateway running on port {} (pgs gateway status)", config.gateway_port);
            }
            println!("next: `pgs create NAME`");
        }
        Command::Create(a) => {
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
            };
            let info = platform.create(&docker, req).await?;
            if a.json {
                print_json(&info)?;
            } else {
                eprintln!("pgs: tenant {} is ready", info.id);
                println!("{}", info.url.as_deref().unwrap_or_default());
            }
        }
        Command::List(a) => {
            let docker = Docker::connect().await?;
            let tenants = platform.list(&docker).await?;
            if a.json { print_json(&tenants)? } else { print_table(&tenants) }
        }
        Command::Info(a) => {
            let docker = Docker::connect().await?;
            let info = platform.info(&docker, &a.tenant, a.show_password).await?;
            if a.json { print_json(&info)? } else { print_tenant(&info) }
        }
        Command::Start(a) => {
            let docker = Docker::connect().await?;
            for id in platform.start(&docker, a.tenant.as_deref(), Duration::from_secs(a.timeout)).await? {
                eprintln!("pgs: {id} started");
            }
            if a.tenant.is_none() && platform.managed_gateway()? {
                platform.gateway_start(&docker, crate::platform::DEFAULT_DRAIN, false).await?;
                eprintln!("pgs: gateway started");
            }
        }
        Command::Stop(a) => {
            let docker = Docker::connect().await?;
            if a.tenant.is_none() && platform.managed_gateway()? {
                platform.gateway_stop(&docker, false).await?;
                eprintln!("pgs: gateway stopped");
            }
            for id in platform.stop(&docker, a.tenant.as_deref()).await? {
                eprintln!("pgs: {id} stopped");
            }
        }
        Command::Remove(a) => {
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
                confirm(
                    &format!("Also DELETE every backup of {}? Nothing could restore it afterwards.", a.tenant),
                    a.yes,
                )?;
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
        }
        Command::PruneVolumes(a) => {
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
        }
        Command::EnableAccess(a) => {
            platform.set_access(&a.tenant, true)?;
            platform.tell_nodes().await?;
            eprintln!("pgs: access to {} enabled", a.tenant);
        }
        Command::DisableAccess(a) => {
            platform.set_access(&a.tenant, false)?;
            platform.tell_nodes().await?;
            eprintln!("pgs: access to {} disabled", a.tenant);
        }
        Command::Allow(a) => {
            let list = platform.set_allow(&a.tenant, &a.cidrs, true)?;
            platform.tell_nodes().await?;
            eprintln!("pgs: {} admits clients from {}", a.tenant, list.join(", "));
        }
        Command::Deny(a) => {
            let list = platform.set_allow(&a.tenant, &a.cidrs, false)?;
            platform.tell_nodes().await?;
            if list.is_empty() {
                eprintln!(
                    "pgs: the allowlist of {} is empty: every address may connect (disable-access refuses all)",
                    a.tenant
                );
            } else {
                eprintln!("pgs: {} admits clients from {}", a.tenant, list.join(", "));
            }
        }
        Command::Recreate(a) => {
            let docker = Docker::connect().await?;
            let ids =
                platform.recreate_containers(&docker, a.tenant.as_deref(), Duration::from_secs(a.timeout)).await?;
            eprintln!("pgs: recreated {} container(s)", ids.len());
        }
        Command::Pool(a) => {
            let change = crate::platform::PoolChange {
                mode: a.mode,
                size: a.size,
                max_clients: a.max_clients,
                queue_timeout_secs: a.queue_timeout,
                server_idle_timeout_secs: a.server_idle_timeout,
                reset: a.reset,
            };
            let settings = platform.set_pool(&a.tenant, &change)?;
            platform.tell_nodes().await?;
            if a.json {
                print_json(&settings)?;
            } else {
                println!(
                    "{}-pooler: {} mode, {} server connections per role and database, at most {} clients, \
                     queue timeout {}s, server idle timeout {}s",
                    a.tenant,
                    match settings.mode {
                        crate::state::PoolMode::Transaction => "transaction",
                        crate::state::PoolMode::Session => "session",
                    },
                    settings.size,
                    settings.max_clients,
                    settings.queue_timeout_secs,
                    settings.server_idle_timeout_secs
                );
            }
        }
        Command::SuspendPolicy(a) => {
            let after = if a.never { None } else { a.after };
            platform.set_suspend_policy(&a.tenant, after)?;
            match after {
                Some(secs) => eprintln!("pgs: {} is suspended after {secs}s without clients", a.tenant),
                None => eprintln!("pgs: {} is never suspended", a.tenant),
            }
        }
        Command::Suspend(a) => {
            let docker = Docker::connect().await?;
            let id = crate::state::TenantId::parse(&a.tenant)?;
            let spinner = crate::progress::step(&format!("suspending {id}"));
            let done = platform.suspend(&docker, &id, a.force).await;
            drop(spinner);
            if !done? {
                anyhow::bail!("tenant {id} has open client sessions: not suspended (--force closes them)");
            }
            eprintln!("pgs: {id} is suspended; its next client wakes it");
        }
        Command::Gateway(c) => gateway::run(&platform, c).await?,
        Command::Controller(c) => gateway::controller(&platform, c).await?,
        Command::Swarm(c) => nodes::run(&platform, nodes::NodesCommand::Swarm(c)).await?,
        Command::Node(c) => nodes::run(&platform, nodes::NodesCommand::Node(c)).await?,
        Command::Move(a) => nodes::run(&platform, nodes::NodesCommand::Move(a)).await?,
        Command::Certs(c) => certs::run(&platform, c).await?,
        Command::Backup(c) => backup::run(&platform, c).await?,
        Command::Restore(a) => backup::restore(&platform, a).await?,
        Command::Clone(a) => backup::clone(&platform, a).await?,
        Command::Completions(a) => {
            clap_complete::generate(a.shell, &mut Cli::command(), "pgs", &mut std::io::stdout());
        }
    }
    Ok(())
}
