//! The gateway with real tenants and real clients (psql/libpq, rustls for direct TLS, raw
//! sockets for the protocol's edges).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{GatewayProc, Home, finished, pgbench, pgbench_clean, psql, psql_bg, unique};

/// A libpq connection string for `user` through the gateway, without SNI (by IP).
fn by_ip(gw: &GatewayProc, user: &str, password: &str, extra: &str) -> String {
    format!(
        "host=127.0.0.1 port={} user={user} password={password} dbname={} sslmode=require {extra}",
        gw.port,
        user.split('.').next().unwrap()
    )
}

fn password(doc: &serde_json::Value) -> String {
    doc["password"].as_str().unwrap().to_string()
}

#[test]
fn sni_verify_full_routes_each_tenant_to_its_own_data() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    // Tenants created while the gateway runs are routable without a restart.
    let (a, b) = (unique("sni"), unique("sni"));
    let doc_a = home.create(&a);
    let doc_b = home.create(&b);
    let url_a = doc_a["url"].as_str().unwrap();
    let url_b = doc_b["url"].as_str().unwrap();
    assert!(url_a.contains("sslmode=verify-full") && url_a.contains(&format!(":{}/", gw.port)), "{url_a}");

    let (ok, out, err) =
        psql(url_a, "CREATE TABLE secret (v text); INSERT INTO secret VALUES ('only-a'); SELECT current_user");
    assert!(ok, "{err}\n{}", home.gateway_log());
    assert_eq!(out.lines().last().unwrap(), a);
    // The gateway reached the tenant over its Unix socket (the default hop), not TCP. (The
    // connection's log line is written when the session ends, a moment after psql exits.)
    let deadline = Instant::now() + Duration::from_secs(3);
    while !home.gateway_log().contains("outcome=") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = home.gateway_log();
    assert!(log.contains("backend=\"unix\"") || log.contains("backend=unix"), "{log}");
    assert!(!log.contains("backend=\"tcp\"") && !log.contains("backend=tcp"), "{log}");
    let (ok, _, err) = psql(url_b, "SELECT * FROM secret");
    assert!(!ok && err.contains("relation \"secret\" does not exist"), "{err}");
    let (ok, out, _) = psql(url_b, "SELECT current_database()");
    assert!(ok);
    assert_eq!(out, b);

    // verify-full really verifies: another CA is refused.
    let other = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other.path(), include_str!("../tests/data/other-ca.pem")).unwrap();
    let bad = url_a.replace(
        &format!("sslrootcert={}", home.ca_file().to_string_lossy().replace('/', "%2F")),
        &format!("sslrootcert={}", other.path().display()),
    );
    let (ok, _, err) = psql(&bad, "SELECT 1");
    assert!(!ok && err.contains("certificate verify failed"), "{err}");

    // Metrics count the sessions per tenant (the refused handshake is counted once the
    // gateway has seen the client's alert, a moment after psql exits).
    let deadline = Instant::now() + Duration::from_secs(3);
    let metrics = loop {
        let (_, metrics) = gw.http("/metrics");
        if metrics.contains("pgs_gateway_handshake_errors_total{generation=\"1\"} 1") || Instant::now() > deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        metrics.contains(&format!("pgs_gateway_tenant_sessions_total{{generation=\"1\",tenant=\"{a}\"}} 1")),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("pgs_gateway_tenant_sessions_total{{generation=\"1\",tenant=\"{b}\"}} 2")),
        "{metrics}"
    );
    assert!(metrics.contains("pgs_gateway_handshake_errors_total{generation=\"1\"} 1"), "{metrics}");
}

