//! The pooled endpoint `TENANT-pooler`: real clients (psql, psycopg, asyncpg, pgJDBC, sqlx) with
//! named prepared statements on a small pool in auto mode (new tenants' default) and in
//! transaction mode, what transaction pooling
//! refuses, cancels that reach only their own client, many clients on few connections, access
//! flips, other roles and password changes, session mode, auto mode, and a tenant restart.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{GatewayProc, Home, psql, unique};

/// Runs `tests/clients/pooled_clients.py CHECK URL ARGS`; its one line, or the failure.
fn python(check: &str, url: &str, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pooled_clients.py");
    let out = Command::new("python3").arg(script).arg(check).arg(url).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success(), "{check}: {stdout} {}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{stdout}");
    stdout
}

/// A tenant and the pooled URL of its role.
fn tenant(home: &Home) -> (String, String, serde_json::Value) {
    let id = unique("pool");
    home.create(&id);
    let info = home.json(&["info", &id, "--json", "--show-password"]);
    let url = info["pooled_url"].as_str().unwrap().to_string();
    (id, url, info)
}

/// Server connections the tenant's PostgreSQL has from the pooler (idle ones included).
fn pooler_backends(home: &Home, id: &str) -> i64 {
    let info = home.json(&["info", id, "--json", "--show-password"]);
    let (_, out, err) = psql(
        info["url"].as_str().unwrap(),
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgs-pooler' AND usename <> 'postgres'",
    );
    out.parse().unwrap_or_else(|_| panic!("{err}"))
}

