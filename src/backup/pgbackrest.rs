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
//! - **Recoveries** (restores, clones, drills) run in a one-off container (no network for a local
//!   repository) on a new data volume, and are watched there until PostgreSQL has promoted
//!   ([`recover_command`]); the repository is read with [`survey_command`] first, to choose the
//!   backup and timeline ([`super::plan`]).

use serde_json::Value;

use super::BackupError;
use super::plan::{Archive, Lsn, Plan};
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

/// What a recovery in a one-off container is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `pgs restore`: the data becomes the tenant's; the new timeline's history file is archived
    /// into the tenant's repository (mounted read-write), so later restores can follow it.
    Restore,
    /// `pgs clone`: then [`CLONE_SQL`] runs (renames, new passwords); the repository is read-only.
    Clone,
    /// The restore drill: recovery pauses at the target time (checked), goes on to the end of the
    /// archived WAL, then every database is checked; the repository is read-only.
    Drill,
}

/// pgBackRest's restore options for `target` along `plan`; a drill pauses at a time target.
fn target_options(target: &Target, plan: &Plan, purpose: Purpose) -> Vec<String> {
    let mut options = vec![format!("--set={}", plan.set)];
    let timeline = plan.timeline.map(|t| match plan.history {
        true => format!("--target-timeline={t}"),
        false => "--target-timeline=current".to_string(),
    });
    match target {
        Target::Latest => options.extend(timeline),
        Target::Time { at, .. } => {
            let action = if purpose == Purpose::Drill { "pause" } else { "promote" };
            options.extend(["--type=time".to_string(), format!("--target={at}"), format!("--target-action={action}")]);
            options.extend(timeline);
        }
        Target::Backup(_) => options.extend(["--type=immediate".to_string(), "--target-action=promote".to_string()]),
    }
    options
}

