//! How results are shown: one JSON document on stdout with `--json`, else lines for people.

use anyhow::Result;

use crate::platform::TenantInfo;

/// Prints `value` as one pretty JSON document on stdout.
pub(super) fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// One tenant, a field per line (`pgs create`, `pgs info`).
pub(super) fn print_tenant(t: &TenantInfo) {
    println!("tenant:    {}", t.id);
    println!("host:      {}", t.host);
    println!(
        "pooled:    {} ({} mode, {} server connections per role)",
        t.pooled_host,
        t.pool.mode.as_str(),
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

/// Every tenant, a line each (`pgs list`).
pub(super) fn print_table(tenants: &[TenantInfo]) {
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