#[test]
fn clients_without_sni_use_options_or_user_name() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let id = unique("nosni");
    let pw = password(&home.create(&id));
    // options=tenant=ID, other options kept.
    let (ok, out, err) =
        psql(&by_ip(&gw, &id, &pw, &format!("options='-c search_path=x tenant={id}'")), "SHOW search_path");
    assert!(ok, "{err}");
    assert_eq!(out, "x");
    // USER.TENANT, rewritten to USER.
    let (ok, out, err) = psql(&by_ip(&gw, &format!("{id}.{id}"), &pw, ""), "SELECT current_user");
    assert!(ok, "{err}");
    assert_eq!(out, id);
    // A user name equal to the tenant id.
    let (ok, _, err) = psql(&by_ip(&gw, &id, &pw, ""), "SELECT 1");
    assert!(ok, "{err}");
    // No key at all.
    let (ok, _, err) = psql(&by_ip(&gw, "someone", &pw, ""), "SELECT 1");
    assert!(!ok && err.contains("no tenant named by the connection"), "{err}");
    // Keys naming different tenants.
    let conninfo = format!(
        "host={id}.pgs.test hostaddr=127.0.0.1 port={} user=x password=y dbname=x sslmode=require options=tenant=other",
        gw.port
    );
    let (ok, _, err) = psql(&conninfo, "SELECT 1");
    assert!(!ok && err.contains("names two different tenants"), "{err}");
    // Unknown tenant.
    let conninfo =
        format!("host=nobody.pgs.test hostaddr=127.0.0.1 port={} user=x password=y sslmode=require", gw.port);
    let (ok, _, err) = psql(&conninfo, "SELECT 1");
    assert!(!ok && err.contains("tenant nobody does not exist"), "{err}");
    assert!(!home.gateway_log().contains("10.213."), "no internal address in logs of refusals");
}

#[test]
fn plaintext_is_refused_with_a_message() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let conninfo = format!("host=127.0.0.1 port={} user=t1 password=x sslmode=disable gssencmode=disable", gw.port);
    let (ok, _, err) = psql(&conninfo, "SELECT 1");
    assert!(!ok && err.contains("requires TLS"), "{err}");
}

#[test]
fn disable_access_closes_open_sessions_and_enable_reopens() {
    let home = Home::new();
    let _gw = GatewayProc::start(&home, &[]);
    let id = unique("acc");
    let doc = home.create(&id);
    let url = doc["url"].as_str().unwrap().to_string();
    let mut session = std::process::Command::new("psql")
        .args([&url, "-X", "-c", "SELECT pg_sleep(20)"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let disabled = Instant::now();
    home.ok(&["disable-access", &id]);
    let deadline = disabled + Duration::from_secs(5);
    while session.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "session still open after disable-access");
        std::thread::sleep(Duration::from_millis(20));
    }
    let closed_after = disabled.elapsed();
    assert!(closed_after < Duration::from_millis(1500), "closed after {closed_after:?}");
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(!ok && err.contains(&format!("tenant {id} does not accept external connections")), "{err}");
    home.ok(&["enable-access", &id]);
    std::thread::sleep(Duration::from_millis(600));
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(ok, "{err}");
    // A stopped tenant gets its own message.
    home.ok(&["stop", &id]);
    std::thread::sleep(Duration::from_millis(600));
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(!ok && err.contains(&format!("tenant {id} is stopped")), "{err}");
}

#[test]
fn ctrl_c_in_psql_cancels_the_query_through_the_gateway() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let id = unique("cxl");
    let doc = home.create(&id);
    let url = doc["url"].as_str().unwrap().to_string();
    let session = std::process::Command::new("psql")
        .args([&url, "-X", "-c", "SELECT pg_sleep(30)"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let sent = Instant::now();
    std::process::Command::new("kill").args(["-INT", &session.id().to_string()]).status().unwrap();
    let out = session.wait_with_output().unwrap();
    let took = sent.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("canceling statement due to user request"), "{err}\n{}", home.gateway_log());
    assert!(took < Duration::from_secs(2), "cancel took {took:?}");
    let (_, metrics) = gw.http("/metrics");
    assert!(metrics.contains("pgs_gateway_cancel_requests_total{generation=\"1\"} 1"), "{metrics}");
}

fn raw(gw: &GatewayProc) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

fn read_all(mut s: TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    buf
}

fn sqlstate(resp: &[u8]) -> String {
    assert_eq!(resp.first(), Some(&b'E'), "expected an ErrorResponse, got {resp:?}");
    let text = String::from_utf8_lossy(resp);
    text.split('\0').find_map(|f| f.strip_prefix('C')).unwrap_or_default().to_string()
}