#[test]
fn real_clients_with_named_statements_share_a_small_pool() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let (id, url, info) = tenant(&home);
    assert_eq!(info["pooled_host"], format!("{id}-pooler.pgs.test"));
    assert!(url.contains(&format!("@{id}-pooler.pgs.test:{}/", gw.port)), "{url}");
    // New tenants pool in auto mode; up to half the pool may be reserved (at least one).
    let shown = home.json(&["pool", &id, "--size", "3", "--json"]);
    assert_eq!((shown["mode"].as_str(), shown["size"].as_u64()), (Some("auto"), Some(3)));
    assert_eq!(shown["reserve_limit"], 1, "{shown}");

    // psql, with SCRAM channel binding required: the gateway authenticates the client itself.
    let (ok, out, err) = psql(&format!("{url}&channel_binding=require"), "SELECT current_user, 40 + 2");
    assert!(ok && out == format!("{id}|42"), "{err}");
    // A wrong password is refused as PostgreSQL would.
    let wrong = url.replacen(&format!(":{}@", info["password"].as_str().unwrap()), ":wrong@", 1);
    let (ok, _, err) = psql(&wrong, "SELECT 1");
    assert!(!ok && err.contains("password authentication failed"), "{err}");

    python("psycopg", &url, &["12", "20"]);
    python("asyncpg", &url, &["12", "20"]);
    python("many", &url, &["200"]);
    // Never more server connections than the pool's size (no per-client backend).
    assert!(pooler_backends(&home, &id) <= 3, "more server connections than the pool size");

    // pgJDBC with prepareThreshold=1.
    let classes = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/JdbcPooled.java");
    assert!(Command::new("javac").arg("-d").arg(classes.path()).arg(&source).status().unwrap().success());
    let hosts = classes.path().join("hosts");
    std::fs::write(&hosts, format!("127.0.0.1 {id}-pooler.pgs.test\n")).unwrap();
    let jdbc_url = format!(
        "jdbc:postgresql://{id}-pooler.pgs.test:{}/{id}?ssl=true&sslmode=verify-full&sslrootcert={}",
        gw.port,
        home.ca_file().display()
    );
    let cp = format!("{}:/usr/share/java/postgresql.jar", classes.path().display());
    let out = Command::new("java")
        .arg(format!("-Djdk.net.hosts.file={}", hosts.display()))
        .args(["-cp", &cp, "JdbcPooled", &jdbc_url, &id, info["password"].as_str().unwrap(), "8", "20"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pgJDBC: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // sqlx caches every statement under a name per connection.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row};
        let opts = sqlx::postgres::PgConnectOptions::new()
            .host("127.0.0.1")
            .port(gw.port)
            .username(&format!("{id}.{id}-pooler"))
            .password(info["password"].as_str().unwrap())
            .database(&id)
            .ssl_mode(sqlx::postgres::PgSslMode::Require);
        let mut tasks = Vec::new();
        for n in 0..8i32 {
            let opts = opts.clone();
            tasks.push(tokio::spawn(async move {
                let mut conn = sqlx::PgConnection::connect_with(&opts).await.unwrap();
                for i in 0..20i32 {
                    let row =
                        sqlx::query("SELECT $1::int4 + $2::int4").bind(n).bind(i).fetch_one(&mut conn).await.unwrap();
                    assert_eq!(row.get::<i32, _>(0), n + i);
                    let mut tx = conn.begin().await.unwrap();
                    let row = sqlx::query("SELECT $1::text").bind(format!("{i}")).fetch_one(&mut *tx).await.unwrap();
                    assert_eq!(row.get::<String, _>(0), format!("{i}"));
                    tx.commit().await.unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    eprintln!("sqlx: 8 connections x 20 rounds ok");
    drop(gw);
}

#[test]
fn transaction_mode_refuses_what_it_cannot_do_and_cancels_only_the_right_client() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let (id, url, info) = tenant(&home);

    // In a pool of one: refusals, session SETs carried without leaking to the other client, and
    // a cancel from another (idle) client touches nothing.
    home.ok(&["pool", &id, "--mode", "transaction", "--size", "1", "--queue-timeout", "20"]);
    std::thread::sleep(Duration::from_millis(600));
    python("refusals", &url, &[]);
    python("cancel", &url, &[]);

    // A full pool queues, then refuses with 53300.
    home.ok(&["pool", &id, "--queue-timeout", "1"]);
    std::thread::sleep(Duration::from_millis(600));
    let holder = common::psql_bg(&url, "SELECT pg_sleep(4)");
    std::thread::sleep(Duration::from_millis(800));
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(!ok && err.contains("pool is exhausted"), "{err}");
    assert!(common::finished(holder).0);

    // Another role the tenant made logs in with its own password; a changed password works at
    // the next login, and the old one no longer does.
    home.ok(&["pool", &id, "--size", "4", "--queue-timeout", "20"]);
    std::thread::sleep(Duration::from_millis(600));
    // Drivers with named prepared statements in transaction mode, as in auto mode above.
    python("psycopg", &url, &["8", "10"]);
    python("asyncpg", &url, &["8", "10"]);
    let secrets: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join(format!("secrets/{id}.json"))).unwrap()).unwrap();
    let admin = format!(
        "host={} user=postgres dbname=postgres password={}",
        info["socket_dir"].as_str().unwrap(),
        secrets["superuser_password"].as_str().unwrap()
    );
    let (ok, _, err) =
        psql(&admin, &format!("CREATE ROLE app LOGIN PASSWORD 'first-pw'; GRANT CONNECT ON DATABASE \"{id}\" TO app"));
    assert!(ok, "{err}");
    let app_url =
        |pw: &str| url.replacen(&format!("{id}:{}@", info["password"].as_str().unwrap()), &format!("app:{pw}@"), 1);
    let (ok, out, err) = psql(&app_url("first-pw"), "SELECT current_user");
    assert!(ok && out == "app", "{err}");
    assert!(psql(&admin, "ALTER ROLE app PASSWORD 'second-pw'").0);
    // A verifier looked up is reused for half a second (a burst of logins costs one lookup).
    std::thread::sleep(Duration::from_millis(600));
    let (ok, out, err) = psql(&app_url("second-pw"), "SELECT current_user");
    assert!(ok && out == "app", "{err}");
    assert!(!psql(&app_url("first-pw"), "SELECT 1").0);
    // Within that half second, a failed login forgets the verifier: the retry looks it up again.
    assert!(psql(&admin, "ALTER ROLE app PASSWORD 'third-pw'").0);
    let (ok, _, _) = psql(&app_url("third-pw"), "SELECT 1");
    if !ok {
        let (ok, _, err) = psql(&app_url("third-pw"), "SELECT 1");
        assert!(ok, "the retry after a changed password failed: {err}");
    }

    // A tenant restart is survived by a client that was idle.
    let held = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/pooled_clients.py"))
        .args(["held", &url, "6"])
        .output();
    let held = std::thread::spawn(move || held);
    std::thread::sleep(Duration::from_secs(2));
    common::docker(&["restart", "-t", "5", &format!("pgs-{id}")]);
    let out = held.join().unwrap().unwrap();
    assert!(out.status.success(), "idle client across a restart: {}", String::from_utf8_lossy(&out.stderr));

    // Session mode: what transaction mode refuses works.
    home.ok(&["pool", &id, "--mode", "session"]);
    std::thread::sleep(Duration::from_millis(600));
    let (ok, _, err) = psql(&url, "LISTEN jobs; SET search_path = public; SELECT 1");
    assert!(ok, "{err}");
    // ...and a session-mode client sees its server as a direct client would: its real pid, a
    // notification while idle, its own cancel.
    python("session", &url, &[]);

    // Auto mode: what transaction mode refuses reserves a connection for the client (up to half
    // the pool), shown in the metrics by reason; other clients still share and never see it.
    home.ok(&["pool", &id, "--mode", "auto", "--size", "2"]);
    std::thread::sleep(Duration::from_millis(600));
    // The limit on reservations is a setting (at most the pool's size).
    let err = home.fails(&["pool", &id, "--reserve", "3"]);
    assert!(err.contains("at most --size"), "{err}");
    let holder = common::psql_bg(&url, "LISTEN jobs; SELECT pg_sleep(3)");
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let metrics = loop {
        let (_, metrics) = gw.http("/metrics");
        if metrics.contains("reason=\"listen\"} 1") || std::time::Instant::now() > deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(metrics.contains("reason=\"listen\"} 1"), "{metrics}");
    let shown = home.json(&["pool", &id, "--json"]);
    assert_eq!(shown["reserved"]["listen"], 1, "{shown}");
    assert!(common::finished(holder).0);
    python("auto", &url, &[]);
    // Every reason, on a pool of one: the other client waits, then never sees the state.
    home.ok(&["pool", &id, "--size", "1", "--queue-timeout", "20"]);
    std::thread::sleep(Duration::from_millis(600));
    python("reasons", &url, &[]);
    // Random statements that make and end session state, across four clients on a pool of four
    // (two reservations): no client ever sees another's state. A new seed each run (printed).
    home.ok(&["pool", &id, "--size", "4"]);
    std::thread::sleep(Duration::from_millis(600));
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() % 100_000;
    python("interleaved", &url, &[&seed.to_string(), "300"]);
    home.ok(&["pool", &id, "--mode", "session", "--size", "4"]);
    std::thread::sleep(Duration::from_millis(600));

    // disable-access closes pooled sessions too.
    let open = common::psql_bg(&url, "SELECT pg_sleep(20)");
    std::thread::sleep(Duration::from_millis(800));
    home.ok(&["disable-access", &id]);
    let (ok, err) = common::finished(open);
    assert!(!ok && err.contains("does not accept external connections"), "{err}");
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(!ok && err.contains("does not accept external connections"), "{err}");
    drop(gw);
}

#[test]
fn tenant_ids_ending_in_pooler_are_refused() {
    let home = Home::new();
    let err = home.fails(&["create", "shop-pooler"]);
    assert!(err.contains("pooled endpoint"), "{err}");
}