/// A one-off container's entrypoint that restores `plan`'s backup into the (empty) data
/// directory `pgdata`, starts PostgreSQL on it with no network, no archiving and a throwaway
/// `trust` rule for its private socket, and watches it until it has recovered and promoted:
///
/// - a server that exits is noticed at once (`pg_ctl` and a status check every half second),
///   and reported with its FATAL line; the one exception is "recovery ended before configured
///   recovery target was reached" for a time target: nothing was committed after it, so the
///   recovery goes on to the end of the archived WAL (see [`super::plan`]);
/// - a recovery that runs to the end of the WAL must reach `plan.end_segment`;
/// - progress (restored bytes, replayed WAL position) every two seconds.
///
/// Then, by purpose: a restore archives the new timeline's history file; a clone runs
/// [`CLONE_SQL`]; a drill counts every database's relations and runs `pg_amcheck` where the
/// image has it. Last, PostgreSQL stops cleanly. Exit codes: [`Report::failure`].
pub fn recover_command(target: &Target, plan: &Plan, purpose: Purpose, pgdata: &str) -> Vec<String> {
    let then = match purpose {
        Purpose::Restore => {
            r#"
as_pg pgbackrest archive-push --no-archive-async "$pgdata/pg_wal/$(newest_history)" \
  || { echo "pgs-fatal: the new timeline's history file could not be archived"; exit 8; }
sed -i "/^archive_mode = 'off'/d" "$auto""#
                .to_string()
        }
        Purpose::Clone => format!(
            "as_pg psql -h /tmp -U postgres -d postgres -X -q -v ON_ERROR_STOP=1 -f {CLONE_SQL} || status=4\necho \"drill: renamed\""
        ),
        Purpose::Drill => r#"
for db in $(sql "select datname from pg_database where datallowconn"); do
  n=$(as_pg psql -h /tmp -U postgres -d "$db" -XAtc "select count(*) from pg_class") || status=4
  echo "drill: database $db relations ${n:-?}"
done
if command -v pg_amcheck >/dev/null; then
  if as_pg pg_amcheck -h /tmp -U postgres --all --install-missing; then echo "drill: pg_amcheck ok"; else status=4; echo "drill: pg_amcheck found corruption"; fi
else
  echo "drill: pg_amcheck not in this image"
fi"#
        .to_string(),
    };
    let (kind, at) = match target {
        Target::Latest => ("latest", String::new()),
        Target::Time { at, .. } => ("time", at.clone()),
        Target::Backup(_) => ("backup", String::new()),
    };
    let script = format!(
        r#"
kind="$1"; pgdata="$2"; end_segment="$3"; at="$4"; purpose="$5"; shift 5
auto="$pgdata/postgresql.auto.conf"
log=/tmp/postgres.log
as_pg() {{ setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }}
sql() {{ as_pg psql -h /tmp -U postgres -d postgres -XAtc "$1" 2>/dev/null; }}
newest_history() {{ ls "$pgdata/pg_wal" | grep '\.history$' | sort | tail -n 1; }}
fatal() {{
  line=$(grep -E 'FATAL|PANIC' "$log" | grep -v 'the database system is' | tail -n 1)
  echo "pgs-fatal: ${{line:-PostgreSQL stopped}}"
  echo "pgs-log:"; tail -n 20 "$log"
}}
mkdir -p "$pgdata" && chown postgres:postgres "$pgdata" && chmod 700 "$pgdata" || exit 2
(while sleep 2; do echo "pgs-restored: $(du -sb "$pgdata" 2>/dev/null | cut -f1)"; done) &
meter=$!
as_pg pgbackrest restore --archive-mode=off "$@"; rc=$?
kill $meter 2>/dev/null
[ $rc = 0 ] || exit 2
echo "pgs-restored: $(du -sb "$pgdata" | cut -f1)"
echo "drill: restored"
printf 'local all all trust\n' > /tmp/private-hba.conf && chown postgres /tmp/private-hba.conf
to_end=0; [ "$kind" = latest ] && to_end=1
fell_back=0
start() {{
  as_pg pg_ctl -D "$pgdata" -w -t 86400 -l "$log" \
    -o "-c listen_addresses='' -c unix_socket_directories=/tmp -c hba_file=/tmp/private-hba.conf -c archive_mode=off -c synchronous_standby_names=''" \
    start >/dev/null || died
}}
# Without the time target, recovery goes on to the end of the archived WAL.
drop_target() {{ sed -i -e '/^recovery_target_time *=/d' -e '/^recovery_target_action *=/d' "$auto"; to_end=1; }}
died() {{
  if [ "$kind" = time ] && [ $fell_back = 0 ] && grep -q 'recovery ended before configured recovery target was reached' "$log"; then
    fell_back=1
    echo "pgs-event: nothing was committed after $at: recovering to the end of the archived WAL"
    echo "drill: recovered to $at (nothing committed after it: the end of the archived WAL)"
    mv "$log" "$log.1"; drop_target; start; return
  fi
  fatal; exit 3
}}
start
last=0
while :; do
  as_pg pg_ctl -D "$pgdata" status >/dev/null || {{ died; continue; }}
  state=$(sql "select pg_is_in_recovery()")
  [ "$state" = f ] && break
  if [ "$state" = t ] && [ "$(sql "select pg_is_wal_replay_paused()")" = t ]; then
    if [ "$purpose" != drill ] || ! grep -q 'recovery stopping' "$log"; then
      echo "pgs-fatal: recovery paused: $(grep -E 'WARNING|FATAL' "$log" | tail -n 1)"; echo "pgs-log:"; tail -n 20 "$log"; exit 3
    fi
    replayed=$(sql "select coalesce(to_char(pg_last_xact_replay_timestamp() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'none')")
    if [ "$(sql "select coalesce(pg_last_xact_replay_timestamp() <= '$at'::timestamptz, true)")" != t ]; then
      echo "pgs-fatal: recovery to $at replayed a commit of $replayed, after it"; exit 7
    fi
    echo "drill: recovered to $at (last commit replayed: $replayed UTC)"
    as_pg pg_ctl -D "$pgdata" -m fast -w stop >/dev/null
    drop_target; start; continue
  fi
  now=$(date +%s)
  if [ $((now - last)) -ge 2 ]; then
    last=$now; echo "pgs-replayed: $(sql "select pg_last_wal_replay_lsn()")"
  fi
  sleep 0.5
done
echo "drill: recovered"
if [ $to_end = 1 ] && [ -n "$end_segment" ]; then
  switched=$(grep -v '^#' "$pgdata/pg_wal/$(newest_history)" | grep . | tail -n 1 | cut -f2)
  reached=$(sql "select substr(pg_walfile_name('$switched'::pg_lsn - 1), 9)")
  want=$(echo "$end_segment" | cut -c9-)
  echo "pgs-event: recovery ended in WAL segment $reached; the archive ends in $want"
  if [ "$(sql "select '$reached' >= '$want'")" != t ]; then
    echo "pgs-fatal: recovery ended in WAL segment $reached, before the end of the archived WAL in segment $want: a segment in between is damaged or missing"
    echo "pgs-log:"; cat "$log.1" "$log" 2>/dev/null | grep -iE 'error|fatal|could not|invalid' | tail -n 10
    as_pg pg_ctl -D "$pgdata" -m immediate -w stop >/dev/null
    exit 6
  fi
fi
# An HA primary's data waits for its standby on every commit: a copy has none (a restored HA
# tenant gets a new one, which sets it again).
sed -i '/^synchronous_standby_names *=/d' "$auto"
status=0
{then}
as_pg pg_ctl -D "$pgdata" -m fast -w stop >/dev/null
exit $status
"#
    );
    let purpose_name = match purpose {
        Purpose::Restore => "restore",
        Purpose::Clone => "clone",
        Purpose::Drill => "drill",
    };
    let mut argv: Vec<String> =
        ["sh", "-c", &script, "pgs-recover", kind, pgdata].iter().map(|s| s.to_string()).collect();
    argv.extend([plan.end_segment.clone().unwrap_or_default(), at, purpose_name.to_string()]);
    if purpose == Purpose::Drill {
        // A damaged file will not heal on a retry: fail at once.
        argv.push("--job-retry=0".to_string());
    }
    argv.extend(target_options(target, plan, purpose));
    argv
}

