//! Backups and point-in-time recovery with real pgBackRest (installed from Debian's packages into
//! an image pgs derives from the test image) and real PostgreSQL.

mod common;

use std::time::Duration;

use common::s3::S3Server;
use common::{GatewayProc, Home, docker, psql, unique};

/// Polls `check` every half second for up to 30 s.
fn wait_for(mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

/// A Unix time in RFC 3339.
fn backup_time(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

async fn notes(doc: &serde_json::Value) -> Vec<i32> {
    let c = common::connect_tenant(doc).await;
    c.query("SELECT n FROM notes ORDER BY n", &[]).await.unwrap().iter().map(|r| r.get(0)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_to_a_point_in_time_then_to_the_latest_state() {
    let home = Home::with_setup(&["--yes", "--no-gateway", "--domain", "pgs.test", "--backups", "local"]);
    let id = unique("bk");
    // The first tenant with backups derives the image with pgBackRest (from Debian's packages).
    let doc = home.create(&id);
    assert_eq!(home.json(&["info", &id, "--json"])["backups"], true);
    let base = docker(&["image", "inspect", "--format", "{{.Id}}", &home.image]).trim().to_string();
    let derived = docker(&["inspect", "--format", "{{.Config.Image}}", &format!("pgs-{id}")]).trim().to_string();
    assert!(
        derived.starts_with(&format!("pgs-pgbackrest:{}-", &base.trim_start_matches("sha256:")[..12])),
        "{derived}"
    );
    // Its repository is its own volume, mounted in its container only.
    let mounts = docker(&["inspect", "--format", "{{range .Mounts}}{{.Name}} {{end}}", &format!("pgs-{id}")]);
    assert!(mounts.split_whitespace().any(|m| m == format!("pgs-{id}-backup")), "{mounts}");
    assert_eq!(mounts.matches("-backup").count(), 1, "{mounts}");

    let c = common::connect_tenant(&doc).await;
    c.batch_execute("CREATE TABLE notes (n int); INSERT INTO notes VALUES (1); CREATE TABLE doomed (v text); INSERT INTO doomed VALUES ('x')")
        .await
        .unwrap();
    let full = home.json(&["backup", "run", &id, "--json"]);
    assert_eq!(full["kind"], "full", "{full}");
    // A time within the second the backup finished is refused with the earliest possible one.
    let too_early = backup_time(full["finished"].as_i64().unwrap());
    let err = home.fails(&["restore", &id, "--at", &too_early, "--yes"]);
    assert!(err.contains("it is before the end of the first backup (the restorable window is "), "{err}");
    // (pgBackRest keeps backup times in whole seconds: step past the one the backup ended in.)
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.batch_execute("INSERT INTO notes VALUES (2)").await.unwrap();
    let at = server_now(&c).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    c.batch_execute("INSERT INTO notes VALUES (3); DROP TABLE doomed").await.unwrap();
    let source_started: String = c.query_one("SELECT pg_postmaster_start_time()::text", &[]).await.unwrap().get(0);

    // A clone as of `at`: the data then, its own credentials, through the gateway; the source
    // keeps running (same postmaster) and its credentials do not open the clone.
    let gw = GatewayProc::start(&home, &[]);
    let copy = unique("bkc");
    let out = home.run(&["clone", &id, &copy, "--at", &at, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let clone: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let url = clone["url"].as_str().unwrap();
    assert!(url.contains(&format!("@{copy}.pgs.test:{}/{copy}?", gw.port)), "{url}");
    let (ok, rows, err) =
        psql(url, "SELECT string_agg(n::text, ',' ORDER BY n) || ' ' || (SELECT v FROM doomed) FROM notes");
    assert!(ok, "{err}\n{}", home.gateway_log());
    assert_eq!(rows, "1,2 x");
    let source_password = doc["password"].as_str().unwrap();
    let with_source_credentials = url
        .replace(clone["password"].as_str().unwrap(), source_password)
        .replace(&format!("{copy}:"), &format!("{id}:"));
    assert!(!psql(&with_source_credentials, "SELECT 1").0, "the source's credentials must not open the clone");
    let now_started: String = c.query_one("SELECT pg_postmaster_start_time()::text", &[]).await.unwrap().get(0);
    assert_eq!(now_started, source_started, "the source was restarted by the clone");
    drop(c);

    // Exactly what was committed before `at`, and the dropped table back.
    let report = home.json(&["restore", &id, "--at", &at, "--yes", "--json"]);
    assert_eq!(report["previous_volume"], format!("pgs-{id}-data"), "{report}");
    assert_eq!(notes(&doc).await, [1, 2]);
    let c = common::connect_tenant(&doc).await;
    let v: String = c.query_one("SELECT v FROM doomed", &[]).await.unwrap().get(0);
    assert_eq!(v, "x");
    // The data before the restore is kept.
    assert!(common::docker_ok(&["volume", "inspect", &format!("pgs-{id}-data")]));
    assert_eq!(home.json(&["info", &id, "--json"])["volume"], report["volume"]);

    // A write after the restore, then back to the latest state: nothing is lost.
    c.batch_execute("INSERT INTO notes VALUES (4)").await.unwrap();
    drop(c);
    home.ok(&["restore", &id, "--latest", "--yes"]);
    assert_eq!(notes(&doc).await, [1, 2, 4]);

    // A restore killed half-way, then run again: it finishes, nothing is lost, and the volume
    // the killed run was filling is removed.
    let mut killed = home.cmd(&["restore", &id, "--latest", "--yes"]).spawn().unwrap();
    let filling = wait_for(|| !docker(&["ps", "-q", "--filter", &format!("name=pgs-{id}-restore")]).trim().is_empty());
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(filling, "the restore never started its container");
    let half_made = home.state_file("tenants.json")["tenants"][&id]["restoring"].as_str().unwrap().to_string();
    let out = home.run(&["restore", &id, "--latest", "--yes"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("removing {half_made}")));
    assert!(!common::docker_ok(&["volume", "inspect", &half_made]));
    assert_eq!(notes(&doc).await, [1, 2, 4]);

    let list = home.json(&["backup", "list", &id, "--json"]);
    assert_eq!(list["status"], "ok", "{list}");
    assert_eq!(list["backups"].as_array().unwrap().len(), 1, "{list}");
    assert!(list["backups"][0]["wal"][1].is_string(), "{list}");
    assert!(list["earliest_restorable"].is_string() && list["latest_restorable"].is_string(), "{list}");
    assert!(home.ok(&["backup", "list", &id]).contains("restorable: "));
    // An incremental backup on the new timeline works too.
    assert_eq!(home.json(&["backup", "run", &id, "--type", "incr", "--json"])["kind"], "incr");

    // The timer's run: a full backup from minutes ago means no backup is due, but this tenant has
    // never been drilled: the drill proves the repository (latest state included).
    let due = home.json(&["backup", "run", "--due", "--json"]);
    assert_eq!(due[0]["id"], id.as_str(), "{due}");
    assert!(due[0]["backup"].is_null() && due[0]["error"].is_null(), "{due}");
    assert_eq!(due[0]["drill"]["ok"], true, "{due}");
    let again = home.json(&["backup", "run", "--due", "--json"]);
    assert!(again[0]["drill"].is_null(), "a drill from seconds ago is not due again: {again}");
    // What a monitoring system scrapes, and what `pgs list` shows.
    let (_, metrics) = gw.http("/metrics");
    let last_ok = metrics
        .lines()
        .find_map(|l| l.strip_prefix(&format!("pgs_backup_last_success_timestamp_seconds{{tenant=\"{id}\"}} ")))
        .and_then(|v| v.parse::<u64>().ok());
    assert!(last_ok.is_some_and(|t| t > 0), "{metrics}");
    assert!(metrics.contains(&format!("pgs_backup_drill_ok{{tenant=\"{id}\"}} 1")), "{metrics}");
    assert!(metrics.contains(&format!("pgs_backup_last_attempt_failed{{tenant=\"{id}\"}} 0")), "{metrics}");
    let list = home.ok(&["list"]);
    assert!(list.lines().any(|l| l.starts_with(id.as_str()) && l.contains("incr")), "{list}");

    // Unknown labels and times are refused before the tenant is touched.
    let err = home.fails(&["restore", &id, "--backup", "nope", "--yes"]);
    assert!(err.contains("has no backup nope"), "{err}");
    let err = home.fails(&["restore", &id, "--at", "yesterday", "--yes"]);
    assert!(err.contains("invalid time"), "{err}");
}

/// The UTC time now, as the server's clock says, in RFC 3339 with microseconds.
async fn server_now(c: &tokio_postgres::Client) -> String {
    c.query_one("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')", &[])
        .await
        .unwrap()
        .get(0)
}

/// The rows of `notes` through the gateway (`url`), as `1,2,3`.
fn rows(url: &str) -> String {
    let (ok, rows, err) = psql(url, "SELECT string_agg(n::text, ',' ORDER BY n) FROM notes");
    assert!(ok, "{err}");
    rows
}

/// The stories of issue 22: a tenant nobody wrote to after T is restored and cloned to T (no
/// commit follows T, so recovery runs to the end of the archived WAL), after a restore too (a new
/// timeline), to a time on a timeline a later restore left, from a stopped source, a clone of
/// a clone; times
/// outside the window are refused before anything stops; a damaged WAL segment fails the
/// restore at once and leaves the tenant as it was; every data volume is listed and prunable.
#[tokio::test(flavor = "multi_thread")]
async fn any_moment_of_the_window_restores_and_clones() {
    let home = Home::with_setup(&["--yes", "--no-gateway", "--domain", "pgs.test", "--backups", "local"]);
    let _gw = GatewayProc::start(&home, &[]);
    let id = unique("pitr");
    let doc = home.create(&id);
    let url = doc["url"].as_str().unwrap().to_string();
    let c = common::connect_tenant(&doc).await;
    c.batch_execute("CREATE TABLE notes (n int); INSERT INTO notes VALUES (1)").await.unwrap();
    home.ok(&["backup", "run", &id]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.batch_execute("INSERT INTO notes VALUES (2)").await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let quiet = server_now(&c).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started: String = c.query_one("SELECT pg_postmaster_start_time()::text", &[]).await.unwrap().get(0);
    drop(c);

    // Outside the window: one line naming it, and the tenant was not touched.
    let err = home.fails(&["restore", &id, "--at", "2020-01-01T00:00:00Z", "--yes"]);
    assert!(
        err.contains("it is before the end of the first backup (the restorable window is ") && err.contains(".. now)"),
        "{err}"
    );
    let err = home.fails(&["clone", &id, &unique("never"), "--at", "2100-01-01T00:00:00Z"]);
    assert!(err.contains("it is in the future (the restorable window is "), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let c = common::connect_tenant(&doc).await;
    let now_started: String = c.query_one("SELECT pg_postmaster_start_time()::text", &[]).await.unwrap().get(0);
    assert_eq!(now_started, started);
    drop(c);

    // A quiet tenant cloned to T: nothing was committed after T.
    let timed = |args: &[&str]| {
        let t = std::time::Instant::now();
        let out = home.run(args);
        assert!(out.status.success(), "pgs {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        eprintln!("pgs {} took {:.1}s", args[0], t.elapsed().as_secs_f64());
        (
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (copy, log) = timed(&["clone", &id, &unique("qc"), "--at", &quiet, "--json"]);
    assert!(log.contains("nothing was committed after"), "{log}");
    assert_eq!(rows(copy["url"].as_str().unwrap()), "1,2");
    // The same tenant restored to T, then cloned to T (its repository now has timeline 2).
    let (report, _) = timed(&["restore", &id, "--at", &quiet, "--yes", "--json"]);
    assert!(report["events"].to_string().contains("nothing was committed after"), "{report}");
    assert_eq!(rows(&url), "1,2");
    let (copy, _) = timed(&["clone", &id, &unique("qr"), "--at", &quiet, "--json"]);
    assert_eq!(rows(copy["url"].as_str().unwrap()), "1,2");

    // A time on a timeline a later restore left: 3 and 4 on timeline 2, then back to 3.
    let c = common::connect_tenant(&doc).await;
    c.batch_execute("INSERT INTO notes VALUES (3)").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after_three = server_now(&c).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    c.batch_execute("INSERT INTO notes VALUES (4)").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after_four = server_now(&c).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    drop(c);
    let (report, _) = timed(&["restore", &id, "--at", &after_three, "--yes", "--json"]);
    assert!(report["plan"].as_str().unwrap().contains("timeline 2"), "{report}");
    assert_eq!(rows(&url), "1,2,3");
    // Timeline 3 has begun since: at `after_four` timeline 2 was current, and it had 4.
    let (copy, _) = timed(&["clone", &id, &unique("tl"), "--at", &after_four, "--json"]);
    assert_eq!(rows(copy["url"].as_str().unwrap()), "1,2,3,4");
    // The drill recovers to a moment it is given (it must not pass it), then to the latest state.
    let drill = home.json(&["backup", "verify", &id, "--at", &after_four, "--json"]);
    assert_eq!(drill["ok"], true, "{drill}");
    assert!(
        drill["report"]
            .to_string()
            .contains(&format!("recovered to {}", after_four.replace('T', " ").trim_end_matches('Z'))),
        "{drill}"
    );

    // A stopped source is cloned from its repository.
    home.ok(&["stop", &id]);
    let stopped_copy = unique("st");
    let (copy, _) = timed(&["clone", &id, &stopped_copy, "--at", &after_three, "--json"]);
    assert_eq!(rows(copy["url"].as_str().unwrap()), "1,2,3");
    let err = home.fails(&["restore", &id, "--at", &server_now(&common::connect_tenant(&copy).await).await, "--yes"]);
    assert!(err.contains("it is after the last archived WAL") && err.contains(&format!("pgs start {id}")), "{err}");
    home.ok(&["start", &id]);
    // A clone of a clone, at a quiet moment after the clone's first backup (the clone's own
    // repository begins on the timeline it was promoted to, without that timeline's history).
    home.ok(&["backup", "run", &stopped_copy]);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let c = common::connect_tenant(&copy).await;
    c.batch_execute("INSERT INTO notes VALUES (5)").await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let in_the_copy = server_now(&c).await;
    drop(c);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (copy_of_copy, _) = timed(&["clone", &stopped_copy, &unique("cc"), "--at", &in_the_copy, "--json"]);
    assert_eq!(rows(copy_of_copy["url"].as_str().unwrap()), "1,2,3,5");

    // A damaged WAL segment (one timeline 2 needs): the restore fails within seconds, says so
    // in one line, and the tenant is as it was.
    let volume = home.json(&["info", &id, "--json"])["volume"].clone();
    let damage = "f=$(ls /var/lib/pgbackrest/archive/pgs/*/0000000200000000/* | head -n 1); \
                  printf 'pgs-test-corruption' | dd of=\"$f\" bs=1 seek=100 conv=notrunc 2>/dev/null && echo \"$f\"";
    let damaged = docker(&["exec", &format!("pgs-{id}"), "sh", "-c", damage]);
    assert!(damaged.contains("/archive/pgs/"), "{damaged}");
    let t = std::time::Instant::now();
    let err = home.fails(&["restore", &id, "--latest", "--yes"]);
    assert!(t.elapsed() < Duration::from_secs(60), "the failed restore took {:?}", t.elapsed());
    let first = err.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
    assert!(
        first.contains(&format!("the restore of {id} failed (it runs on its previous data again, untouched)"))
            && first.contains("damaged or missing"),
        "{err}"
    );
    assert_eq!(home.json(&["info", &id, "--json"])["volume"], volume);
    assert_eq!(rows(&url), "1,2,3");

    // Every data volume is listed: the first one and two restores'; pruned through pgs.
    let info = home.json(&["info", &id, "--json"]);
    let roles: Vec<String> =
        info["data_volumes"].as_array().unwrap().iter().map(|v| v["role"].as_str().unwrap().to_string()).collect();
    assert_eq!(roles, ["unused", "previous", "in-use"], "{info}");
    let first = info["data_volumes"][0]["name"].as_str().unwrap().to_string();
    assert_eq!(first, format!("pgs-{id}-data"));
    let err = home.fails(&["prune-volumes", &id, "--volume", volume.as_str().unwrap(), "--yes"]);
    assert!(err.contains("runs on"), "{err}");
    let pruned = home.json(&["prune-volumes", &id, "--volume", &first, "--yes", "--json"]);
    assert_eq!(pruned, serde_json::json!([first]));
    assert!(!common::docker_ok(&["volume", "inspect", &first]));
    // Removed and adopted again: the volume it last ran on, a restore's.
    home.ok(&["remove", &id, "--yes"]);
    let adopted = home.json(&["create", &id, "--adopt", "--json"]);
    assert_eq!(adopted["volume"], volume);
    assert_eq!(rows(&url), "1,2,3");
}

#[test]
fn tenants_without_backups_say_how_to_get_them() {
    let home = Home::new();
    let err = home.fails(&["backup", "enable", "--all"]);
    assert!(err.contains("pgs setup --backups local"), "{err}");
    let err = home.fails(&["remove", "nobody", "--purge-backups", "--yes"]);
    assert!(err.contains("--purge"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn backups_enabled_on_an_existing_tenant_keep_its_data() {
    let home = Home::new();
    let id = unique("bke");
    let doc = home.create(&id);
    assert_eq!(doc["backups"], false);
    let c = common::connect_tenant(&doc).await;
    c.batch_execute("CREATE TABLE notes (n int); INSERT INTO notes VALUES (7)").await.unwrap();
    drop(c);
    home.ok(&["setup", "--yes", "--no-gateway", "--backups", "local"]);
    home.ok(&["backup", "enable", &id]);
    assert_eq!(notes(&doc).await, [7]);
    let list = home.json(&["backup", "list", &id, "--json"]);
    assert_eq!(list["backups"][0]["kind"], "full", "{list}");
    // Enabling again changes nothing.
    assert!(home.run(&["backup", "enable", "--all"]).status.success());
}

#[test]
fn the_restore_drill_proves_a_good_repository_and_fails_on_a_damaged_one() {
    let home = Home::with_setup(&["--yes", "--no-gateway", "--domain", "pgs.test", "--backups", "local"]);
    let id = unique("drill");
    let doc = home.create(&id);
    home.ok(&["backup", "run", &id]);
    let drill = home.json(&["backup", "verify", &id, "--json"]);
    assert_eq!(drill["ok"], true, "{drill}");
    let report = drill["report"].to_string();
    assert!(report.contains("recovered") && report.contains(&format!("database {id} relations")), "{report}");
    assert_eq!(home.json(&["info", &id, "--json"])["last_drill"]["ok"], true);
    // The drill leaves nothing behind and the tenant kept running.
    assert_eq!(home.status(&id), "running");
    assert!(!docker(&["volume", "ls", "-q"]).contains(&format!("pgs-{id}-drill")));
    // Backups and scale to zero do not fight: a suspended tenant is woken for its backup and
    // suspended again after it.
    home.ok(&["suspend", &id]);
    assert_eq!(home.status(&id), "suspended");
    let incr = home.json(&["backup", "run", &id, "--type", "incr", "--json"]);
    assert_eq!(incr["kind"], "incr", "{incr}");
    assert_eq!(home.status(&id), "suspended");
    home.ok(&["start", &id]);

    // Archiving that fails (the repository made unwritable) is reported by `info` and fails the
    // timer's run; once the repository is writable again archiving recovers.
    let superuser = {
        let secrets = std::fs::read(home.path().join("secrets").join(format!("{id}.json"))).unwrap();
        let secrets: serde_json::Value = serde_json::from_slice(&secrets).unwrap();
        format!(
            "host={} user=postgres password={} dbname=postgres",
            doc["socket_dir"].as_str().unwrap(),
            secrets["superuser_password"].as_str().unwrap()
        )
    };
    let container = format!("pgs-{id}");
    let started = || psql(&superuser, "SELECT pg_postmaster_start_time()").1;
    let started_before = started();
    docker(&["exec", &container, "chmod", "000", "/var/lib/pgbackrest/archive"]);
    let switch = || {
        psql(
            &superuser,
            "CREATE TABLE IF NOT EXISTS churn (n int); INSERT INTO churn VALUES (1); SELECT pg_switch_wal()",
        )
    };
    assert!(switch().0);
    let failing = wait_for(|| home.json(&["info", &id, "--json"])["archiving"]["ok"] == false);
    assert!(failing, "archiving never reported failing: {}", home.json(&["info", &id, "--json"]));
    assert!(home.ok(&["info", &id]).contains("archiving: FAILING since"));
    let out = home.run(&["backup", "run", "--due"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains(&format!("WAL archiving of {id} is FAILING")), "{err}");
    docker(&["exec", &container, "chmod", "750", "/var/lib/pgbackrest/archive"]);
    let recovered = wait_for(|| {
        switch();
        home.json(&["info", &id, "--json"])["archiving"]["ok"] == true
    });
    assert!(recovered, "archiving did not recover: {}", home.json(&["info", &id, "--json"]));
    // Failing archiving never took the tenant's PostgreSQL down (an orphaned archiver process
    // exiting non-zero once made PostgreSQL, as PID 1, restart itself).
    assert_eq!(started(), started_before, "PostgreSQL restarted while archiving failed");

    // Flip bytes in the middle of the largest file of the backup: the drill must say so.
    let flip = "f=$(find /var/lib/pgbackrest/backup -type f -name '*.gz' -printf '%s %p\\n' | sort -n | tail -1 | cut -d' ' -f2); \
                printf 'pgs-test-corruption' | dd of=\"$f\" bs=1 seek=2000 conv=notrunc 2>/dev/null && echo \"$f\"";
    let damaged = docker(&["exec", &format!("pgs-{id}"), "sh", "-c", flip]);
    assert!(damaged.contains("/var/lib/pgbackrest/backup/"), "{damaged}");
    let out = home.run(&["backup", "verify", &id]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("restore drill for") && err.contains("FAILED"), "{err}");
    let last = &home.json(&["info", &id, "--json"])["last_drill"];
    assert_eq!(last["ok"], false, "{last}");
}

#[tokio::test(flavor = "multi_thread")]
async fn restore_from_an_encrypted_s3_repository() {
    let s3 = S3Server::start(&S3Server::docker0(), "pgs-backups");
    let home = Home::new();
    let out = home
        .cmd(&[
            "setup",
            "--yes",
            "--no-gateway",
            "--backups",
            "s3",
            "--s3-endpoint",
            &s3.endpoint,
            "--s3-bucket",
            "pgs-backups",
            "--s3-path-style",
            "--s3-no-verify-tls",
        ])
        .env("AWS_ACCESS_KEY_ID", "pgs-test")
        .env("AWS_SECRET_ACCESS_KEY", "pgs-test-secret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secrets = home.path().join("backup-secrets.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777, 0o600);

    let id = unique("bks3");
    let doc = home.create(&id);
    // The keys and the passphrase are in no container's configuration.
    let inspect = docker(&["inspect", &format!("pgs-{id}")]);
    assert!(!inspect.contains("pgs-test-secret") && inspect.contains("PGBACKREST_REPO1_TYPE=s3"), "{inspect}");
    let c = common::connect_tenant(&doc).await;
    c.batch_execute("CREATE TABLE notes (n int); INSERT INTO notes VALUES (1)").await.unwrap();
    home.ok(&["backup", "run", &id]);
    c.batch_execute("INSERT INTO notes VALUES (2)").await.unwrap();
    drop(c);
    home.ok(&["restore", &id, "--latest", "--yes"]);
    assert_eq!(notes(&doc).await, [1, 2]);
    // The repository is in the bucket, under this installation and tenant, and encrypted
    // (OpenSSL's salted format, not pgBackRest's plain-text info file).
    let head = s3.head("pgs-backups", &format!("{}/{id}/archive/pgs/archive.info", home.instance));
    assert!(head.contains("Salted__"), "{head}");
    let info = home.json(&["backup", "list", &id, "--json"]);
    assert_eq!(info["backups"].as_array().unwrap().len(), 1, "{info}");
}
