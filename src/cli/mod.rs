//! The command-line interface: argument parsing ([`args`]), prompts, human and `--json`
//! output, progress ([`progress`]). The work itself is done by [`crate::platform`].

pub mod args;
mod backup;
mod certs;
pub mod progress;

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::CommandFactory;

use crate::docker::Docker;
use crate::platform::{CreateRequest, Platform, SetupRequest, TenantInfo};
use crate::state::StateDir;
use args::{Cli, Command};

/// Prints `value` as one pretty JSON document on stdout.
fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn print_tenant(t: &TenantInfo) {
    println!("tenant:    {}", t.id);
    println!("host:      {}", t.host);
    println!(
        "pooled:    {} ({} mode, {} server connections per role)",
        t.pooled_host,
        match t.pool.mode {
            crate::state::PoolMode::Transaction => "transaction",
            crate::state::PoolMode::Session => "session",
        },
        t.pool.size
    );
    println!("port:      {}", t.port);
    println!("user:      {}", t.user);
    println!("database:  {}", t.database);
    println!("status:    {}", t.status);
    println!("access:    {}", if t.access { "enabled" } else { "disabled" });
    if !t.allow.is_empty() {
        println!("allow:     {}", t.allow.join(", "));
    }
    println!("image:     {}", t.image);
    match t.local_port {
        Some(port) => println!("local:     127.0.0.1:{port} (on this host, bypassing the gateway)"),
        None => println!(
            "local:     psql \"host={} user={} dbname={}\" (on this host, bypassing the gateway)",
            t.socket_dir, t.user, t.database
        ),
    }
    if t.egress {
        println!("egress:    on (the container may connect out)");
    }
    println!("volume:    {}", t.volume);
    for v in t.data_volumes.iter().filter(|v| v.name != t.volume) {
        println!("           {} ({}; `pgs prune-volumes {} --volume {}` deletes it)", v.name, v.role, t.id, v.name);
    }
    println!("backups:   {}", if t.backups { "on (`pgs backup list` shows them)" } else { "off" });
    if let Some(a) = &t.archiving {
        if a.ok {
            println!("archiving: ok (last segment archived {} UTC)", a.last_archived_at.as_deref().unwrap_or("never"));
        } else {
            println!(
                "archiving: FAILING since {} UTC ({} failed attempts; last segment {})",
                a.last_failed_at.as_deref().unwrap_or("?"),
                a.failed_count,
                a.last_failed_wal.as_deref().unwrap_or("?")
            );
        }
    }
    if let Some(b) = &t.last_backup {
        let when = crate::backup::utc(b.at as i64);
        match &b.error {
            None => println!("backup:    {} {} at {when} UTC", b.kind, b.label.as_deref().unwrap_or_default()),
            Some(e) => println!("backup:    FAILED at {when} UTC: {}", e.lines().next().unwrap_or_default()),
        }
    }
    if let Some(d) = &t.last_drill {
        let when = crate::backup::utc(d.at as i64);
        match &d.error {
            None => println!("drill:     passed {when} UTC ({}s)", d.seconds),
            Some(e) => println!("drill:     FAILED {when} UTC: {}", e.lines().next().unwrap_or_default()),
        }
    }
    match &t.password {
        Some(p) => println!("password:  {p}"),
        None => println!("password:  (hidden; --show-password to reveal)"),
    }
    if let Some(url) = &t.url {
        println!("url:       {url}");
    }
    if let Some(url) = &t.pooled_url {
        println!("pooled url: {url}");
    }
}

fn print_table(tenants: &[TenantInfo]) {
    if tenants.is_empty() {
        eprintln!("no tenants yet: `pgs create NAME` makes one");
        return;
    }
    let w = tenants.iter().map(|t| t.id.len()).max().unwrap_or(6).max(6);
    let h = tenants.iter().map(|t| t.host.len()).max().unwrap_or(4).max(4);
    println!("{:w$}  {:h$}  {:9}  {:8}  LAST BACKUP", "TENANT", "HOST", "STATUS", "ACCESS");
    for t in tenants {
        let access = if t.access { "enabled" } else { "disabled" };
        let backup = match (&t.last_backup, t.backups) {
            (_, false) => "off".to_string(),
            (None, true) => "none yet".to_string(),
            (Some(b), true) if b.error.is_some() => format!("FAILED {} UTC", crate::backup::utc(b.at as i64)),
            (Some(b), true) => format!("{} {} UTC", b.kind, crate::backup::utc(b.at as i64)),
        };
        println!("{:w$}  {:h$}  {:9}  {access:8}  {backup}", t.id, t.host, t.status);
    }
}

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

