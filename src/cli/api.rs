//! `pgs api run` and `pgs token`.

use anyhow::Result;

use super::args::{ApiCommand, TokenCommand};
use super::init_logging;
use super::output::print_json;
use crate::platform::Platform;

/// Runs one `pgs api` command.
pub(super) async fn run(platform: Platform, command: ApiCommand) -> Result<()> {
    match command {
        ApiCommand::Run(a) => {
            init_logging(a.log_format);
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            let shutdown = async move {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            };
            crate::api::serve(platform, a.listen, shutdown).await
        }
        ApiCommand::Openapi => {
            println!("{}", serde_json::to_string_pretty(&crate::api::openapi())?);
            Ok(())
        }
    }
}

/// Runs one `pgs token` command.
pub(super) fn token(platform: &Platform, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Create(a) => {
            let token = platform.create_token(&a.name, a.read_only)?;
            if a.json {
                print_json(&serde_json::json!({"name": a.name, "read_only": a.read_only, "token": token}))?;
            } else {
                eprintln!(
                    "pgs: token {} ({}); it is shown only now: send it as `Authorization: Bearer TOKEN`",
                    a.name,
                    if a.read_only {
                        "read-only"
                    } else {
                        "read-write: it can do anything pgs can, including drive Docker"
                    }
                );
                println!("{token}");
            }
        }
        TokenCommand::List(a) => {
            let tokens = platform.list_tokens()?;
            if a.json {
                print_json(&tokens)?;
            } else if tokens.is_empty() {
                eprintln!("pgs: no tokens (`pgs token create NAME`)");
            } else {
                for t in tokens {
                    let access =
                        if t.access == crate::platform::tokens::Access::ReadOnly { "read-only" } else { "read-write" };
                    println!("{:24} {access:10} created {}", t.name, t.created_at);
                }
            }
        }
        TokenCommand::Revoke(a) => {
            platform.revoke_token(&a.name)?;
            eprintln!("pgs: token {} revoked", a.name);
        }
    }
    Ok(())
}
