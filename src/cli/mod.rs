//! The command-line interface: argument parsing ([`args`]), then one handler per group of
//! commands (`tenants`, `gateway`, `nodes`, `backup`, `certs`) that calls [`crate::platform`]
//! and renders the result (`output`: human lines or one `--json` document); prompts here,
//! progress in [`progress`]. Nothing below this layer prints.

mod api;
pub mod args;
mod backup;
mod certs;
mod gateway;
mod ha;
mod nodes;
mod output;
pub mod progress;
mod tenants;

use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use clap::CommandFactory;

use crate::docker::Docker;
use crate::platform::{Platform, SetupRequest};
use crate::state::StateDir;
use args::{Cli, Command};
use output::print_json;

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
        Command::Gateway(args::GatewayCommand::Run(_))
            | Command::Controller(args::ControllerCommand::Run(_))
            | Command::Agent(_)
            | Command::Api(_)
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
        Command::Create(a) => tenants::create(&platform, a).await?,
        Command::List(a) => tenants::list(&platform, a).await?,
        Command::Info(a) => tenants::info(&platform, a).await?,
        Command::Start(a) => tenants::start(&platform, a).await?,
        Command::Stop(a) => tenants::stop(&platform, a).await?,
        Command::Remove(a) => tenants::remove(&platform, a).await?,
        Command::PruneVolumes(a) => tenants::prune_volumes(&platform, a).await?,
        Command::EnableAccess(a) => tenants::enable_access(&platform, a).await?,
        Command::DisableAccess(a) => tenants::disable_access(&platform, a).await?,
        Command::Allow(a) => tenants::allow(&platform, a).await?,
        Command::Deny(a) => tenants::deny(&platform, a).await?,
        Command::Recreate(a) => tenants::recreate(&platform, a).await?,
        Command::Pool(a) => tenants::pool(&platform, a).await?,
        Command::SuspendPolicy(a) => tenants::suspend_policy(&platform, a).await?,
        Command::Suspend(a) => tenants::suspend(&platform, a).await?,
        Command::Gateway(c) => gateway::run(&platform, c).await?,
        Command::Controller(c) => gateway::controller(&platform, c).await?,
        Command::Swarm(c) => nodes::run(&platform, nodes::NodesCommand::Swarm(c)).await?,
        Command::Node(c) => nodes::run(&platform, nodes::NodesCommand::Node(c)).await?,
        Command::Move(a) => nodes::run(&platform, nodes::NodesCommand::Move(a)).await?,
        Command::Ha(c) => ha::run(&platform, c).await?,
        Command::Switchover(a) => ha::switchover(&platform, a).await?,
        Command::Agent(c) => ha::agent(&platform, c).await?,
        Command::Certs(c) => certs::run(&platform, c).await?,
        Command::Backup(c) => backup::run(&platform, c).await?,
        Command::Restore(a) => backup::restore(&platform, a).await?,
        Command::Clone(a) => backup::clone(&platform, a).await?,
        Command::Api(c) => api::run(platform, c).await?,
        Command::Token(c) => api::token(&platform, c)?,
        Command::Completions(a) => {
            clap_complete::generate(a.shell, &mut Cli::command(), "pgs", &mut std::io::stdout());
        }
    }
    Ok(())
}