/// What a recovery script reported ([`recover_command`]), read from its output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Lines starting `drill:`, without the prefix.
    pub steps: Vec<String>,
    /// Notes for the operator (`pgs-event:`).
    pub events: Vec<String>,
    /// What went wrong, in one line (`pgs-fatal:`).
    pub fatal: Option<String>,
    /// The server log's tail printed after a failure (`pgs-log:` and what follows).
    pub log: String,
}

impl Report {
    /// Reads the script's output.
    pub fn read(output: &str) -> Self {
        let mut report = Report::default();
        let mut in_log = false;
        for line in output.lines() {
            if in_log {
                report.log.push_str(line);
                report.log.push('\n');
            } else if let Some(step) = line.trim().strip_prefix("drill: ") {
                report.steps.push(step.to_string());
            } else if let Some(event) = line.strip_prefix("pgs-event: ") {
                report.events.push(event.to_string());
            } else if let Some(fatal) = line.strip_prefix("pgs-fatal: ") {
                report.fatal = Some(fatal.to_string());
            } else if line.starts_with("pgs-log:") {
                in_log = true;
            }
        }
        report
    }

    /// What the exit `code` means, in pgs's words (`None`: it succeeded).
    pub fn failure(&self, code: i64) -> Option<String> {
        let fatal = self.fatal.as_deref().unwrap_or("see the log below");
        match code {
            0 => None,
            2 => Some("pgBackRest could not restore the backup".into()),
            3 => Some(format!("PostgreSQL stopped while recovering the restored data: {fatal}")),
            4 => Some("a check of the recovered data failed".into()),
            6..=8 => Some(fatal.to_string()),
            code => Some(format!("the recovery container exited {code}")),
        }
    }
}

