//! The `exec` provider: runs `PROGRAM present|cleanup FQDN VALUE`, the contract lego uses, so
//! any DNS host can be scripted.

use std::time::Duration;

use super::Record;
use crate::certs::{CertError, Result};

/// Runs the program for one record (60 s at most).
pub async fn run(program: &str, action: &'static str, r: &Record) -> Result<()> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args([action, &r.fqdn, &r.value]).kill_on_drop(true).stdin(std::process::Stdio::null());
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .map_err(|source| CertError::TimeoutExec { program: program.to_string(), action, source })?
        .map_err(|source| CertError::DnsExecSpawn { program: program.to_string(), source })?;
    if !out.status.success() {
        return Err(CertError::DnsExecFailed {
            program: program.to_string(),
            action,
            fqdn: r.fqdn.clone(),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}
