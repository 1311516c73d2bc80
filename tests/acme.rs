//! Certificates from a real ACME CA (Debian's `pebble`) through DNS-01 against a real name
//! server (Debian's `bind9`): rfc2136 with TSIG, the exec provider, external account binding,
//! renewal (not due, forced, concurrent) and a renewal while a session stays open through the
//! gateway. Each test starts its own named and pebble on free loopback ports.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{GatewayProc, Home, free_port, psql, unique};

/// Zone every test's certificates are for (the test state dirs use this domain).
const ZONE: &str = "pgs.test";

/// Kills and reaps a server process when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to 10 s for `ready`, failing with the server's log.
fn wait_for(what: &str, log: &Path, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ready() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A bind9 name server, primary for `pgs.test`, accepting TSIG-signed updates of
/// `_acme-challenge.pgs.test TXT` with the key in `key_file` (made by `tsig-keygen`).
struct Bind {
    _server: Server,
    dir: tempfile::TempDir,
    port: u16,
}

impl Bind {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let key = Command::new("tsig-keygen").arg("pgs-acme").output().expect("tsig-keygen (bind9 package)");
        std::fs::write(dir.path().join("key.conf"), &key.stdout).unwrap();
        let port = free_port();
        std::fs::write(
            dir.path().join("named.conf"),
            format!(
                r#"options {{ directory "{d}"; pid-file "{d}/named.pid"; session-keyfile "{d}/session.key";
  managed-keys-directory "{d}"; listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }};
  recursion no; dnssec-validation no; allow-query {{ any; }}; }};
