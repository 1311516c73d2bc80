//! Making a copy follow the primary: in a one-off container without network, on the copy's
//! node, with the copy's volume and socket dir. Through the relay socket in that dir the
//! one-off reaches the primary on its node. It rewinds the copy (`pg_rewind`: the copy was a
//! primary that the new one diverged from; HA tenants run with `wal_log_hints`) or, when that
//! is impossible or asked for, replaces it with a fresh base backup; then it leaves the copy
//! configured as a standby (`standby.signal`, `primary_conninfo` to the relay socket).

use std::time::Duration;

use crate::docker::Docker;
use crate::docker::run::OneOff;
use crate::state::CONTAINER_SOCKET_DIR;

/// How long a copy may take (a fresh base backup of a large tenant takes longest).
pub const COPY_TIMEOUT: Duration = Duration::from_secs(3600);

/// The exit code of a copy whose primary could not be reached.
pub const UNREACHABLE: i64 = 4;

/// What to copy, and from where.
#[derive(Debug, Clone)]
pub struct CopySpec {
    /// Tenant id.
    pub tenant: String,
    /// Installation id (labels).
    pub instance: String,
    /// An image with the PostgreSQL server binaries (the tenant's).
    pub image: String,
    /// The copy's data volume and where it is mounted.
    pub volume: String,
    /// Mount point of the volume.
    pub data_mount: String,
    /// The data directory inside.
    pub pgdata: String,
    /// Host path of the copy's socket dir on its node.
    pub socket_dir: String,
    /// The copy's node: its `application_name` on the primary.
    pub node: String,
    /// The superuser's password.
    pub password: String,
    /// Replace the copy with a fresh base backup rather than rewinding it.
    pub fresh: bool,
}

/// The script the one-off runs (`sh -c`), from its environment.
const SCRIPT: &str = r#"
set -eu
relay="host=/var/run/postgresql port=6432 user=postgres dbname=postgres"
i=0
until pg_isready -q -h /var/run/postgresql -p 6432; do
  i=$((i+1)); [ $i -lt 50 ] || { echo "the primary cannot be reached through the relay" >&2; exit 4; }
  sleep 0.2
done
fresh="$FRESH"
if [ "$fresh" != 1 ] && [ -f "$PGDATA/PG_VERSION" ]; then
  rm -f "$PGDATA/standby.signal" "$PGDATA/recovery.signal"
  if ! pg_controldata "$PGDATA" | grep -q "state:.*shut down"; then
    echo "crash recovery before the rewind"
    postgres --single -D "$PGDATA" postgres </dev/null >/dev/null 2>&1 || true
  fi
  if pg_rewind --target-pgdata="$PGDATA" --source-server="$relay" 2>&1; then
    echo "rewound"
  else
    echo "pg_rewind failed: making a fresh copy"; fresh=1
  fi
else
  fresh=1
fi
if [ "$fresh" = 1 ]; then
  mkdir -p "$PGDATA"
  find "$PGDATA" -mindepth 1 -delete
  pg_basebackup -D "$PGDATA" -d "$relay" -X stream -c fast
  echo "copied"
fi
chmod 700 "$PGDATA"
touch "$PGDATA/standby.signal"
conf="$PGDATA/postgresql.auto.conf"
touch "$conf"
sed -i '/^primary_conninfo/d;/^primary_slot_name/d' "$conf"
echo "primary_conninfo = '$relay application_name=$NODE password=$PGPASSWORD'" >> "$conf"
"#;

/// Runs the copy on `docker` (the copy's node). Returns what it printed; an error says why
/// it failed ([`UNREACHABLE`] when the primary could not be reached).
pub async fn run(docker: &Docker, spec: &CopySpec) -> Result<String, CopyError> {
    let one_off = OneOff {
        name: format!("pgs-{}-copy", spec.tenant),
        image: spec.image.clone(),
        command: vec!["sh".into(), "-c".into(), SCRIPT.into()],
        user: Some("postgres".into()),
        env: vec![
            format!("PGDATA={}", spec.pgdata),
            format!("PGPASSWORD={}", spec.password),
            format!("NODE={}", spec.node),
            format!("FRESH={}", u8::from(spec.fresh)),
        ],
        volumes: vec![(spec.volume.clone(), spec.data_mount.clone())],
        labels: crate::docker::tenant::labels(&spec.instance, &spec.tenant),
        binds: vec![format!("{}:{CONTAINER_SOCKET_DIR}", spec.socket_dir)],
        ..Default::default()
    };
    let out = docker.run_once(&one_off, COPY_TIMEOUT).await.map_err(CopyError::Docker)?;
    match out.code {
        0 => Ok(out.tail(5)),
        UNREACHABLE => Err(CopyError::Unreachable),
        code => Err(CopyError::Failed { code, output: out.tail(10) }),
    }
}

/// Why a copy failed.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The copy's engine failed.
    #[error(transparent)]
    Docker(crate::docker::DockerError),
    /// The primary could not be reached through the relay.
    #[error("the primary cannot be reached through the relay")]
    Unreachable,
    /// The rewind and the base backup failed.
    #[error("the copy failed (exit {code}): {output}")]
    Failed {
        /// Exit code.
        code: i64,
        /// Its last lines.
        output: String,
    },
}