/// Progress a recovery script reports: bytes restored so far, or the WAL position replayed.
pub fn progress(line: &str) -> Option<Progress> {
    if let Some(bytes) = line.strip_prefix("pgs-restored: ") {
        return bytes.trim().parse().ok().map(Progress::Restored);
    }
    line.strip_prefix("pgs-replayed: ").and_then(Lsn::parse).map(Progress::Replayed)
}

/// One progress report of a recovery script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Bytes of the data directory restored.
    Restored(u64),
    /// The WAL position replayed.
    Replayed(Lsn),
}

/// Where a clone's SQL (renames, new passwords) is put in its one-off container.
pub const CLONE_SQL: &str = "/tmp/pgs-clone.sql";

/// A shell script that prints what [`parse_survey`] reads: `pgbackrest info`, the archive's
/// files with their times, and every timeline history file. Runs as `postgres` in the tenant's
/// container or a one-off one.
pub fn survey_command() -> Vec<String> {
    let script = format!(
        r#"set -e
pgbackrest info --output=json
echo; echo "{SURVEY_ARCHIVE}"
pgbackrest repo-ls --recurse --output=json archive/{STANZA}
echo
for h in $(pgbackrest repo-ls --recurse archive/{STANZA} | grep '\.history$'); do
  echo "{SURVEY_HISTORY}${{h##*/}}"; pgbackrest repo-get "archive/{STANZA}/$h"
done"#
    );
    vec!["sh".into(), "-c".into(), script]
}

const SURVEY_ARCHIVE: &str = "--pgs-archive--";
const SURVEY_HISTORY: &str = "--pgs-history ";

/// Reads [`survey_command`]'s output: the repository and its archive.
pub fn parse_survey(out: &str) -> Result<(Repository, Archive), BackupError> {
    let (info, rest) = out.split_once(SURVEY_ARCHIVE).unwrap_or((out, ""));
    let repo = parse_info(info)?;
    let mut sections = rest.split(SURVEY_HISTORY);
    let listing = sections.next().unwrap_or_default();
    let histories = sections
        .filter_map(|s| s.split_once('\n').map(|(name, text)| (name.trim().to_string(), text.to_string())))
        .collect();
    let archive = match &repo.archive_id {
        Some(id) => Archive::read(listing, id, &histories)?,
        None => Archive::default(),
    };
    Ok((repo, archive))
}