controls {{ }};
include "{d}/key.conf";
zone "{ZONE}" {{ type primary; file "{d}/zone"; update-policy {{ grant pgs-acme name _acme-challenge.{ZONE}. TXT; }}; }};
"#
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("zone"),
            format!(
                "$TTL 60\n@ IN SOA ns.{ZONE}. admin.{ZONE}. 1 60 60 600 60\n@ IN NS ns.{ZONE}.\nns IN A 127.0.0.1\n"
            ),
        )
        .unwrap();
        let log = dir.path().join("named.log");
        let child = Command::new("named")
            .args(["-g", "-c", &format!("{d}/named.conf"), "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("named (bind9 package)");
        let bind = Self { _server: Server(child), dir, port };
        wait_for("named", &log, || !bind.dig("SOA", ZONE).is_empty());
        bind
    }

    fn key_file(&self) -> PathBuf {
        self.dir.path().join("key.conf")
    }

    fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `dig +short` of one record set.
    fn dig(&self, rtype: &str, name: &str) -> String {
        let out = Command::new("dig")
            .args(["@127.0.0.1", "-p", &self.port.to_string(), name, rtype, "+short", "+time=1", "+tries=1"])
            .output()
            .expect("dig (bind9-dnsutils package)");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// A pebble ACME CA resolving challenges through `dns`, with its own HTTPS certificate from a
/// throwaway CA (Debian's package ships none).
struct Pebble {
    _server: Server,
    dir: tempfile::TempDir,
    port: u16,
    management: u16,
}

impl Pebble {
    /// `extra` is merged into pebble's config (EAB, certificate validity).
    fn start(dns: &Bind, extra: serde_json::Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.subject_alt_names.push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        std::fs::write(dir.path().join("https-ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        let (port, management) = (free_port(), free_port());
        let mut config = serde_json::json!({
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{management}"),
            "certificate": dir.path().join("cert.pem"),
            "privateKey": dir.path().join("key.pem"),
            "httpPort": free_port(),
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
        });
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        let config_path = dir.path().join("pebble.json");
        std::fs::write(&config_path, serde_json::json!({ "pebble": config }).to_string()).unwrap();
        let log = dir.path().join("pebble.log");
        let child = Command::new("pebble")
            .args(["-config", config_path.to_str().unwrap(), "-dnsserver", &dns.addr()])
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("pebble (pebble package)");
        let pebble = Self { _server: Server(child), dir, port, management };
        wait_for("pebble", &log, || std::net::TcpStream::connect(("127.0.0.1", pebble.management)).is_ok());
        pebble
    }

    fn directory(&self) -> String {
        format!("https://127.0.0.1:{}/dir", self.port)
    }

    /// The CA that signed pebble's HTTPS certificate (for `--ca-root`).
    fn https_ca(&self) -> PathBuf {
        self.dir.path().join("https-ca.pem")
    }

    /// The root pebble issues under (new at every start), saved to a file clients can trust.
    fn issuing_root(&self) -> PathBuf {
        let path = self.dir.path().join("issuing-root.pem");
        let out = Command::new("curl")
            // The management port presents a certificate pebble makes up at start.
            .args(["-sS", "--fail", "--insecure"])
            .arg(format!("https://127.0.0.1:{}/roots/0", self.management))
            .output()
            .expect("curl");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(&path, out.stdout).unwrap();
        path
    }
}

/// `pgs certs issue` arguments for this pebble and the rfc2136 provider on `bind`.
fn rfc2136_args(pebble: &Pebble, bind: &Bind, key_file: &Path) -> Vec<String> {
    [
        "certs",
        "issue",
        "--yes",
        "--ca",
        &pebble.directory(),
        "--ca-root",
        pebble.https_ca().to_str().unwrap(),
        "--email",
        "ops@pgs.test",
        "--dns",
        "rfc2136",
        "--dns-server",
        &bind.addr(),
        "--tsig-secret-file",
        key_file.to_str().unwrap(),
    ]
    .map(String::from)
    .to_vec()
}

fn run(home: &Home, args: &[String]) -> std::process::Output {
    home.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn status(home: &Home) -> serde_json::Value {
    home.json(&["certs", "status", "--json"])
}

fn mode(path: PathBuf) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn rfc2136_issues_a_wildcard_certificate_and_renew_waits_until_due() {
    let bind = Bind::start();
    let pebble = Pebble::start(&bind, serde_json::json!({}));
    let home = Home::new();
    let before = status(&home);

    // A key the server does not know: refused with a message that says so; nothing changes.
    let wrong = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(wrong.path(), Command::new("tsig-keygen").arg("pgs-acme").output().unwrap().stdout).unwrap();
    let out = run(&home, &rfc2136_args(&pebble, &bind, wrong.path()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("refused the TSIG key pgs-acme"), "{err}");
    assert_eq!(status(&home)["serial"], before["serial"]);

    let out = run(&home, &rfc2136_args(&pebble, &bind, &bind.key_file()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st = status(&home);
    let mut names: Vec<&str> = st["names"].as_array().unwrap().iter().map(|n| n.as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, [format!("*.{ZONE}"), ZONE.to_string()], "pebble orders the names at random: {st}");
    assert!(st["issuer"].as_str().unwrap().contains("Pebble"), "{st}");
    assert!(st["ca_file"].is_null(), "{st}");
    assert_eq!(home.state_file("config.json")["certificate"], "acme");
    // Both challenge values were published at one name, and both are cleaned up.
    assert_eq!(bind.dig("TXT", &format!("_acme-challenge.{ZONE}")), "");
    for file in ["certs/key.pem", "certs/acme.json", "certs/acme-account.json"] {
        assert_eq!(mode(home.path().join(file)), 0o600, "{file}");
    }
    let saved = std::fs::read_to_string(home.path().join("certs/acme.json")).unwrap();
    assert!(saved.contains("\"provider\": \"rfc2136\"") || saved.contains("\"provider\":\"rfc2136\""), "{saved}");

    // Not due: renew says when it will be, exits 0 and leaves the certificate alone.
    let renewal = home.json(&["certs", "renew", "--json"]);
    assert_eq!(renewal["outcome"], "not_due", "{renewal}");
    assert_eq!(renewal["source"], "lifetime", "pebble 2.4 offers no ARI: {renewal}");
    assert_eq!(status(&home)["serial"], st["serial"]);
    assert!(home.ok(&["certs", "renew"]).contains("not due"));
}

/// A `--dns exec` program that publishes through nsupdate (lego's exec contract) and records
/// its calls in `script.sh.calls`; both files live in the returned folder.
fn nsupdate_script(bind: &Bind) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nset -e\ncase \"$1\" in present) op=add;; cleanup) op=delete;; *) exit 2;; esac\n\
             printf 'server 127.0.0.1 {}\\nupdate %s %s 60 TXT \"%s\"\\nsend\\n' \"$op\" \"$2\" \"$3\" | nsupdate -k {}\n\
             echo \"$1 $2\" >> {}.calls\n",
            bind.port,
            bind.key_file().display(),
            script.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, script)
}

#[test]
fn exec_provider_with_external_account_binding_and_concurrent_renewals_issue_once() {
    const KID: &str = "kid-1";
    const HMAC: &str = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let bind = Bind::start();
    let pebble = Pebble::start(
        &bind,
        serde_json::json!({
            "externalAccountBindingRequired": true,
            "externalAccountMACKeys": { KID: HMAC },
            "certificateValidityPeriod": 24,
        }),
    );
    let home = Home::new();
    let (_script_dir, script) = nsupdate_script(&bind);
    let args: Vec<String> = [
        "certs",
        "issue",
        "--yes",
        "--ca",
        &pebble.directory(),
        "--ca-root",
        pebble.https_ca().to_str().unwrap(),
        "--dns",
        "exec",
        "--dns-exec",
        script.to_str().unwrap(),
        "--propagation-resolver",
        &bind.addr(),
    ]
    .map(String::from)
    .to_vec();

    // Without EAB the CA refuses, and the message says what to pass.
    let out = run(&home, &args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("requires external account binding") && err.contains("--eab-kid"),
        "{err}"
    );

    // With EAB (the HMAC key from the environment, not the command line).
    let mut with_eab = args.clone();
    with_eab.extend(["--eab-kid".to_string(), KID.to_string()]);
    let out =
        home.cmd(&with_eab.iter().map(String::as_str).collect::<Vec<_>>()).env("PGS_EAB_HMAC", HMAC).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let calls = std::fs::read_to_string(format!("{}.calls", script.display())).unwrap();
    let expect = format!("_acme-challenge.{ZONE}.");
    assert_eq!(calls.matches(&format!("present {expect}")).count(), 2, "wildcard and apex: {calls}");
    assert_eq!(calls.matches(&format!("cleanup {expect}")).count(), 2, "{calls}");
    let first = status(&home);
    assert!(!std::fs::read_to_string(home.path().join("certs/acme.json")).unwrap().contains(HMAC));

    // Wait until the 24-second certificate is due (a third of its life left), then renew
    // twice at once: one run issues, the other finds the fresh certificate.
    let renew_after = first["renew_after"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(40);
    while home.json(&["certs", "renew", "--json"])["outcome"] == "not_due" {
        assert!(Instant::now() < deadline, "never due (renew after {renew_after})");
        std::thread::sleep(Duration::from_millis(500));
    }
    let renewed_once = status(&home);
    assert_ne!(renewed_once["serial"], first["serial"]);
    let deadline = Instant::now() + Duration::from_secs(40);
    while home.json(&["certs", "status", "--json"])["renew_after"].as_str().unwrap() > now_rfc3339().as_str() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(250));
    }
    let children: Vec<_> =
        (0..2).map(|_| home.cmd(&["certs", "renew", "--json"]).stdout(Stdio::piped()).spawn().unwrap()).collect();
    let outcomes: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["outcome"].as_str().unwrap().to_string()
        })
        .collect();
    let mut sorted = outcomes.clone();
    sorted.sort();
    assert_eq!(sorted, ["not_due", "renewed"], "{outcomes:?}");
    assert_ne!(status(&home)["serial"], renewed_once["serial"]);
}

fn now_rfc3339() -> String {
    let out = Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The serial of the certificate the gateway presents for `host` (hex, as `certs status`).
fn served_serial(gw: &GatewayProc, host: &str) -> String {
    let s_client = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{}", gw.port), "-starttls", "postgres", "-servername", host])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let mut x509 = Command::new("openssl")
        .args(["x509", "-noout", "-serial"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    x509.stdin.take().unwrap().write_all(&s_client.stdout).unwrap();
    let out = x509.wait_with_output().unwrap();
    hex(String::from_utf8_lossy(&out.stdout).trim().trim_start_matches("serial="))
}

/// A serial number in one spelling: lowercase hex without leading zeros.
fn hex(serial: &str) -> String {
    serial.to_ascii_lowercase().trim_start_matches('0').to_string()
}

#[test]
fn renewal_keeps_open_sessions_and_new_connections_get_the_new_certificate() {
    let bind = Bind::start();
    let pebble = Pebble::start(&bind, serde_json::json!({}));
    let home = Home::new();
    let gw = GatewayProc::start(&home, &[]);
    let out = run(&home, &rfc2136_args(&pebble, &bind, &bind.key_file()));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = unique("acme");
    let doc = home.create(&id);
    let host = format!("{id}.{ZONE}");
    let root = pebble.issuing_root();
    let conninfo = format!(
        "host={host} hostaddr=127.0.0.1 port={} user={id} password={} dbname={id} sslmode=verify-full sslrootcert={}",
        gw.port,
        doc["password"].as_str().unwrap(),
        root.display()
    );
    let old = hex(status(&home)["serial"].as_str().unwrap());
    let deadline = Instant::now() + Duration::from_secs(5);
    while served_serial(&gw, &host) != old {
        assert!(Instant::now() < deadline, "the gateway never served the ACME certificate: {}", home.gateway_log());
        std::thread::sleep(Duration::from_millis(100));
    }

    // One psql session, verified against pebble's root, renews in the middle (`\!` runs the
    // command and waits) and goes on on the same backend.
    let pgs = format!("{} --home {} certs renew --force", common::pgs_bin().display(), home.path().display());
    let out = Command::new("psql")
        .args([conninfo.as_str(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .args([
            "-c",
            "SELECT 'pid=' || pg_backend_pid()",
            "-c",
            &format!("\\! {pgs}"),
            "-c",
            "SELECT 'pid=' || pg_backend_pid()",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let pids: Vec<&str> = stdout.lines().filter(|l| l.starts_with("pid=")).collect();
    assert!(stdout.contains("renewed: serial"), "{stdout}");
    assert_eq!(pids.len(), 2, "{stdout}");
    assert_eq!(pids[0], pids[1], "the session must survive the renewal: {stdout}");

    // New handshakes get the new certificate; verify-full with pebble's root still works.
    let new = hex(status(&home)["serial"].as_str().unwrap());
    assert_ne!(new, old);
    let deadline = Instant::now() + Duration::from_secs(5);
    while served_serial(&gw, &host) != new {
        assert!(Instant::now() < deadline, "the gateway kept the old certificate: {}", home.gateway_log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ok, out, err) = psql(&conninfo, "SELECT current_user");
    assert!(ok, "{err}");
    assert_eq!(out, id);
}
