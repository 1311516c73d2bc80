//! CLI behaviour that needs no running tenant: validation, setup, errors, completions.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

fn pgs(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(common::pgs_bin()).args(args).env("PGS_HOME", home).output().unwrap()
}

fn setup(home: &std::path::Path) {
    let out = pgs(home, &["setup", "--yes", "--no-gateway", "--domain", "pgs.test"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn invalid_tenant_ids_are_refused_with_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    for bad in ["Tenant1", "1tenant", "a_b", "a.b", "-x", "x-", &"a".repeat(64)] {
        let out = pgs(dir.path(), &["create", "--", bad]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "one-line error expected: {err}");
        assert!(err.contains("lowercase letters, digits or hyphens"), "{err}");
    }
    let out = pgs(dir.path(), &["create", "postgres"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("reserved"));
}

#[test]
fn commands_before_setup_say_to_run_setup() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("nothing-here");
    let out = pgs(&home, &["enable-access", "t1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `pgs setup`"));
}

#[test]
fn setup_is_idempotent_and_keeps_secrets() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
    };
    let first = read("config.json");
    let secret = dir.path().join("secrets/t1.json");
    std::fs::write(&secret, "{\"schema_version\":1,\"password\":\"p\",\"superuser_password\":\"s\"}").unwrap();
    let out = pgs(dir.path(), &["setup", "--yes", "--no-gateway", "--gateway-port", "6432"]);
    assert!(out.status.success());
    let second = read("config.json");
    assert_eq!(first["instance"], second["instance"]);
    assert_eq!(second["domain"], "pgs.test", "a setting not given is kept");
    assert_eq!(second["gateway_port"], 6432);
    assert_eq!(read("routes.json")["gateway_port"], 6432, "routes follow the config");
    assert!(secret.exists());
    // Modes: dir 0700, config and secrets 0600.
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir.path()), 0o700);
    assert_eq!(mode(&dir.path().join("config.json")), 0o600);
    assert_eq!(mode(&dir.path().join("secrets")), 0o700);
}

#[test]
fn setup_without_terminal_never_prompts() {
    let dir = tempfile::tempdir().unwrap();
    // No --yes, stdin not a terminal: must finish with defaults rather than wait for input.
    let out = Command::new(common::pgs_bin())
        .args(["setup", "--no-gateway"])
        .env("PGS_HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(config["domain"], "pgs.localhost");
    assert_eq!(config["hostaddr"], "127.0.0.1");
}

#[test]
fn unreachable_docker_gives_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    for args in [&["list"][..], &["create", "t1"][..]] {
        let out = Command::new(common::pgs_bin())
            .args(args)
            .env("PGS_HOME", dir.path())
            .env("DOCKER_HOST", "unix:///tmp/pgs-no-such-docker.sock")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            err.trim_end(),
            "error: cannot reach Docker at /tmp/pgs-no-such-docker.sock: is the daemon running? \
             (set DOCKER_HOST to use another engine)"
        );
    }
}

#[test]
fn access_of_unknown_tenant_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out = pgs(dir.path(), &["disable-access", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tenant nobody"));
}

#[test]
fn completion_files_are_up_to_date() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in
        [("bash", "pgs.bash"), ("zsh", "_pgs"), ("fish", "pgs.fish"), ("elvish", "pgs.elv"), ("powershell", "_pgs.ps1")]
    {
        let out = Command::new(common::pgs_bin()).args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let committed = std::fs::read(root.join(file)).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "completions/{file} is stale: regenerate with `pgs completions {shell} > completions/{file}`"
        );
    }
}

#[test]
fn certificate_status_and_import() {
    let dir = tempfile::tempdir().unwrap();
    setup(dir.path());
    let out = pgs(dir.path(), &["certs", "status", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["domain", "names", "issuer", "not_after", "renew_after", "cert_file", "key_file", "ca_file"] {
        assert!(st.get(key).is_some(), "status lacks {key}: {st}");
    }
    assert_eq!(st["names"], serde_json::json!(["*.pgs.test", "pgs.test"]));
    assert!(st["ca_file"].as_str().unwrap().ends_with("certs/ca.pem"));

    // Bring our own certificate (openssl stands in for a public CA).
    let own = tempfile::tempdir().unwrap();
    let (cert, key) = (own.path().join("cert.pem"), own.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30"])
        .args(["-subj", "/CN=imported", "-addext", "subjectAltName=DNS:*.pgs.test,DNS:pgs.test"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(made.status.success());
    // A key that does not belong to the certificate is refused, and nothing changes.
    let wrong = dir.path().join("certs/key.pem");
    let out = pgs(dir.path(), &["certs", "import", "--cert", cert.to_str().unwrap(), "--key", wrong.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not belong to the certificate"));
    let out = pgs(dir.path(), &["certs", "import", "--cert", cert.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = pgs(dir.path(), &["certs", "status", "--json"]);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(st["issuer"].as_str().unwrap().contains("imported"), "{st}");
    assert!(st["ca_file"].is_null(), "no local CA to trust for an imported certificate: {st}");
    let mode = std::fs::metadata(dir.path().join("certs/key.pem")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}
