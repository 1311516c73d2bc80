//! Every lifecycle command against the real Docker engine and real PostgreSQL containers.

mod common;

use common::{Home, connect_tenant, docker, docker_ok, unique};

#[tokio::test(flavor = "multi_thread")]
async fn create_list_info_stop_start_remove_and_adopt() {
    let home = Home::new();
    let id = unique("life");
    let doc = home.create(&id);
    for key in ["id", "host", "port", "user", "database", "access", "status", "password", "url"] {
        assert!(!doc[key].is_null(), "create --json lacks {key}: {doc}");
    }
    assert_eq!(doc["host"], format!("{id}.pgs.test"));
    assert_eq!(doc["port"], 5432);
    assert_eq!(doc["access"], true);
    assert_eq!(doc["status"], "running");
    let url = doc["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("postgresql://{id}:")) && url.contains("hostaddr=127.0.0.1"), "{url}");

    // The tenant role owns its database and is no superuser; host auth is SCRAM everywhere.
    let client = connect_tenant(&doc).await;
    let row = client.query_one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", &[]).await.unwrap();
    assert!(!row.get::<_, bool>(0));
    client.batch_execute("CREATE TABLE notes (body text); INSERT INTO notes VALUES ('kept')").await.unwrap();
    drop(client);

    // No network and no published port (the socket dir only), the labels and restart policy, and
    // no healthcheck process (status comes from a probe over the socket when asked).
    let name = format!("pgs-{id}");
    assert_eq!(docker(&["inspect", &name, "--format", "{{.HostConfig.NetworkMode}}"]).trim(), "none");
    let bindings = docker(&["inspect", &name, "--format", "{{json .HostConfig.PortBindings}}"]);
    assert!(matches!(bindings.trim(), "{}" | "null"), "{bindings}");
    assert_eq!(docker(&["inspect", &name, "--format", "{{.HostConfig.RestartPolicy.Name}}"]).trim(), "unless-stopped");
    assert_eq!(docker(&["inspect", &name, "--format", "{{index .Config.Labels \"io.pgs.tenant\"}}"]).trim(), id);
    assert!(docker(&["inspect", &name, "--format", "{{json .Config.Healthcheck}}"]).contains("NONE"));
    let hba = docker(&["exec", &name, "sh", "-c", "grep -v '^#' \"$PGDATA/pg_hba.conf\" | grep -v '^$'"]);
    assert!(!hba.contains("trust"), "{hba}");
    // No clear-text password in the container's configuration.
    let env = docker(&["inspect", &name, "--format", "{{json .Config.Env}}"]);
    assert!(!env.contains(doc["password"].as_str().unwrap()));

    // list and info.
    let list = home.json(&["list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let info = home.json(&["info", &id, "--json"]);
    assert!(info["password"].is_null(), "password only with --show-password");
    let info = home.json(&["info", &id, "--json", "--show-password"]);
    assert_eq!(info["password"], doc["password"]);
    assert_eq!(info["url"], doc["url"]);

    // stop / start: data survives.
    home.ok(&["stop", &id]);
    assert_eq!(home.status(&id), "stopped");
    assert_eq!(home.state_file("routes.json")["tenants"][0]["running"], false);
    home.ok(&["start", &id]);
    let client = connect_tenant(&doc).await;
    let row = client.query_one("SELECT body FROM notes", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "kept");
    drop(client);

    // Access flags reach the route data.
    home.ok(&["disable-access", &id]);
    assert_eq!(home.json(&["info", &id, "--json"])["access"], false);
    assert_eq!(home.state_file("routes.json")["tenants"][0]["access"], false);
    home.ok(&["enable-access", &id]);
    assert_eq!(home.state_file("routes.json")["tenants"][0]["access"], true);

    // remove without confirmation in a non-terminal is refused and removes nothing.
    let err = home.fails(&["remove", &id]);
    assert!(err.contains("--yes"), "{err}");
    assert!(docker_ok(&["inspect", &name]));

    // remove keeps the data volume; creating again refuses to reuse it silently...
    home.ok(&["remove", &id, "--yes"]);
    assert!(!docker_ok(&["inspect", &name]));
    assert!(docker_ok(&["volume", "inspect", &format!("pgs-{id}-data")]));
    assert_eq!(home.json(&["list", "--json"]).as_array().unwrap().len(), 0);
    assert_eq!(home.state_file("routes.json")["tenants"].as_array().unwrap().len(), 0);
    let err = home.fails(&["create", &id]);
    assert!(err.contains("--adopt"), "{err}");
    // ... and adopts it when asked: the data is back.
    let doc = home.json(&["create", &id, "--adopt", "--json"]);
    let client = connect_tenant(&doc).await;
    let row = client.query_one("SELECT body FROM notes", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "kept");
    drop(client);

    // remove --purge deletes the volume and the secrets.
    home.ok(&["remove", &id, "--yes", "--purge"]);
    assert!(!docker_ok(&["volume", "inspect", &format!("pgs-{id}-data")]));
    assert!(!home.path().join(format!("secrets/{id}.json")).exists());
    assert!(!docker_ok(&["network", "inspect", &format!("pgs-{id}")]));
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_create_is_refused_and_leaves_the_tenant_alone() {
    let home = Home::new();
    let id = unique("dup");
    let doc = home.create(&id);
    let err = home.fails(&["create", &id]);
    assert!(err.contains("already exists"), "{err}");
    connect_tenant(&doc).await.simple_query("SELECT 1").await.unwrap();
    assert_eq!(home.json(&["info", &id, "--json", "--show-password"])["password"], doc["password"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_parallel_creates_all_succeed_and_are_recorded() {
    let home = Home::new();
    let ids: Vec<String> = (0..10).map(|_| unique("par")).collect();
    let children: Vec<_> = ids
        .iter()
        .map(|id| {
            home.cmd(&["create", id, "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let docs: Vec<serde_json::Value> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    let list = home.json(&["list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 10);
    let routes = home.state_file("routes.json");
    assert_eq!(routes["tenants"].as_array().unwrap().len(), 10);
    let sockets: std::collections::HashSet<_> = docs.iter().map(|d| d["socket_dir"].as_str().unwrap()).collect();
    assert_eq!(sockets.len(), 10, "each tenant has its own socket dir");
    for doc in &docs {
        connect_tenant(doc).await.simple_query("SELECT 1").await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn container_removed_behind_our_back_is_missing_and_start_repairs_it() {
    let home = Home::new();
    let id = unique("gone");
    let doc = home.create(&id);
    connect_tenant(&doc).await.batch_execute("CREATE TABLE t (x int); INSERT INTO t VALUES (42)").await.unwrap();
    assert!(docker_ok(&["rm", "-f", &format!("pgs-{id}")]));
    assert_eq!(home.status(&id), "missing");
    let list = home.ok(&["list"]);
    assert!(list.contains("missing"), "{list}");
    home.ok(&["start", &id]);
    let row = connect_tenant(&doc).await.query_one("SELECT x FROM t", &[]).await.unwrap();
    assert_eq!(row.get::<_, i32>(0), 42);
}

#[test]
fn unavailable_image_is_refused_with_a_hint_and_leaves_nothing() {
    let home = Home::new();
    let id = unique("img");
    let err = home.fails(&["create", &id, "--image", "pgs-no-such-image:99"]);
    assert!(err.contains("pgs-no-such-image:99") && err.contains("--image"), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line: {err}");
    assert_eq!(home.json(&["list", "--json"]).as_array().unwrap().len(), 0);
    assert!(!docker_ok(&["volume", "inspect", &format!("pgs-{id}-data")]));
}

#[test]
fn tenants_listen_on_no_network_and_connect_out_only_when_asked() {
    let home = Home::new();
    let (a, b) = (unique("iso"), unique("iso"));
    home.create(&a);
    home.json(&["create", &b, "--egress", "--json"]);
    let (ca, cb) = (format!("pgs-{a}"), format!("pgs-{b}"));
    let inspect = |c: &str, f: &str| docker(&["inspect", c, "--format", f]).trim().to_string();
    assert_eq!(inspect(&ca, "{{.HostConfig.NetworkMode}}"), "none");
    assert_eq!(inspect(&cb, "{{.HostConfig.NetworkMode}}"), "bridge");
    // The init script that made the tenant's role reached it through a read-only mount, and
    // keeps nothing once the tenant is ready.
    let script = home.path().join("init").join(&a).join("10-pgs-tenant.sql");
    assert_eq!(std::fs::metadata(&script).unwrap().len(), 0, "{} is not emptied", script.display());
    assert!(inspect(&ca, "{{json .Mounts}}").contains("/docker-entrypoint-initdb.d/10-pgs-tenant.sql"));
    // No network of their own, no published port.
    assert!(!docker_ok(&["network", "inspect", &ca]));
    for c in [&ca, &cb] {
        assert!(matches!(inspect(c, "{{json .HostConfig.PortBindings}}").as_str(), "{}" | "null"));
    }
    let isready =
        |from: &str, host: &str| docker_ok(&["exec", from, "pg_isready", "-h", host, "-p", "5432", "-t", "3"]);
    // PostgreSQL listens on the container's own loopback (the probe works) and nowhere else:
    // not on the bridge, where other containers with egress are.
    assert!(isready(&cb, "127.0.0.1"));
    let bridge_ip = inspect(&cb, "{{.NetworkSettings.Networks.bridge.IPAddress}}");
    assert!(!bridge_ip.is_empty());
    assert!(!isready(&cb, &bridge_ip), "{b} listens on its bridge address");
    assert!(!isready(&ca, &bridge_ip), "{a} reached {b}");
    // Egress: b connects out to a port on the host, a cannot.
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let host = inspect(&cb, "{{.NetworkSettings.Networks.bridge.Gateway}}");
    let dial =
        |c: &str| docker_ok(&["exec", c, "timeout", "5", "bash", "-c", &format!("echo > /dev/tcp/{host}/{port}")]);
    assert!(dial(&cb), "{b} (--egress) cannot connect out");
    assert!(!dial(&ca), "{a} (no --egress) connected out");
    let info = home.json(&["info", &b, "--json"]);
    assert_eq!(info["egress"], true);
    assert!(info.get("local_port").is_none());
}

#[test]
fn resource_limits_are_applied() {
    let home = Home::new();
    let id = unique("lim");
    home.json(&["create", &id, "--memory", "256m", "--cpus", "0.5", "--no-access", "--json"]);
    let name = format!("pgs-{id}");
    assert_eq!(docker(&["inspect", &name, "--format", "{{.HostConfig.Memory}}"]).trim(), "268435456");
    assert_eq!(docker(&["inspect", &name, "--format", "{{.HostConfig.NanoCpus}}"]).trim(), "500000000");
    assert_eq!(home.json(&["info", &id, "--json"])["access"], false);
}
