//! The HTTP API (`pgs api run`) against a real tenant: tokens (none → 401, read-only → 403 on a
//! change, revoked → 401 at once), the CLI's JSON shapes, access, pool settings and the
//! allowlist as the CLI changes them, problem documents, ids in paths validated, malformed
//! bodies refused without touching the state, no password or token in any response;
//! off loopback only TLS with the platform certificate, renewed without a restart.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Home, free_port, unique};

/// The API server of a state dir, stopped when dropped.
struct ApiProc {
    child: Child,
    port: u16,
}

impl ApiProc {
    fn start(home: &Home) -> Self {
        let port = free_port();
        let child = home
            .cmd(&["api", "run", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let api = ApiProc { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while api.call("GET", "/v1/health", None, None).0 != 200 {
            assert!(Instant::now() < deadline, "the API did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        api
    }

    /// `METHOD PATH` with an optional bearer token and JSON body: (status, content type, body).
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (u16, String, String) {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-X", method, "-o", "-", "-w", "\n%{http_code} %{content_type}"]);
        if let Some(token) = token {
            cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
        }
        if let Some(body) = body {
            cmd.args(["-H", "Content-Type: application/json", "--data-binary", body]);
        }
        cmd.arg(format!("http://127.0.0.1:{}{path}", self.port));
        let out = String::from_utf8_lossy(&cmd.output().unwrap().stdout).into_owned();
        let (body, tail) = out.rsplit_once('\n').unwrap_or(("", &out));
        let (status, content_type) = tail.split_once(' ').unwrap_or((tail, ""));
        (status.parse().unwrap_or(0), content_type.to_string(), body.to_string())
    }
}

impl ApiProc {
    /// A job's server-sent events until the stream ends: (event name, data) pairs.
    fn events(&self, job: &str, token: &str) -> Vec<(String, serde_json::Value)> {
        let out = Command::new("curl")
            .args(["-sN", "-m", "600", "-H", &format!("Authorization: Bearer {token}")])
            .arg(format!("http://127.0.0.1:{}/v1/jobs/{job}/events", self.port))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut events = Vec::new();
        for block in text.split("\n\n") {
            let name = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("");
            let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("null");
            if !name.is_empty() {
                events.push((name.to_string(), serde_json::from_str(data).unwrap()));
            }
        }
        events
    }

    /// Waits for job `id` to end; returns it.
    fn wait_job(&self, id: &str, token: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let (status, _, body) = self.call("GET", &format!("/v1/jobs/{id}"), Some(token), None);
            assert_eq!(status, 200, "{body}");
            let job: serde_json::Value = serde_json::from_str(&body).unwrap();
            if job["status"] != "running" {
                return job;
            }
            assert!(Instant::now() < deadline, "job {id} did not end: {job}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Starts a job with `METHOD PATH BODY`: asserts the 202 and returns the job's id.
    fn start_job(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> String {
        let (status, _, text) = self.call(method, path, Some(token), body);
        assert_eq!(status, 202, "{method} {path}: {text}");
        let job: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(job["status"], "running", "{job}");
        job["id"].as_str().unwrap().to_string()
    }
}

impl Drop for ApiProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_api_serves_tenants_to_tokens_and_refuses_everyone_else() {
    let home = Home::new();
    let id = unique("api");
    home.create(&id);
    let secrets = std::fs::read_to_string(home.path().join(format!("secrets/{id}.json"))).unwrap();
    let password =
        serde_json::from_str::<serde_json::Value>(&secrets).unwrap()["password"].as_str().unwrap().to_string();
    let ops = home.json(&["token", "create", "ops", "--json"])["token"].as_str().unwrap().to_string();
    let viewer =
        home.json(&["token", "create", "viewer", "--read-only", "--json"])["token"].as_str().unwrap().to_string();
    // Only hashes are kept, in a file only the owner reads.
    let stored = std::fs::read_to_string(home.path().join("api-tokens.json")).unwrap();
    assert!(!stored.contains(&ops) && !stored.contains(&viewer), "{stored}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(home.path().join("api-tokens.json")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(home.fails(&["token", "create", "ops"]).contains("exists"));
    let listed = home.json(&["token", "list", "--json"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
    assert!(!listed.to_string().contains("pgs_"), "{listed}");

    // Off loopback, only TLS with the platform certificate (`*.pgs.test` covers the console's
    // name), read again when it changes.
    let tls_port = free_port();
    let mut tls = home
        .cmd(&["api", "run", "--listen", &format!("0.0.0.0:{tls_port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let https = |path: &str| -> (bool, String) {
        let out = Command::new("curl")
            .args(["-s", "-m", "5", "--cacert"])
            .arg(home.path().join("certs/ca.pem"))
            .args(["--resolve", &format!("console.pgs.test:{tls_port}:127.0.0.1")])
            .arg(format!("https://console.pgs.test:{tls_port}{path}"))
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !https("/v1/health").0 {
        assert!(Instant::now() < deadline, "the API did not serve TLS");
        std::thread::sleep(Duration::from_millis(100));
    }
    let plain = Command::new("curl")
        .args(["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("http://127.0.0.1:{tls_port}/v1/health"))
        .output()
        .unwrap();
    assert_ne!(String::from_utf8_lossy(&plain.stdout), "200", "plain HTTP off loopback");
    let serial = || {
        let script = format!(
            "openssl s_client -connect 127.0.0.1:{tls_port} -servername console.pgs.test </dev/null 2>/dev/null | openssl x509 -noout -serial"
        );
        String::from_utf8_lossy(&Command::new("sh").args(["-c", &script]).output().unwrap().stdout).trim().to_string()
    };
    let before = serial();
    assert!(before.starts_with("serial="), "{before}");
    home.ok(&["certs", "self-signed"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while serial() == before {
        assert!(Instant::now() < deadline, "the API kept serving the replaced certificate");
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = tls.kill();
    let _ = tls.wait();

    let api = ApiProc::start(&home);
    // No token, a wrong one: 401 problem documents.
    let (status, kind, body) = api.call("GET", "/v1/tenants", None, None);
    assert_eq!((status, kind.as_str()), (401, "application/problem+json"), "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 401);
    assert!(problem["detail"].as_str().unwrap().contains("pgs token create"), "{problem}");
    let started = Instant::now();
    assert_eq!(api.call("GET", "/v1/tenants", Some("pgs_wrong"), None).0, 401);
    assert!(started.elapsed() >= Duration::from_millis(200), "a failed token is slowed down");

    // A read-only token reads, in the CLI's shapes, and never sees a password.
    let (status, _, body) = api.call("GET", "/v1/tenants", Some(&viewer), None);
    assert_eq!(status, 200, "{body}");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cli: serde_json::Value = home.json(&["list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), cli.as_array().unwrap().len());
    assert_eq!(listed[0]["id"], id);
    assert_eq!(listed[0]["host"], cli[0]["host"]);
    let (status, _, body) = api.call("GET", &format!("/v1/tenants/{id}"), Some(&viewer), None);
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(&password) && !body.contains("pgs_"), "{body}");
    // ...and cannot change anything.
    let (status, _, body) =
        api.call("PUT", &format!("/v1/tenants/{id}/access"), Some(&viewer), Some(r#"{"access":false}"#));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("read-only"), "{body}");

    // Ids in paths are validated; unknown ones are 404.
    for (path, want) in [
        ("/v1/tenants/..%2F..%2Fetc", 400),
        ("/v1/tenants/a%3Bb", 400),
        ("/v1/tenants/Bad_Id", 400),
        ("/v1/tenants/nosuchtenant", 404),
        ("/v1/nothing", 404),
    ] {
        let (status, kind, body) = api.call("GET", path, Some(&viewer), None);
        assert_eq!((status, kind.as_str()), (want, "application/problem+json"), "{path}: {body}");
    }

    let (status, kind, _) = api.call("DELETE", "/v1/tenants", Some(&viewer), None);
    assert_eq!((status, kind.as_str()), (405, "application/problem+json"));

    // Malformed bodies are refused (4xx) and leave the state as it was.
    let before = std::fs::read(home.path().join("tenants.json")).unwrap();
    let bad = [
        "",
        "{",
        "null",
        "[]",
        r#"{"access":"no"}"#,
        r#"{"access":1}"#,
        r#"{"acces":false}"#,
        r#"{"access":false,"extra":1}"#,
        "\u{1}\u{2}",
        &"{\"access\":".repeat(2000),
    ];
    for i in 0..1000 {
        let body = bad[i % bad.len()];
        let (status, _, text) = api.call("PUT", &format!("/v1/tenants/{id}/access"), Some(&ops), Some(body));
        assert!((400..500).contains(&status), "{body:?}: {status} {text}");
    }
    assert_eq!(
        std::fs::read(home.path().join("tenants.json")).unwrap(),
        before,
        "a malformed request changed the state"
    );

    // A read-write token changes access, as `pgs disable-access` would.
    let (status, _, body) =
        api.call("PUT", &format!("/v1/tenants/{id}/access"), Some(&ops), Some(r#"{"access":false}"#));
    assert_eq!(status, 200, "{body}");
    assert_eq!(home.json(&["info", &id, "--json"])["access"], false);

    // Pool settings and the allowlist, verb for verb with `pgs pool`, `allow` and `deny`.
    let (status, _, body) = api.call("GET", &format!("/v1/tenants/{id}/pool"), Some(&viewer), None);
    assert_eq!(status, 200, "{body}");
    let shown: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(shown["mode"], "auto", "{shown}");
    let pool = format!("/v1/tenants/{id}/pool");
    let (status, _, body) = api.call("PATCH", &pool, Some(&ops), Some(r#"{"mode":"transaction","size":4}"#));
    assert_eq!(status, 200, "{body}");
    let cli = home.json(&["pool", &id, "--json"]);
    assert_eq!((cli["mode"].as_str(), cli["size"].as_u64()), (Some("transaction"), Some(4)), "{cli}");
    for bad in [r#"{"size":0}"#, r#"{"mode":"sometimes"}"#, r#"{"reset":true,"size":3}"#, r#"{"reserve":9}"#] {
        let (status, kind, body) = api.call("PATCH", &pool, Some(&ops), Some(bad));
        assert_eq!((status, kind.as_str()), (400, "application/problem+json"), "{bad}: {body}");
    }
    let (status, _, body) =
        api.call("POST", &format!("/v1/tenants/{id}/allow"), Some(&ops), Some(r#"{"networks":["203.0.113.0/24"]}"#));
    assert_eq!(status, 200, "{body}");
    assert_eq!(home.json(&["info", &id, "--json"])["allow"], serde_json::json!(["203.0.113.0/24"]));
    let (status, _, body) =
        api.call("POST", &format!("/v1/tenants/{id}/allow"), Some(&ops), Some(r#"{"networks":["not-a-net"]}"#));
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("not-a-net"), "{body}");
    let (status, _, body) =
        api.call("POST", &format!("/v1/tenants/{id}/deny"), Some(&ops), Some(r#"{"networks":["203.0.113.0/24"]}"#));
    assert_eq!(status, 200, "{body}");
    assert_eq!(home.json(&["info", &id, "--json"])["allow"], serde_json::json!([]));
    let (status, _, _) = api.call("PATCH", &pool, Some(&viewer), Some(r#"{"size":5}"#));
    assert_eq!(status, 403);

    // A revoked token stops at once.
    home.ok(&["token", "revoke", "ops"]);
    let (status, _, _) = api.call("PUT", &format!("/v1/tenants/{id}/access"), Some(&ops), Some(r#"{"access":true}"#));
    assert_eq!(status, 401);
    assert_eq!(home.json(&["info", &id, "--json"])["access"], false);
}

#[test]
fn long_operations_are_jobs_with_progress_and_the_cli_sees_what_the_api_did() {
    let home = Home::with_setup(&["--yes", "--no-gateway", "--domain", "pgs.test", "--backups", "local"]);
    let ops = home.json(&["token", "create", "ops", "--json"])["token"].as_str().unwrap().to_string();
    let viewer =
        home.json(&["token", "create", "viewer", "--read-only", "--json"])["token"].as_str().unwrap().to_string();
    let api = ApiProc::start(&home);

    // The OpenAPI document served is the one committed.
    let (status, _, served) = api.call("GET", "/v1/openapi.json", None, None);
    assert_eq!(status, 200);
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("docs/openapi.json").unwrap()).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&served).unwrap(), committed);

    // Refused at once, before any job: a bad id, a read-only token, an unknown field.
    for (token, body, want) in [
        (&ops, r#"{"id":"Bad_Id"}"#, 400),
        (&ops, r#"{"id":"ok-id","memory":"lots"}"#, 400),
        (&ops, r#"{"id":"ok-id","flavour":"x"}"#, 400),
        (&viewer, r#"{"id":"ok-id"}"#, 403),
    ] {
        let (status, kind, text) = api.call("POST", "/v1/tenants", Some(token), Some(body));
        assert_eq!((status, kind.as_str()), (want, "application/problem+json"), "{body}: {text}");
    }

    // A create through the API while the CLI creates another on the same state dir.
    let id = unique("apij");
    let by_cli = unique("apic");
    let job = api.start_job("POST", "/v1/tenants", &ops, Some(&format!(r#"{{"id":"{id}","memory":"256m"}}"#)));
    let cli = home.cmd(&["create", &by_cli]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Progress as server-sent events, from the same sink the CLI draws its spinners from.
    let events = api.events(&job, &viewer);
    let (last, end) = events.last().unwrap();
    assert_eq!(last, "end", "{events:?}");
    assert_eq!(end["status"], "succeeded", "{end}");
    let progress: Vec<&str> =
        events.iter().filter(|(n, _)| n == "progress").filter_map(|(_, e)| e["message"].as_str()).collect();
    assert!(progress.len() >= 2, "{events:?}");
    // The result is `pgs create --json`, with the password this once.
    let result = &end["result"];
    assert_eq!(result["id"], id.as_str());
    assert!(result["url"].as_str().unwrap().contains(result["password"].as_str().unwrap()), "{result}");
    assert!(common::finished(cli).0, "the CLI's create failed beside the API's");
    let listed = home.json(&["list", "--json"]);
    let ids: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|t| t["id"].as_str()).collect();
    assert!(ids.contains(&id.as_str()) && ids.contains(&by_cli.as_str()), "{ids:?}");
    // A job's outcome stays; the same id again fails as the CLI would (409).
    let again = api.start_job("POST", "/v1/tenants", &ops, Some(&format!(r#"{{"id":"{id}"}}"#)));
    let failed = api.wait_job(&again, &viewer);
    assert_eq!(
        (failed["status"].as_str(), failed["error"]["status"].as_u64()),
        (Some("failed"), Some(409)),
        "{failed}"
    );
    let (_, _, jobs) = api.call("GET", "/v1/jobs", Some(&viewer), None);
    assert!(jobs.contains(&job) && jobs.contains(&again), "{jobs}");

    // A backup as a job whose client goes away at once: it finishes all the same.
    let backup = api.start_job("POST", &format!("/v1/tenants/{id}/backups"), &ops, Some(r#"{"kind":"full"}"#));
    let _ = Command::new("curl")
        .args(["-sN", "-m", "1", "-H", &format!("Authorization: Bearer {viewer}")])
        .arg(format!("http://127.0.0.1:{}/v1/jobs/{backup}/events", api.port))
        .output();
    let done = api.wait_job(&backup, &viewer);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["kind"], "full");
    let (status, _, body) = api.call("GET", &format!("/v1/tenants/{id}/backups"), Some(&viewer), None);
    assert_eq!(status, 200, "{body}");
    let label = done["result"]["label"].as_str().unwrap();
    assert!(body.contains(label), "{body}");
    assert!(home.ok(&["backup", "list", &id, "--json"]).contains(label));

    // A restore as a job: the tenant runs on a new volume, its previous data kept.
    let restore = api.start_job("POST", &format!("/v1/tenants/{id}/restore"), &ops, Some(r#"{}"#));
    let done = api.wait_job(&restore, &viewer);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["previous_volume"], format!("pgs-{id}-data"));
    assert_eq!(home.json(&["info", &id, "--json"])["volume"], done["result"]["volume"]);

    // Stop and start, and the suspend policy, as the CLI sees them.
    let (status, _, body) = api.call("POST", &format!("/v1/tenants/{by_cli}/stop"), Some(&ops), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(home.status(&by_cli), "stopped");
    let (status, _, body) = api.call("POST", &format!("/v1/tenants/{by_cli}/start"), Some(&ops), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(home.status(&by_cli), "running");
    let policy = format!("/v1/tenants/{by_cli}/suspend-policy");
    let (status, _, body) = api.call("PUT", &policy, Some(&ops), Some(r#"{"after":"15m"}"#));
    assert_eq!(status, 200, "{body}");
    assert_eq!(home.state_file("tenants.json")["tenants"][&by_cli]["suspend_after"], 900);
    let (status, _, _) = api.call("PUT", &policy, Some(&ops), Some(r#"{"after":"15m","never":true}"#));
    assert_eq!(status, 400);

    // The password only on an explicit ask, and only to a read-write token.
    let info = format!("/v1/tenants/{id}?show_password=true");
    assert_eq!(api.call("GET", &info, Some(&viewer), None).0, 403);
    let (status, _, body) = api.call("GET", &info, Some(&ops), None);
    assert_eq!(status, 200);
    assert!(body.contains(result["password"].as_str().unwrap()));

    // Remove (with its data), as `pgs remove --purge --yes`.
    let (status, _, body) = api.call("DELETE", &format!("/v1/tenants/{by_cli}?purge=true"), Some(&ops), None);
    assert_eq!(status, 200, "{body}");
    assert!(!home.ok(&["list", "--json"]).contains(&by_cli));
    assert_eq!(api.call("DELETE", &format!("/v1/tenants/{by_cli}"), Some(&ops), None).0, 404);
}
