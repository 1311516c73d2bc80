//! `pgs`: a multi-tenant PostgreSQL platform on one Docker host.
//!
//! The folders mirror the architecture: [`cli`] (arguments, output), [`state`] (the JSON state
//! dir), [`docker`] (provisioning), [`platform`] (lifecycle verbs composing the two),
//! [`gateway`] (wire protocol, routing, TLS), [`controller`] (scale to zero: waking and
//! suspending tenants for the gateways), [`certs`] (certificates), [`backup`] (the backup
//! engine); [`progress`] is how the
//! lower layers report long operations to whoever drives them.

pub mod backup;
pub mod certs;
pub mod cli;
pub mod controller;
pub mod docker;
pub mod gateway;
pub mod platform;
pub mod progress;
pub mod state;

use clap::Parser;

fn main() {
    let cli = cli::args::Cli::parse();
    progress::install(Box::new(cli::progress::Terminal));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(cli::run(cli)) {
        // The first line says what failed; later lines (container logs) add detail.
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        eprintln!("error: {}", chain.join(": "));
        std::process::exit(1);
    }
}
