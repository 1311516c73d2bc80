//! The client matrix: each real client library connects through the gateway, runs a query and,
//! where the client can, cancels a running `pg_sleep(30)`. Prints one line per client.
//! Clients that cannot send SNI (they connect by IP) use the documented fallback, the tenant in
//! the user name.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{GatewayProc, Home, unique};

type Line = Result<String, String>;

fn run(cmd: &mut Command, name: &str) -> Line {
    let out = cmd.output().map_err(|e| format!("{name}: cannot run: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(format!("{name}: {stdout} {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// psql: a query, then Ctrl-C (SIGINT) during `pg_sleep(30)`.
fn psql(label: &str, conninfo: &str) -> Line {
    let (ok, _, err) = common::psql(conninfo, "SELECT 1");
    if !ok {
        return Err(format!("psql {label}: {err}"));
    }
    let child = Command::new("psql")
        .args([conninfo, "-X", "-c", "SELECT pg_sleep(30)"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_millis(1000));
    let sent = Instant::now();
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let took = sent.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.contains("canceling statement due to user request") || took > Duration::from_secs(2) {
        return Err(format!("psql {label}: cancel failed after {took:?}: {err}"));
    }
    Ok(format!("psql/libpq 15 {label}: query ok, cancel ok ({:.2}s)", took.as_secs_f64()))
}

fn python(script: &str, args: &[&str], name: &str) -> Line {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(script);
    run(Command::new("python3").arg(script).args(args), name)
}

/// `endpoint` is the tenant's host label: `ID` (direct) or `ID-pooler`.
fn jdbc(home: &Home, gw: &GatewayProc, id: &str, endpoint: &str, password: &str) -> Line {
    let classes = tempfile::tempdir().map_err(|e| e.to_string())?;
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/JdbcCheck.java");
    run(Command::new("javac").arg("-d").arg(classes.path()).arg(&source), "javac")?;
    // No DNS for the test domain: a hosts file for the JVM only, so the URL keeps the tenant's
    // host name (SNI and verify-full work as in production).
    let hosts = classes.path().join("hosts");
    std::fs::write(&hosts, format!("127.0.0.1 {endpoint}.pgs.test\n")).map_err(|e| e.to_string())?;
    let url = format!(
        "jdbc:postgresql://{endpoint}.pgs.test:{}/{id}?ssl=true&sslmode=verify-full&sslrootcert={}",
        gw.port,
        home.ca_file().display()
    );
    let cp = format!("{}:/usr/share/java/postgresql.jar", classes.path().display());
    run(
        Command::new("java").arg(format!("-Djdk.net.hosts.file={}", hosts.display())).args([
            "-cp",
            &cp,
            "JdbcCheck",
            &url,
            id,
            password,
        ]),
        "pgJDBC",
    )
}

async fn tokio_postgres(home: &Home, gw: &GatewayProc, id: &str, endpoint: &str, password: &str) -> Line {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(home.ca_file()).map_err(|e| e.to_string())?;
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(config);
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(format!("{endpoint}.pgs.test"))
        .hostaddr("127.0.0.1".parse().unwrap())
        .port(gw.port)
        .user(id)
        .password(password)
        .dbname(id)
        .ssl_mode(tokio_postgres::config::SslMode::Require)
        .connect_timeout(Duration::from_secs(10));
    let (client, conn) = cfg.connect(tls.clone()).await.map_err(|e| format!("tokio-postgres: {e}"))?;
    tokio::spawn(conn);
    let row = client.query_one("SELECT 1", &[]).await.map_err(|e| e.to_string())?;
    if row.get::<_, i32>(0) != 1 {
        return Err("tokio-postgres: wrong result".into());
    }
    let token = client.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        token.cancel_query(tls).await
    });
    let started = Instant::now();
    let err = client.simple_query("SELECT pg_sleep(30)").await.err().ok_or("tokio-postgres: not cancelled")?;
    let took = started.elapsed();
    canceller.await.map_err(|e| e.to_string())?.map_err(|e| format!("tokio-postgres cancel: {e}"))?;
    if err.code() != Some(&tokio_postgres::error::SqlState::QUERY_CANCELED) || took > Duration::from_secs(5) {
        return Err(format!("tokio-postgres: {err} after {took:?}"));
    }
    Ok(format!("tokio-postgres (rustls, SNI, verified): query ok, cancel ok ({:.2}s)", took.as_secs_f64()))
}

/// sqlx: connects by IP (no SNI, no hostaddr), so the tenant goes in the user name. Its
/// rustls verify-ca still checks the name against the IP, so this uses `require` (encrypted,
/// unverified), as a user without DNS for the domain would. sqlx has no cancel API.
async fn sqlx(gw: &GatewayProc, id: &str, endpoint: &str, password: &str) -> Line {
    use sqlx::Connection;
    let opts = sqlx::postgres::PgConnectOptions::new()
        .host("127.0.0.1")
        .port(gw.port)
        .username(&format!("{id}.{endpoint}"))
        .password(password)
        .database(id)
        .ssl_mode(sqlx::postgres::PgSslMode::Require);
    let mut conn = sqlx::PgConnection::connect_with(&opts).await.map_err(|e| format!("sqlx: {e}"))?;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut conn).await.map_err(|e| format!("sqlx: {e}"))?;
    conn.close().await.map_err(|e| e.to_string())?;
    if one != 1 {
        return Err("sqlx: wrong result".into());
    }
    Ok(format!("sqlx 0.8 (rustls, require): query ok, cancel n/a (sqlx has no cancel) [user {id}.{endpoint}]"))
}

/// Every client of the matrix against one endpoint of tenant `id`: `endpoint` is `ID` (direct)
/// or `ID-pooler`; `gateway_pid`: the pooled endpoint in a mode that shares connections, where
/// the backend pid a client is told is the gateway's, not its server's.
/// `url` is the endpoint's connection URL as pgs prints it.
async fn matrix(
    home: &Home,
    gw: &GatewayProc,
    id: &str,
    endpoint: &str,
    url: &str,
    password: &str,
    gateway_pid: bool,
) -> Vec<(&'static str, Line)> {
    let port = gw.port.to_string();
    let ca = home.ca_file().to_string_lossy().into_owned();
    let require = format!(
        "host={endpoint}.pgs.test hostaddr=127.0.0.1 port={port} user={id} password={password} dbname={id} sslmode=require"
    );
    let mut lines: Vec<(&str, Line)> = vec![
        ("psql require", psql("sslmode=require", &require)),
        ("psql verify-full", psql("sslmode=verify-full", url)),
    ];
    for mode in ["classic", "direct", "proto32"] {
        let mut args = vec![url, mode];
        if gateway_pid {
            args.push("gateway-pid");
        }
        lines.push(("psycopg", python("psycopg_check.py", &args, "psycopg").map(|l| format!("psycopg 3 ({l})"))));
    }
    for mode in ["classic", "direct"] {
        let line =
            python("python_clients.py", &["asyncpg", mode, "127.0.0.1", &port, id, password, &ca, endpoint], "asyncpg");
        lines.push(("asyncpg", line.map(|l| format!("{l} [{mode}, user {id}.{endpoint}]"))));
    }
    let line =
        python("python_clients.py", &["pg8000", "classic", "127.0.0.1", &port, id, password, &ca, endpoint], "pg8000");
    lines.push(("pg8000", line.map(|l| format!("{l} [user {id}.{endpoint}]"))));
    lines.push(("tokio-postgres", tokio_postgres(home, gw, id, endpoint, password).await));
    lines.push(("sqlx", sqlx(gw, id, endpoint, password).await));
    lines.push(("pgJDBC", jdbc(home, gw, id, endpoint, password)));
    lines
}

#[tokio::test(flavor = "multi_thread")]
async fn client_matrix() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let id = unique("matrix");
    home.create(&id);
    let info = home.json(&["info", &id, "--json", "--show-password"]);
    let password = info["password"].as_str().unwrap().to_string();
    let (url, pooled_url) = (info["url"].as_str().unwrap(), info["pooled_url"].as_str().unwrap());
    let pooler = format!("{id}-pooler");

    // The direct endpoint, then the pooled one in session mode (indistinguishable from direct)
    // and in auto mode, the default of new tenants (the pid a client is told is the gateway's).
    let mut failed = Vec::new();
    let endpoints = [
        ("direct", id.as_str(), url, None),
        ("pooled session", &pooler, pooled_url, Some("session")),
        ("pooled auto", &pooler, pooled_url, Some("auto")),
    ];
    for (label, endpoint, url, mode) in endpoints {
        if let Some(mode) = mode {
            home.ok(&["pool", &id, "--mode", mode]);
            std::thread::sleep(Duration::from_millis(600));
        }
        let lines = matrix(&home, &gw, &id, endpoint, url, &password, mode == Some("auto")).await;
        eprintln!("client matrix through the gateway, {label} endpoint:");
        for (name, line) in lines {
            match &line {
                Ok(l) => eprintln!("  ok    {name:16} {l}"),
                Err(e) => eprintln!("  FAIL  {name:16} {e}"),
            }
            if let Err(e) = line {
                failed.push(format!("{label}: {e}"));
            }
        }
    }
    assert!(failed.is_empty(), "{} client(s) failed:\n{failed:#?}\ngateway log:\n{}", failed.len(), home.gateway_log());
}