/// Runs the parsed command line.
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
        Command::Gateway(args::GatewayCommand::Run(a)) => {
            init_logging(a.log_format);
            let config = platform.state().config()?;
            let opts = crate::gateway::Options {
                listen: a.listen.unwrap_or_else(|| ([0, 0, 0, 0], config.gateway_port).into()),
                health_listen: a.health_listen,
                allow_plaintext: a.allow_plaintext,
                handshake_timeout: Duration::from_secs(a.handshake_timeout),
                max_connections: a.max_connections,
                max_per_tenant: a.max_connections_per_tenant,
                drain_timeout: Duration::from_secs(a.drain_timeout),
                takeover_drain: Duration::from_secs(a.takeover_drain),
                bind_retry: Duration::from_secs(a.bind_retry.unwrap_or(0)),
                backend: a.backend,
                keep_sessions_on_revoke: a.keep_sessions_on_revoke,
                wake_timeout: Duration::from_secs(a.wake_timeout),
            };
            // A gateway with Docker access (on the host) runs the controller beside it; the
            // managed gateway has its own controller container.
            if !a.no_controller {
                crate::platform::controller::spawn_beside_gateway(platform.state(), opts.wake_timeout).await;
            }
            crate::gateway::run(platform.state().clone(), opts).await?;
        }
        Command::Recreate(a) => {
            let docker = Docker::connect().await?;
            let ids =
                platform.recreate_containers(&docker, a.tenant.as_deref(), Duration::from_secs(a.timeout)).await?;
            eprintln!("pgs: recreated {} container(s)", ids.len());
        }
        Command::Swarm(args::SwarmCommand::Init(a)) => {
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
        Command::Node(args::NodeCommand::Add(a)) => {
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
        Command::Node(args::NodeCommand::List(a)) => {
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
        Command::Move(a) => {
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
        Command::Node(args::NodeCommand::Sync(a)) => {
            let docker = Docker::connect().await?;
            let synced = platform.node_sync(&docker, a.name.as_deref()).await?;
            eprintln!("pgs: the gateways of {} node(s) are up to date", synced.len());
        }
        Command::Node(args::NodeCommand::Remove(a)) => {
            let docker = Docker::connect().await?;
            platform.node_remove(&docker, &a.name).await?;
            eprintln!("pgs: node {} left the swarm", a.name);
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
        Command::Controller(args::ControllerCommand::Run(a)) => {
            init_logging(a.log_format);
            let opts = crate::controller::Options { wake_timeout: Duration::from_secs(a.wake_timeout) };
            let docker = Docker::connect().await?;
            let run = crate::platform::controller::run(platform.state().clone(), docker, opts);
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = run => r?,
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Command::Gateway(args::GatewayCommand::Start(a)) => {
            platform.gateway_start(&Docker::connect().await?, Duration::from_secs(a.drain), false).await?;
            eprintln!("pgs: gateway started");
        }
        Command::Gateway(args::GatewayCommand::Stop) => {
            platform.gateway_stop(&Docker::connect().await?, true).await?;
            eprintln!("pgs: gateway stopped");
        }
        Command::Gateway(args::GatewayCommand::Restart(a)) => {
            platform.gateway_start(&Docker::connect().await?, Duration::from_secs(a.drain), true).await?;
            eprintln!("pgs: gateway replaced (the previous one drains its open sessions)");
        }
        Command::Gateway(args::GatewayCommand::Status(a)) => {
            let st = platform.gateway_status(&Docker::connect().await?).await?;
            if a.json {
                print_json(&st)?;
            } else {
                println!("container: {} ({})", st.status, st.image.as_deref().unwrap_or("no image"));
                println!("ready:     {}", if st.ready { "yes" } else { "no" });
                println!("controller: {}", st.controller);
                if !st.draining.is_empty() {
                    println!("draining:  {}", st.draining.join(", "));
                }
                println!("port:      {} (health on 127.0.0.1:{})", st.port, st.health_port);
                if let Some(g) = &st.gateway {
                    println!("version:   {}", g["version"].as_str().unwrap_or("?"));
                    println!("uptime:    {}s", g["uptime_secs"]);
                    println!("sessions:  {}", g["open_sessions"]);
                }
            }
        }
        Command::Gateway(args::GatewayCommand::Logs(a)) => {
            Docker::connect().await?.print_logs(crate::docker::gateway::CONTAINER, a.follow, &a.tail).await?;
        }
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
