//! The `exec` provider: runs `PROGRAM present|cleanup FQDN VALUE`, the contract lego uses, so
//! any DNS host can be scripted.

use std::time::Duration;

use anyhow::{Context, Result, bail};

use super::Record;

/// Runs the program for one record (60 s at most).
pub async fn run(program: &str, action: &str, r: &Record) -> Result<()> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args([action, &r.fqdn, &r.value]).kill_on_drop(true).stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .with_context(|| format!("{program} {action} did not finish within 60s"))?
        .with_context(|| format!("cannot run {program}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{program} {action} {} failed ({}): {}", r.fqdn, out.status, err.trim());
    }
    Ok(())
}
