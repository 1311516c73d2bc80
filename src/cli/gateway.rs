//! `pgs gateway run|start|stop|restart|status|logs` and `pgs controller run`: the gateway in
//! the foreground (with a controller beside it) or managed as a container.

use std::time::Duration;

use anyhow::Result;

use super::args::{ControllerCommand, GatewayCommand};
use super::{init_logging, print_json};
use crate::docker::Docker;
use crate::platform::Platform;

/// Runs one `pgs gateway` command.
pub(super) async fn run(platform: &Platform, command: GatewayCommand) -> Result<()> {
    match command {
        GatewayCommand::Run(a) => {
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
                serve_threads: a.serve_threads.unwrap_or_else(crate::gateway::workers::default_threads),
            };
            // A gateway with Docker access (on the host) runs the controller beside it; the
            // managed gateway has its own controller container.
            if !a.no_controller {
                crate::platform::controller::spawn_beside_gateway(platform.state(), opts.wake_timeout).await;
            }
            crate::gateway::run(platform.state().clone(), opts).await?;
        }
        GatewayCommand::Start(a) => {
            platform.gateway_start(&Docker::connect().await?, Duration::from_secs(a.drain), false).await?;
            eprintln!("pgs: gateway started");
        }
        GatewayCommand::Stop => {
            platform.gateway_stop(&Docker::connect().await?, true).await?;
            eprintln!("pgs: gateway stopped");
        }
        GatewayCommand::Restart(a) => {
            platform.gateway_start(&Docker::connect().await?, Duration::from_secs(a.drain), true).await?;
            eprintln!("pgs: gateway replaced (the previous one drains its open sessions)");
        }
        GatewayCommand::Status(a) => {
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
        GatewayCommand::Logs(a) => {
            let docker = Docker::connect().await?;
            docker.copy_logs(crate::docker::gateway::CONTAINER, a.follow, &a.tail, &mut std::io::stdout()).await?;
        }
    }
    Ok(())
}

/// Runs one `pgs controller` command.
pub(super) async fn controller(platform: &Platform, command: ControllerCommand) -> Result<()> {
    match command {
        ControllerCommand::Run(a) => {
            init_logging(a.log_format);
            let opts = crate::controller::Options { wake_timeout: Duration::from_secs(a.wake_timeout), node: a.node };
            let docker = Docker::connect().await?;
            let run = crate::platform::controller::run(platform.state().clone(), docker, opts);
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = run => r?,
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
    }
    Ok(())
}
