//! pgBackRest, as pgs drives it.
//!
//! - **Image**: WAL archiving runs inside the tenant's PostgreSQL, so `pgbackrest` must be in the
//!   tenant's image. pgs derives an image from the tenant's (`FROM` it, pgbackrest installed with
//!   the image's package manager when missing), tagged by the base image's id, so it is rebuilt
//!   only when the base changes ([`dockerfile`], [`derived_tag`]).
//! - **Configuration** lives in the container's environment (`PGBACKREST_*`, [`env`]): no file to
//!   keep in sync, and `archive_command` sees it. The repository is the tenant's own volume,
//!   mounted at [`REPO_MOUNT`] in that tenant's containers only.
//! - **Archiving**: `archive_mode=on`, `archive_command='pgbackrest archive-push %p'`,
//!   asynchronous (several segments per push), `archive_timeout` so that an idle tenant's last
//!   writes reach the repository within a minute ([`postgres_args`]).
//! - **Commands** run as `postgres` in the tenant's container ([`command`]); those that talk to
//!   the database get the superuser's password in that process's environment only.
//! - **Restores** run in a one-off container (no network for a local repository) on a new data
//!   volume ([`restore_command`]); PostgreSQL then recovers on its own at the next start.

use serde_json::Value;

use super::{Backup, Kind, Repository, Target};

/// The stanza: pgBackRest's name for "this cluster". One per tenant repository.
pub const STANZA: &str = "pgs";

/// Where a tenant's repository volume is mounted in its containers.
pub const REPO_MOUNT: &str = "/var/lib/pgbackrest";

/// Seconds after which an idle server switches to a new WAL segment (so it gets archived).
pub const ARCHIVE_TIMEOUT_SECS: u32 = 60;

/// Repository name of derived images.
pub const IMAGE_REPO: &str = "pgs-pgbackrest";

/// The tag of the image derived from the base image with id `base_id`.
pub fn derived_tag(base_id: &str) -> String {
    let hex = base_id.trim_start_matches("sha256:");
    format!("{IMAGE_REPO}:{}-r{IMAGE_REVISION}", &hex[..hex.len().min(12)])
}

/// Revision of [`dockerfile`]: a change to it makes new derived images.
const IMAGE_REVISION: u32 = 2;

/// Directory (owned by `postgres`, mode 0700) for the configuration file that holds an S3
/// repository's keys and passphrase ([`secrets_config`]).
pub const CONFIG_DIR: &str = "/etc/pgs-pgbackrest";

/// File name of that configuration file.
pub const CONFIG_FILE: &str = "pgbackrest.conf";

/// Where a repository is, as the engine's settings need it.
#[derive(Debug, Clone, Copy)]
pub enum Repo<'a> {
    /// The tenant's volume, mounted at [`REPO_MOUNT`].
    Local,
    /// A path in an S3-compatible bucket (keys and passphrase in [`CONFIG_DIR`]).
    S3 {
        /// The store.
        s3: &'a crate::state::S3Settings,
        /// The tenant's path in the bucket.
        path: &'a str,
    },
}

/// The configuration file with an S3 repository's secrets: uploaded into the container (never
/// in its environment, which `docker inspect` shows), readable by `postgres` only.
pub fn secrets_config(secrets: &crate::state::BackupSecrets) -> String {
    format!(
        "[global]\nrepo1-s3-key={}\nrepo1-s3-key-secret={}\nrepo1-cipher-pass={}\n",
        secrets.access_key, secrets.secret_key, secrets.cipher_pass
    )
}