#[test]
fn protocol_edges_get_answers_not_hangs() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &["--handshake-timeout", "2"]);
    // GSSENCRequest -> 'N', then SSLRequest on the same socket -> 'S'.
    let mut s = raw(&gw);
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30]).unwrap();
    let mut b = [0u8; 1];
    s.read_exact(&mut b).unwrap();
    assert_eq!(b[0], b'N');
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]).unwrap();
    s.read_exact(&mut b).unwrap();
    assert_eq!(b[0], b'S');
    // Garbage first packet -> protocol violation.
    let mut s = raw(&gw);
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    assert_eq!(sqlstate(&read_all(s)), "08P01");
    // Oversized startup length -> refused without reading it.
    let mut s = raw(&gw);
    s.write_all(&[0, 1, 0, 0, 0, 3, 0, 0]).unwrap();
    assert_eq!(sqlstate(&read_all(s)), "08P01");
    // Bytes pipelined after SSLRequest -> protocol violation (CVE-2021-23214 class).
    let mut s = raw(&gw);
    s.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f, 0, 0, 0, 9, 0, 3, 0, 0, 0]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sqlstate(&read_all(s)), "08P01");
    // A client that sends nothing is closed at the handshake deadline.
    let s = raw(&gw);
    let t = Instant::now();
    let got = read_all(s);
    assert!(got.is_empty() && t.elapsed() < Duration::from_secs(4), "{got:?} after {:?}", t.elapsed());
    // A forged cancel key is accepted silently and cancels nothing.
    let mut s = raw(&gw);
    s.write_all(&[0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 1, 2, 3, 4]).unwrap();
    assert!(read_all(s).is_empty());
    // The gateway is still healthy.
    assert_eq!(gw.http("/health").0, 200);
}

fn tls_client(home: &Home, alpn: bool) -> std::sync::Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(home.ca_file()).unwrap();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    if alpn {
        config.alpn_protocols = vec![b"postgresql".to_vec()];
    }
    std::sync::Arc::new(config)
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_tls_needs_alpn_postgresql() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let id = unique("direct");
    home.create(&id);
    let startup = {
        let mut body = 196608u32.to_be_bytes().to_vec();
        for kv in ["user", &id, "database", &id] {
            body.extend(kv.as_bytes());
            body.push(0);
        }
        body.push(0);
        let mut m = ((body.len() + 4) as u32).to_be_bytes().to_vec();
        m.extend(body);
        m
    };
    let name = rustls::pki_types::ServerName::try_from(format!("{id}.pgs.test")).unwrap();
    for (alpn, expect) in [(true, b'R'), (false, b'E')] {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", gw.port)).await.unwrap();
        let mut tls =
            tokio_rustls::TlsConnector::from(tls_client(&home, alpn)).connect(name.clone(), tcp).await.unwrap();
        tls.write_all(&startup).await.unwrap();
        let mut first = [0u8; 1];
        tls.read_exact(&mut first).await.unwrap();
        assert_eq!(first[0], expect, "alpn={alpn}: first byte {:?}", first[0] as char);
    }
}

#[test]
fn sigterm_drains_then_exits() {
    let home = Home::new();
    let mut gw = GatewayProc::start(&home, &["--drain-timeout", "1"]);
    gw.signal("TERM");
    assert!(gw.wait_exit(5), "gateway did not exit after SIGTERM");
    assert!(TcpStream::connect(("127.0.0.1", gw.port)).is_err(), "still accepting after SIGTERM");
}

#[test]
fn port_in_use_is_one_clear_line() {
    let home = Home::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let err = home.fails(&["gateway", "run", "--listen", &addr, "--health-listen", "127.0.0.1:0"]);
    assert!(err.contains(&format!("cannot listen on {addr}")) && err.contains("--listen"), "{err}");
}