/// Reads `pgbackrest info --output=json` for the stanza.
pub fn parse_info(json: &str) -> Result<Repository, BackupError> {
    // A container's log may hold warnings around the JSON: read the first array in it.
    let from = json.find('[').unwrap_or(0);
    let all: Value = serde_json::Deserializer::from_str(&json[from..])
        .into_iter::<Value>()
        .next()
        .unwrap_or_else(|| serde_json::from_str(""))
        .map_err(|e| BackupError::UnreadableInfo(e.to_string()))?;
    let stanza =
        all.as_array().and_then(|a| a.iter().find(|s| s["name"] == STANZA)).ok_or(BackupError::NoStanza(STANZA))?;
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
                    lsn_stop: b["lsn"]["stop"].as_str().and_then(Lsn::parse),
                })
                .collect()
        })
        .unwrap_or_default();
    let current = stanza["archive"].as_array().and_then(|a| a.last());
    let wal = current.and_then(|a| Some((a["min"].as_str()?.to_string(), a["max"].as_str()?.to_string())));
    let archive_id = current.and_then(|a| a["id"].as_str()).map(str::to_owned);
    let earliest_restorable = backups.iter().map(|b| b.finished + 1).min().map(super::utc);
    Ok(Repository { status, backups, wal, archive_id, earliest_restorable, latest_restorable: None })
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
    fn recovery_targets() {
        let plan = Plan {
            set: "S".into(),
            database_bytes: 1,
            timeline: Some(2),
            history: true,
            end_segment: Some("000000020000000000000009".into()),
            why: String::new(),
        };
        let time = Target::Time { at: "2026-11-26 21:00:00.000000+00".into(), unix: 1_795_726_800 };
        let at = recover_command(&time, &plan, Purpose::Restore, "/var/lib/postgresql/data");
        assert_eq!(
            &at[3..9],
            [
                "pgs-recover",
                "time",
                "/var/lib/postgresql/data",
                "000000020000000000000009",
                "2026-11-26 21:00:00.000000+00",
                "restore"
            ]
        );
        for option in [
            "--set=S",
            "--type=time",
            "--target=2026-11-26 21:00:00.000000+00",
            "--target-action=promote",
            "--target-timeline=2",
        ] {
            assert!(at.contains(&option.to_string()), "{option}: {at:?}");
        }
        assert!(at[2].contains("archive-push") && !at[2].contains(CLONE_SQL));
        let drill = recover_command(&time, &plan, Purpose::Drill, "/d");
        assert!(drill.contains(&"--target-action=pause".to_string()) && drill.contains(&"--job-retry=0".to_string()));
        assert!(drill[2].contains("pg_amcheck"));
        let latest = recover_command(&Target::Latest, &plan, Purpose::Clone, "/d");
        assert_eq!(latest[4], "latest");
        assert!(latest[2].contains(CLONE_SQL) && !latest.iter().any(|a| a.starts_with("--type")));
        let backup = recover_command(&Target::Backup("L".into()), &plan, Purpose::Clone, "/d");
        assert!(backup.contains(&"--type=immediate".to_string()));
        // A timeline without a history file in the archive is the backup's own.
        let own = recover_command(&Target::Latest, &Plan { history: false, ..plan }, Purpose::Drill, "/d");
        assert!(own.contains(&"--target-timeline=current".to_string()), "{own:?}");
    }

    #[test]
    fn recovery_reports() {
        let out = "pgs-restored: 100\ndrill: restored\npgs-event: nothing was committed after T\n\
                   pgs-fatal: recovery ended in WAL segment 05, before 09\npgs-log:\nLOG: a\nFATAL: b\n";
        let r = Report::read(out);
        assert_eq!(r.steps, ["restored"]);
        assert_eq!(r.events.len(), 1);
        assert_eq!(r.failure(6).as_deref(), Some("recovery ended in WAL segment 05, before 09"));
        assert!(r.failure(3).unwrap().starts_with("PostgreSQL stopped while recovering"));
        assert_eq!(r.failure(0), None);
        assert_eq!(r.log, "LOG: a\nFATAL: b\n");
        assert_eq!(progress("pgs-restored: 42"), Some(Progress::Restored(42)));
        assert_eq!(progress("pgs-replayed: 0/5000000"), Some(Progress::Replayed(Lsn(0x500_0000))));
        assert_eq!(progress("pgs-replayed: "), None);
    }

    #[test]
    fn survey_sections() {
        let out = "[{\"archive\":[{\"id\":\"15-1\",\"min\":\"000000010000000000000001\",\"max\":\"000000020000000000000003\"}],\
                   \"backup\":[],\"name\":\"pgs\",\"status\":{\"code\":0,\"message\":\"ok\"}}]\n\
                   --pgs-archive--\n{\"15-1/00000002.history\":{\"type\":\"file\",\"size\":1,\"time\":7}}\n\
                   --pgs-history 00000002.history\n1\t0/3000000\tno recovery target specified\n";
        let (repo, archive) = parse_survey(out).unwrap();
        assert_eq!(repo.archive_id.as_deref(), Some("15-1"));
        assert_eq!(archive.timelines[&2].began, Some(7));
        assert_eq!(archive.timelines[&2].ancestors, vec![(1, Lsn(0x300_0000))]);
        assert!(parse_survey("nothing").is_err());
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