/// A Dockerfile deriving an image with pgbackrest from `base`: installed with apt (Debian and
/// Ubuntu based images, the official one among them) or apk (Alpine) when missing.
pub fn dockerfile(base: &str) -> String {
    format!(
        r#"FROM {base}
USER root
RUN set -e; \
    if ! command -v pgbackrest >/dev/null; then \
      if command -v apt-get >/dev/null; then \
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends pgbackrest >/dev/null \
          && rm -rf /var/lib/apt/lists/*; \
      elif command -v apk >/dev/null; then apk add --no-cache pgbackrest; \
      else echo "no package manager to install pgbackrest with" >&2; exit 1; fi; \
    fi; \
    pgbackrest version; \
    mkdir -p {REPO_MOUNT} {CONFIG_DIR} /var/spool/pgbackrest /var/log/pgbackrest /tmp/pgbackrest; \
    chown postgres:postgres {REPO_MOUNT} {CONFIG_DIR} /var/spool/pgbackrest /var/log/pgbackrest /tmp/pgbackrest; \
    chmod 750 {REPO_MOUNT}; chmod 700 {CONFIG_DIR}
"#
    )
}

/// The container environment that configures pgBackRest for a cluster whose data directory is
/// `pgdata` and whose repository is `repo` (nothing secret: that is in [`secrets_config`]).
pub fn env(pgdata: &str, repo: Repo<'_>) -> Vec<String> {
    let mut settings: Vec<(&str, String)> = vec![
        ("STANZA", STANZA.into()),
        ("PG1_PATH", pgdata.into()),
        ("REPO1_RETENTION_FULL", "2".into()),
        ("ARCHIVE_ASYNC", "y".into()),
        ("SPOOL_PATH", "/var/spool/pgbackrest".into()),
        ("START_FAST", "y".into()),
        ("LOG_LEVEL_CONSOLE", "warn".into()),
        ("LOG_LEVEL_STDERR", "warn".into()),
        ("LOG_LEVEL_FILE", "off".into()),
    ];
    match repo {
        Repo::Local => settings.push(("REPO1_PATH", REPO_MOUNT.into())),
        Repo::S3 { s3, path } => settings.extend([
            ("REPO1_TYPE", "s3".into()),
            ("REPO1_PATH", path.into()),
            ("REPO1_S3_ENDPOINT", s3.endpoint.clone()),
            ("REPO1_STORAGE_PORT", s3.port.to_string()),
            ("REPO1_S3_BUCKET", s3.bucket.clone()),
            ("REPO1_S3_REGION", s3.region.clone()),
            ("REPO1_S3_URI_STYLE", if s3.path_style { "path" } else { "host" }.into()),
            ("REPO1_STORAGE_VERIFY_TLS", if s3.verify_tls { "y" } else { "n" }.into()),
            ("REPO1_CIPHER_TYPE", "aes-256-cbc".into()),
            ("CONFIG", format!("{CONFIG_DIR}/{CONFIG_FILE}")),
        ]),
    }
    settings.into_iter().map(|(k, v)| format!("PGBACKREST_{k}={v}")).collect()
}

/// Extra `postgres` arguments that turn archiving on.
pub fn postgres_args() -> Vec<String> {
    [
        "archive_mode=on".to_string(),
        "archive_command=pgbackrest archive-push %p".to_string(),
        format!("archive_timeout={ARCHIVE_TIMEOUT_SECS}"),
    ]
    .into_iter()
    .flat_map(|setting| ["-c".to_string(), setting])
    .collect()
}

/// What pgs asks of pgBackRest in a running tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Create the stanza (idempotent: succeeds when it exists and matches).
    StanzaCreate,
    /// Switch WAL and wait until the segment is archived: proves archiving works, and puts
    /// everything committed so far into the repository.
    Check,
    /// Take a backup.
    Backup(Kind),
    /// Describe the repository as JSON.
    Info,
}

/// The command line for `cmd`, and whether it needs the superuser's password.
pub fn command(cmd: Command) -> (Vec<String>, bool) {
    let (args, db): (Vec<String>, bool) = match cmd {
        Command::StanzaCreate => (vec!["stanza-create".into()], true),
        Command::Check => (vec!["check".into()], true),
        Command::Backup(kind) => (vec!["backup".into(), format!("--type={}", kind.as_str())], true),
        Command::Info => (vec!["info".into(), "--output=json".into()], false),
    };
    (std::iter::once("pgbackrest".to_string()).chain(args).collect(), db)
}

/// pgBackRest's restore options for `target`.
fn target_options(target: &Target) -> Vec<String> {
    match target {
        Target::Latest => Vec::new(),
        Target::Time { at, .. } => {
            vec!["--type=time".to_string(), format!("--target={at}"), "--target-action=promote".to_string()]
        }
        Target::Backup(label) => {
            vec![format!("--set={label}"), "--type=immediate".to_string(), "--target-action=promote".to_string()]
        }
    }
}

/// A one-off container's entrypoint that restores into the (empty) data directory `pgdata` of
/// a fresh volume: it makes the directory as root, then runs the restore as `postgres`. The
/// tenant's PostgreSQL recovers (fetching WAL from its repository) when it next starts.
pub fn restore_command(target: &Target, pgdata: &str) -> Vec<String> {
    let script = "set -e; mkdir -p \"$1\"; chown postgres:postgres \"$1\"; chmod 700 \"$1\"; shift; \
                  exec setpriv --reuid=postgres --regid=postgres --init-groups \"$@\"";
    ["sh", "-c", script, "pgs-restore", pgdata, "pgbackrest", "restore"]
        .iter()
        .map(|s| s.to_string())
        .chain(target_options(target))
        .collect()
}

/// A one-off container's entrypoint that restores into the (empty) data directory `pgdata`,
/// starts PostgreSQL on it with no network, no archiving and a throwaway `trust` rule for its
/// private socket, waits until it has recovered and promoted, runs the shell snippet `then`
/// (which has `as_pg` and psql over `-h /tmp -U postgres`), and stops it cleanly. Exit codes:
/// 2 the restore failed, 3 recovery failed, what `then` exits with otherwise. Lines starting
/// `drill:` report progress.
fn recover_privately(pgdata: &str, restore_options: &[String], then: &str) -> Vec<String> {
    let script = format!(
        r#"
pgdata="$1"; shift
as_pg() {{ setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }}
mkdir -p "$pgdata" && chown postgres:postgres "$pgdata" && chmod 700 "$pgdata" || exit 2
as_pg pgbackrest restore --archive-mode=off "$@" || exit 2
echo "drill: restored"
printf 'local all all trust\n' > /tmp/private-hba.conf && chown postgres /tmp/private-hba.conf
if ! as_pg pg_ctl -D "$pgdata" -w -t 3600 -l /tmp/postgres.log \
     -o "-c listen_addresses='' -c unix_socket_directories=/tmp -c hba_file=/tmp/private-hba.conf -c archive_mode=off" start; then
  tail -n 20 /tmp/postgres.log; exit 3
fi
# Connections are accepted while it still replays WAL (hot standby): wait for the promotion.
tries=0
until [ "$(as_pg psql -h /tmp -U postgres -d postgres -XAtc 'select pg_is_in_recovery()')" = f ]; do
  tries=$((tries + 1)); [ $tries -le 3600 ] || {{ tail -n 20 /tmp/postgres.log; exit 3; }}
  sleep 1
done
echo "drill: recovered"
status=0
{then}
as_pg pg_ctl -D "$pgdata" -m fast -w stop >/dev/null
exit $status
"#
    );
    ["sh", "-c", &script, "pgs-recover", pgdata]
        .iter()
        .map(|s| s.to_string())
        .chain(restore_options.iter().cloned())
        .collect()
}

/// The restore drill, as a one-off container's entrypoint: restores the latest backup and all
/// archived WAL into `pgdata` and recovers it privately ([`recover_privately`]), counts every
/// database's relations and runs `pg_amcheck` where the image has it. The repository is mounted
/// read-only. Exit codes: 0 proven, 2 restore failed, 3 recovery failed, 4 a check failed.
/// Lines starting `drill:` are the report.
pub fn drill_command(pgdata: &str) -> Vec<String> {
    let checks = r#"
for db in $(as_pg psql -h /tmp -U postgres -d postgres -XAtc "select datname from pg_database where datallowconn"); do
  n=$(as_pg psql -h /tmp -U postgres -d "$db" -XAtc "select count(*) from pg_class") || status=4
  echo "drill: database $db relations ${n:-?}"
done
if command -v pg_amcheck >/dev/null; then
  if as_pg pg_amcheck -h /tmp -U postgres --all --install-missing; then echo "drill: pg_amcheck ok"; else status=4; echo "drill: pg_amcheck found corruption"; fi
else
  echo "drill: pg_amcheck not in this image"
fi"#;
    // A damaged file will not heal on a retry: fail at once.
    recover_privately(pgdata, &["--job-retry=0".to_string()], checks)
}

/// Where a clone's SQL (renames, new passwords) is put in its one-off container.
pub const CLONE_SQL: &str = "/tmp/pgs-clone.sql";

/// A clone, as a one-off container's entrypoint: restores another tenant's backup to `target`
/// into `pgdata` and recovers it privately ([`recover_privately`]: nothing reaches that
/// tenant's repository, which is mounted read-only), then runs [`CLONE_SQL`]. Exit code 4: the
/// SQL failed.
pub fn clone_command(target: &Target, pgdata: &str) -> Vec<String> {
    let then = format!(
        "as_pg psql -h /tmp -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 -f {CLONE_SQL} || status=4\necho \"drill: renamed\""
    );
    recover_privately(pgdata, &target_options(target), &then)
}

/// Reads `pgbackrest info --output=json` for the stanza.
pub fn parse_info(json: &str) -> Result<Repository, String> {
    // A container's log may hold warnings around the JSON: read the first array in it.
    let from = json.find('[').unwrap_or(0);
    let all: Value = serde_json::Deserializer::from_str(&json[from..])
        .into_iter::<Value>()
        .next()
        .unwrap_or_else(|| serde_json::from_str(""))
        .map_err(|e| format!("unreadable pgbackrest info: {e}"))?;
    let stanza = all
        .as_array()
        .and_then(|a| a.iter().find(|s| s["name"] == STANZA))
        .ok_or_else(|| format!("pgbackrest info has no stanza {STANZA}"))?;
    let status = stanza["status"]["message"].as_str().unwrap_or("unknown").to_string();
    let backups: Vec<Backup> = stanza["backup"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|b| Backup {
                    label: b["label"].as_str().unwrap_or_default().to_string(),
                    kind: b["type"].as_str().unwrap_or_default().to_string(),
                    started: b["timestamp"]["start"].as_i64().unwrap_or(0),
                    finished: b["timestamp"]["stop"].as_i64().unwrap_or(0),
                    database_bytes: b["info"]["size"].as_u64().unwrap_or(0),
                    repository_bytes: b["info"]["repository"]["delta"].as_u64().unwrap_or(0),
                    prior: b["prior"].as_str().map(str::to_owned),
                    wal: b["archive"]["start"]
                        .as_str()
                        .zip(b["archive"]["stop"].as_str())
                        .map(|(start, stop)| (start.to_string(), stop.to_string())),
                })
                .collect()
        })
        .unwrap_or_default();
    let wal = stanza["archive"]
        .as_array()
        .and_then(|a| a.last())
        .and_then(|a| Some((a["min"].as_str()?.to_string(), a["max"].as_str()?.to_string())));
    let earliest_restorable = backups.iter().map(|b| b.finished + 1).min().map(super::utc);
    Ok(Repository { status, backups, wal, earliest_restorable, latest_restorable: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_info_json() {
        let json = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1",
            "max":"000000010000000000000005","min":"000000010000000000000001"}],
            "backup":[{"label":"20261126-101010F","type":"full","prior":null,
              "archive":{"start":"000000010000000000000002","stop":"000000010000000000000003"},
              "timestamp":{"start":1700000000,"stop":1700000010},
              "info":{"size":23000000,"delta":23000000,"repository":{"size":3000000,"delta":3000000}}},
             {"label":"20261126-101010F_20261126-111111D","type":"diff","prior":"20261126-101010F",
              "timestamp":{"start":1700003600,"stop":1700003601},
              "info":{"size":23000000,"delta":100000,"repository":{"size":3000000,"delta":20000}}}],
            "name":"pgs","status":{"code":0,"message":"ok"}}]"#;
        let repo = parse_info(json).unwrap();
        assert_eq!(repo.status, "ok");
        assert_eq!(repo.backups.len(), 2);
        assert_eq!(repo.backups[1].kind, "diff");
        assert_eq!(repo.backups[1].prior.as_deref(), Some("20261126-101010F"));
        assert_eq!(repo.backups[0].repository_bytes, 3_000_000);
        assert_eq!(repo.backups[0].wal.as_ref().unwrap().1, "000000010000000000000003");
        assert_eq!(repo.earliest_restorable.as_deref(), Some("2023-11-14 22:13:31"));
        assert_eq!(repo.wal.as_ref().unwrap().1, "000000010000000000000005");
        assert!(parse_info("[]").is_err());
        assert_eq!(parse_info(&format!("WARN: something\n{json}\n")).unwrap(), repo);
        assert!(parse_info("not json").is_err());
    }

    #[test]
    fn restore_targets() {
        let at = restore_command(
            &Target::Time { at: "2026-11-26 21:00:00.000000+00".into(), unix: 1_795_726_800 },
            "/var/lib/postgresql/data",
        );
        assert!(at.contains(&"--type=time".to_string()));
        assert!(at.contains(&"--target=2026-11-26 21:00:00.000000+00".to_string()));
        assert_eq!(at[4], "/var/lib/postgresql/data");
        let latest = restore_command(&Target::Latest, "/d");
        assert_eq!(latest.last().unwrap(), "restore");
        let clone = clone_command(&Target::Backup("L".into()), "/d");
        assert_eq!(clone[4], "/d");
        assert!(clone[2].contains(CLONE_SQL) && clone.contains(&"--set=L".to_string()));
        assert!(drill_command("/d").contains(&"--job-retry=0".to_string()));
        assert!(restore_command(&Target::Backup("L".into()), "/d").contains(&"--set=L".to_string()));
    }

    #[test]
    fn archiving_settings() {
        let args = postgres_args();
        assert!(args.windows(2).any(|w| w[0] == "-c" && w[1] == "archive_command=pgbackrest archive-push %p"));
        assert!(env("/pgdata", Repo::Local).contains(&"PGBACKREST_PG1_PATH=/pgdata".to_string()));
        assert_eq!(derived_tag("sha256:0123456789abcdef0123"), "pgs-pgbackrest:0123456789ab-r2");
        let s3 = crate::state::S3Settings {
            endpoint: "s3.example".into(),
            port: 9000,
            bucket: "b".into(),
            region: "r".into(),
            path_style: true,
            verify_tls: true,
        };
        let e = env("/d", Repo::S3 { s3: &s3, path: "/i/t1" });
        assert!(e.contains(&"PGBACKREST_REPO1_S3_URI_STYLE=path".to_string()));
        assert!(e.contains(&"PGBACKREST_REPO1_PATH=/i/t1".to_string()));
        assert!(!e.iter().any(|kv| kv.contains("KEY") || kv.contains("PASS")), "no secret in the environment: {e:?}");
    }
}