#[test]
fn allowlist_admits_only_listed_networks() {
    let home = Home::new();
    let _gw = GatewayProc::start(&home, &[]);
    let id = unique("allow");
    let url = home.create(&id)["url"].as_str().unwrap().to_string();
    home.ok(&["allow", &id, "198.51.100.0/24"]);
    std::thread::sleep(Duration::from_millis(600));
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(!ok && err.contains("does not accept connections from this address"), "{err}");
    home.ok(&["allow", &id, "127.0.0.1"]);
    std::thread::sleep(Duration::from_millis(600));
    assert!(psql(&url, "SELECT 1").0);
    assert_eq!(home.json(&["info", &id, "--json"])["allow"], serde_json::json!(["198.51.100.0/24", "127.0.0.1/32"]));
    home.ok(&["deny", &id, "127.0.0.1/32"]);
    std::thread::sleep(Duration::from_millis(600));
    assert!(!psql(&url, "SELECT 1").0);
    let err = home.fails(&["allow", &id, "not-a-network"]);
    assert!(err.contains("invalid network"), "{err}");
}

#[test]
fn damaged_routes_file_keeps_the_last_good_routes() {
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let id = unique("keep");
    let url = home.create(&id)["url"].as_str().unwrap().to_string();
    assert!(psql(&url, "SELECT 1").0);
    std::fs::write(home.path().join("routes.json"), "{ half a file").unwrap();
    gw.signal("HUP");
    std::thread::sleep(Duration::from_millis(600));
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(ok, "{err}");
    assert!(home.gateway_log().contains("keeping the previous routes"), "{}", home.gateway_log());
    assert_eq!(gw.http("/ready").0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn renewed_certificate_is_used_for_new_handshakes_without_dropping_sessions() {
    use tokio::io::AsyncWriteExt;
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let id = unique("renew");
    let doc = home.create(&id);
    let url = doc["url"].as_str().unwrap().to_string();
    let fingerprint = |home: &Home| -> Vec<u8> { std::fs::read(home.path().join("certs/cert.pem")).unwrap() };
    let before = fingerprint(&home);
    // An open session (psql reading from a pipe) across the renewal.
    let mut session = tokio::process::Command::new("psql")
        .args([&url, "-X", "-A", "-t"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = session.stdin.take().unwrap();
    stdin.write_all(b"SELECT 'first';\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    home.ok(&["certs", "self-signed"]);
    assert_ne!(before, fingerprint(&home));
    tokio::time::sleep(Duration::from_millis(600)).await;
    // New handshakes present the new certificate (and still verify against the same CA).
    let presented = std::process::Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", gw.port),
            "-starttls",
            "postgres",
            "-servername",
            &format!("{id}.pgs.test"),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let presented = String::from_utf8_lossy(&presented.stdout).to_string();
    let new_leaf = String::from_utf8(fingerprint(&home)).unwrap();
    let new_leaf = new_leaf.split("-----END CERTIFICATE-----").next().unwrap();
    let body: String = new_leaf.lines().filter(|l| !l.starts_with("-----")).collect();
    let presented_body: String = presented
        .split("-----BEGIN CERTIFICATE-----")
        .nth(1)
        .map(|s| s.split("-----END CERTIFICATE-----").next().unwrap().lines().collect())
        .unwrap_or_default();
    assert_eq!(body, presented_body, "the gateway presents the renewed certificate");
    assert!(psql(&url, "SELECT 1").0);
    // The old session is still alive.
    stdin.write_all(b"SELECT 'second';\n").await.unwrap();
    drop(stdin);
    let out = session.wait_with_output().await.unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(out.contains("first") && out.contains("second"), "{out}");
}

/// A Kerberos KDC (MIT krb5 from Debian) for realm PGS.TEST on a free loopback port, with
/// principal `alice` already holding a ticket in the cache at `ccache`: a client with Kerberos
/// credentials, which is what makes libpq open with a GSSENCRequest (`gssencmode=prefer`).
struct Kdc {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Kdc {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let port = common::free_port();
        std::fs::write(
            dir.path().join("krb5.conf"),
            format!(
                "[libdefaults]\n    default_realm = PGS.TEST\n    dns_lookup_kdc = false\n    dns_lookup_realm = false\n\n\
                 [realms]\n    PGS.TEST = {{\n        kdc = 127.0.0.1:{port}\n    }}\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("kdc.conf"),
            format!(
                "[kdcdefaults]\n    kdc_ports = {port}\n    kdc_tcp_ports = {port}\n\n[realms]\n    PGS.TEST = {{\n        \
                 database_name = {d}/principal\n        key_stash_file = {d}/stash\n        acl_file = {d}/kadm5.acl\n    }}\n"
            ),
        )
        .unwrap();
        let krb = |cmd: &str, args: &[&str]| {
            let out = std::process::Command::new(cmd)
                .args(args)
                .envs(Self::env_of(dir.path()))
                .stdin(std::process::Stdio::piped())
                .output()
                .unwrap_or_else(|e| panic!("{cmd} (krb5-kdc, krb5-admin-server, krb5-user packages): {e}"));
            assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
        };
        krb("kdb5_util", &["create", "-s", "-r", "PGS.TEST", "-P", "master-pw"]);
        krb("kadmin.local", &["-r", "PGS.TEST", "-q", "addprinc -pw alice-pw alice"]);
        let child = std::process::Command::new("krb5kdc")
            .args(["-n", "-r", "PGS.TEST"])
            .envs(Self::env_of(dir.path()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("krb5kdc");
        let kdc = Self { child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut kinit = std::process::Command::new("kinit")
                .arg("alice")
                .envs(Self::env_of(kdc.dir.path()))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            // A kinit that finds no KDC yet exits before reading: try again.
            let _ = kinit.stdin.take().unwrap().write_all(b"alice-pw\n");
            if kinit.wait().unwrap().success() {
                return kdc;
            }
            assert!(Instant::now() < deadline, "kinit never got a ticket from the KDC");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn env_of(dir: &std::path::Path) -> Vec<(&'static str, String)> {
        vec![
            ("KRB5_CONFIG", dir.join("krb5.conf").display().to_string()),
            ("KRB5_KDC_PROFILE", dir.join("kdc.conf").display().to_string()),
            ("KRB5CCNAME", format!("FILE:{}", dir.join("ccache").display())),
        ]
    }

    /// Environment under which clients hold alice's ticket.
    fn env(&self) -> Vec<(&'static str, String)> {
        Self::env_of(self.dir.path())
    }
}

impl Drop for Kdc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn gssencmode_prefer_with_kerberos_credentials_falls_back_to_tls() {
    let kdc = Kdc::start();
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let id = unique("gss");
    let pw = password(&home.create(&id));
    let psql_gss = |mode: &str| {
        let conninfo = format!(
            "host={id}.pgs.test hostaddr=127.0.0.1 port={} user={id} password={pw} dbname={id} sslmode=verify-full \
             sslrootcert={} gssencmode={mode}",
            gw.port,
            home.ca_file().display()
        );
        let out = std::process::Command::new("psql")
            .args([conninfo.as_str(), "-X", "-A", "-t", "-c", "SELECT current_user"])
            .envs(kdc.env())
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).trim().to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let gssenc_requests = || {
        let (_, metrics) = gw.http("/metrics");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("pgs_gateway_gssenc_requests_total{generation=\"1\"} "))
            .unwrap_or("?")
            .to_string()
    };
    assert_eq!(gssenc_requests(), "0");
    // Holding a ticket, libpq opens with GSSENCRequest; `N` sends it on to TLS on the same socket.
    let (ok, out, err) = psql_gss("prefer");
    assert!(ok, "{err}\n{}", home.gateway_log());
    assert_eq!(out, id);
    assert_eq!(gssenc_requests(), "1", "libpq with a ticket must have asked for GSS encryption first");
}

#[test]
fn a_new_gateway_takes_over_refusing_no_one_while_the_old_one_drains() {
    let home = Home::new();
    let mut old = GatewayProc::start(&home, &[]);
    let (id, other) = (unique("hand"), unique("hand"));
    let url = home.create(&id)["url"].as_str().unwrap().to_string();
    let url_other = home.create(&other)["url"].as_str().unwrap().to_string();
    let init = std::process::Command::new("pgbench").args(["-i", "-s", "1", "-q", &url]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));

    // Sessions on the old gateway: one ends before its drain deadline, one outlives it, one is
    // cancelled through the new gateway, one loses its access during the overlap.
    let short = psql_bg(&url, "SELECT 'short ' || pg_sleep(3)");
    let long = psql_bg(&url, "SELECT pg_sleep(60)");
    let cancelled = psql_bg(&url, "SELECT pg_sleep(60)");
    let revoked = psql_bg(&url_other, "SELECT pg_sleep(60)");
    // Load across the handover: steady sessions, and a new connection per transaction.
    let steady = pgbench(&url, &["-S", "-c", "4", "-j", "2", "-T", "6"]);
    let reconnecting = pgbench(&url, &["-S", "-C", "-c", "2", "-T", "6"]);
    std::thread::sleep(Duration::from_millis(1500));

    let new = old.successor(&home, &["--takeover-drain", "8s"]);
    let handed_over = Instant::now();
    // The old gateway may accept on the shared health port for a moment after the new one
    // listens (until it hears the handover was confirmed).
    loop {
        let (_, status) = new.http("/status");
        let status: serde_json::Value = serde_json::from_str(&status).unwrap_or_default();
        if status["generation"] == 2 {
            break;
        }
        assert!(handed_over.elapsed() < Duration::from_secs(5), "the new gateway does not serve: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // A cancel reaches the new gateway, which passes it to the old one's session.
    std::process::Command::new("kill").args(["-INT", &cancelled.id().to_string()]).status().unwrap();
    let (ok, text) = finished(cancelled);
    assert!(!ok && text.contains("canceling statement due to user request"), "{text}\n{}", home.gateway_log());
    // Access switched off during the overlap: the old gateway closes its session, the new one
    // refuses new ones.
    home.ok(&["disable-access", &other]);
    let (ok, text) = finished(revoked);
    assert!(!ok && text.contains(&format!("tenant {other} does not accept external connections")), "{text}");
    let (ok, _, err) = psql(&url_other, "SELECT 1");
    assert!(!ok && err.contains("does not accept external connections"), "{err}");

    pgbench_clean(steady, "steady sessions");
    pgbench_clean(reconnecting, "a connection per transaction");
    let (ok, text) = finished(short);
    assert!(ok && text.contains("short"), "{text}");
    // The session that outlives the drain deadline is ended with 57P01, and the old gateway exits.
    let (ok, text) = finished(long);
    let ended_after = handed_over.elapsed();
    assert!(!ok && text.contains("the gateway is restarting, reconnect"), "{text}");
    assert!(ended_after >= Duration::from_secs(7), "ended after {ended_after:?}, before the drain deadline");
    assert!(old.wait_exit(10), "the old gateway did not exit after draining");
    // Metrics name the generation; the cancel was counted by the new one and passed on.
    let (_, metrics) = new.http("/metrics");
    assert!(metrics.contains("generation=\"2\"} 1") && metrics.contains("pgs_gateway_info{"), "{metrics}");
    assert!(metrics.contains("pgs_gateway_cancel_requests_total{generation=\"2\"} 1"), "{metrics}");
    let log = std::fs::read_to_string(home.path().join("gateway-2.log")).unwrap();
    assert!(log.contains("cancel_passed_to_other_generation"), "{log}");
    assert!(psql(&url, "SELECT 1").0, "the new gateway serves");
}

#[test]
fn socket_activated_gateway_replaces_itself_on_sigusr2_and_tells_systemd() {
    let home = Home::new();
    let (port, health) = (common::free_port(), common::free_port());
    home.ok(&["setup", "--yes", "--no-gateway", "--gateway-port", &port.to_string()]);
    let id = unique("usr2");
    let url = home.create(&id)["url"].as_str().unwrap().to_string();
    // systemd's part, played by systemd-socket-activate: the sockets, and a notify socket.
    let notify_path = home.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).unwrap();
    notify.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let log = std::fs::File::create(home.path().join("gateway.log")).unwrap();
    let mut first = std::process::Command::new("systemd-socket-activate")
        .args(["-l", &format!("127.0.0.1:{port}"), "-l", &format!("127.0.0.1:{health}")])
        .args([
            "-E",
            &format!("PGS_HOME={}", home.path().display()),
            "-E",
            &format!("NOTIFY_SOCKET={}", notify_path.display()),
        ])
        .arg(common::pgs_bin())
        .args(["gateway", "run", "--listen", &format!("127.0.0.1:{port}"), "--health-listen", "127.0.0.1:1"])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    // Whatever happens, no gateway process outlives the test.
    struct KillOnDrop(std::sync::Mutex<Vec<u32>>);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            for pid in self.0.lock().unwrap().iter() {
                let _ = std::process::Command::new("kill").arg(pid.to_string()).status();
            }
        }
    }
    let pids = KillOnDrop(std::sync::Mutex::new(vec![first.id()]));
    let next_notice = || {
        let mut buf = [0u8; 512];
        let n = notify.recv(&mut buf).unwrap_or_else(|e| panic!("no notification ({e}):\n{}", home.gateway_log()));
        let text = String::from_utf8_lossy(&buf[..n]).to_string();
        let pid: u32 =
            text.lines().find_map(|l| l.strip_prefix("MAINPID=")).and_then(|p| p.parse().ok()).expect("MAINPID");
        assert!(text.contains("READY=1"), "{text}");
        pids.0.lock().unwrap().push(pid);
        pid
    };
    // systemd-socket-activate listens a moment after it starts (a connection before that is
    // refused); the first connection makes it start the gateway on its sockets.
    let listening = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(listening.elapsed() < Duration::from_secs(10), "systemd-socket-activate does not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(ok, "{err}\n{}", home.gateway_log());
    let main = next_notice();
    assert_eq!(main, first.id(), "the socket-activated process is the main process");
    assert!(home.gateway_log().contains("socket activation"), "{}", home.gateway_log());

    // `systemctl reload`: SIGUSR2 starts the binary again; the new process takes over, becomes
    // the main process, and the old one drains and exits.
    let init = std::process::Command::new("pgbench").args(["-i", "-q", &url]).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let load = pgbench(&url, &["-S", "-C", "-c", "2", "-T", "4"]);
    std::thread::sleep(Duration::from_millis(1000));
    std::process::Command::new("kill").args(["-USR2", &main.to_string()]).status().unwrap();
    let successor = next_notice();
    assert_ne!(successor, main);
    let exited = Instant::now();
    while first.try_wait().unwrap().is_none() {
        assert!(exited.elapsed() < Duration::from_secs(10), "the old process did not exit: {}", home.gateway_log());
        std::thread::sleep(Duration::from_millis(50));
    }
    pgbench_clean(load, "a connection per transaction across the reload");
    let (ok, _, err) = psql(&url, "SELECT 1");
    assert!(ok, "{err}\n{}", home.gateway_log());
}

#[test]
fn gateways_on_other_ports_of_one_state_dir_are_left_alone() {
    let home = Home::new();
    let first = GatewayProc::start(&home, &[]);
    let (port, health) = (common::free_port(), common::free_port());
    let log = std::fs::File::create(home.path().join("gateway-other.log")).unwrap();
    let mut other = home
        .cmd(&[
            "gateway",
            "run",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--health-listen",
            &format!("127.0.0.1:{health}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let other_log = || std::fs::read_to_string(home.path().join("gateway-other.log")).unwrap_or_default();
    while !other_log().contains("gateway listening") {
        assert!(Instant::now() < deadline, "{}", other_log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = other.kill();
    let _ = other.wait();
    assert!(!other_log().contains("taking over"), "{}", other_log());
    let (code, status) = first.http("/status");
    assert_eq!(code, 200);
    assert!(status.contains("\"generation\":1"), "{status}");
    assert!(!home.gateway_log().contains("stops accepting"), "{}", home.gateway_log());
}
