//! The state dir: the only thing the CLI and the gateway share.
//!
//! Layout (dir mode 0700):
//! - `config.json`: platform settings ([`Config`]).
//! - `tenants.json`: every tenant and its access flags ([`Tenants`]).
//! - `routes.json`: what the gateway reads, derived from the two above ([`Routes`]).
//! - `secrets/TENANT.json`: passwords, mode 0600 ([`Secrets`]).
//! - `backup-secrets.json`: an S3 backup repository's keys and encryption passphrase, mode 0600.
//! - `sockets/TENANT/`: the tenant's PostgreSQL socket dir, mounted into its container only; the
//!   state dir's mode keeps everyone but its owner (and the gateway) out.
//! - `init/TENANT/`: the script that makes a new tenant's role and database (emptied once ready).
//! - `certs/`: the gateway's certificate and key, and the local CA's ([`CertFiles`]).
//! - `peer.key`: what the installation's gateways prove to each other with (0600).
//! - `run/`: `control.sock` (the controller's), `controller.lock` (held by the acting
//!   controller), `gateway/` (the gateways' control sockets for handover and cancels).
//! - `ha.json`: who is primary for each HA tenant, written by the node's agent ([`HaView`]).
//! - `suspended.json` (a node's dir only): the node's tenants its controller suspended
//!   ([`Suspensions`]).
//! - `lock`: taken (flock) by every writer, so parallel `pgs` invocations serialise.
//!
//! Every path is built in one place ([`paths`]).
//!
//! Every file is written atomically ([`atomic`]); readers never need the lock.

pub mod atomic;
pub mod model;
pub mod paths;
pub mod settings;
mod tenant_id;
pub mod units;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use model::*;
pub use paths::*;
pub use tenant_id::{InvalidTenantId, RULE as TENANT_ID_RULE, TenantId};

/// Errors reading or writing the state dir.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// `pgs setup` has not been run for this dir.
    #[error("pgs is not set up in {0}: run `pgs setup` first (or pass --home / PGS_HOME)")]
    NotSetUp(PathBuf),
    /// A file could not be read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A file exists but is not valid JSON of the expected shape.
    #[error("{path} is damaged ({source}); restore it from a backup or fix it by hand")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A file was written by a newer pgs.
    #[error("{path} has schema version {found}, newer than this pgs understands ({SCHEMA_VERSION}); upgrade pgs")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
}

type Result<T, E = StateError> = std::result::Result<T, E>;

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io { path: path.to_path_buf(), source }
}

/// Proof that the caller holds the state dir's lock; released on drop.
pub struct StateLock {
    _file: File,
}

/// A state dir on disk.
#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// The state dir at `root` (it need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The default location for this user, from the `directories` crate.
    pub fn default_root() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "pgs").map(|d| d.data_dir().to_path_buf())
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates a tenant's socket dir and returns its absolute path. It is writable by the container's `postgres` user (whatever its
    /// uid): the state dir above it (0700) is what keeps others out.
    pub fn create_socket_dir(&self, id: &TenantId) -> Result<PathBuf> {
        let dir = self.socket_dir_path(id);
        fs::DirBuilder::new().recursive(true).mode(0o711).create(&dir).map_err(io_err(&dir))?;
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).map_err(io_err(&dir))?;
        fs::canonicalize(&dir).map_err(io_err(&dir))
    }

    /// Removes a tenant's socket dir (what PostgreSQL left in it included) and init dir.
    pub fn remove_host_dirs(&self, id: &TenantId) -> Result<()> {
        for dir in [self.socket_dir_path(id), self.init_dir_path(id)] {
            match fs::remove_dir_all(&dir) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(io_err(&dir)(e)),
                _ => {}
            }
        }
        Ok(())
    }

    /// Writes file `name` of a tenant's init dir ([`init_dir`]) and returns its absolute path.
    /// The file is readable by the container's `postgres` user; the state dir (0700) and
    /// `init/` (0700) keep others out.
    pub fn write_init_file(&self, id: &TenantId, name: &str, content: &str) -> Result<PathBuf> {
        let parent = self.root.join("init");
        fs::DirBuilder::new().recursive(true).mode(0o700).create(&parent).map_err(io_err(&parent))?;
        let dir = self.init_dir_path(id);
        fs::DirBuilder::new().recursive(true).mode(0o755).create(&dir).map_err(io_err(&dir))?;
        let path = dir.join(name);
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&path)
            .map_err(io_err(&path))?;
        io::Write::write_all(&mut f, content.as_bytes()).map_err(io_err(&path))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).map_err(io_err(&path))?;
        fs::canonicalize(&path).map_err(io_err(&path))
    }

    /// Empties file `name` of a tenant's init dir in place (it stays, as the bind mount of the
    /// tenant's container needs it), so that what it held is kept no longer than needed.
    pub fn clear_init_file(&self, id: &TenantId, name: &str) -> Result<()> {
        let path = self.init_dir_path(id).join(name);
        match fs::OpenOptions::new().write(true).truncate(true).open(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&path)(e)),
            _ => Ok(()),
        }
    }

    /// Creates the dir (0700) and its `secrets/` subdir if missing.
    pub fn create(&self) -> Result<()> {
        for dir in [self.root.clone(), self.secrets_dir()] {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).map_err(io_err(&dir))?;
            fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).map_err(io_err(&dir))?;
        }
        Ok(())
    }

    /// Takes the exclusive lock, waiting for other `pgs` processes to release it.
    pub fn lock(&self) -> Result<StateLock> {
        let path = self.lock_path();
        if !self.root.exists() {
            return Err(StateError::NotSetUp(self.root.clone()));
        }
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io_err(&path))?;
        file.lock().map_err(io_err(&path))?;
        Ok(StateLock { _file: file })
    }

    fn read<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<Option<T>> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(path)(e)),
        };
        #[derive(serde::Deserialize)]
        struct Version {
            schema_version: u32,
        }
        let corrupt = |source| StateError::Corrupt { path: path.to_path_buf(), source };
        let version: Version = serde_json::from_slice(&bytes).map_err(corrupt)?;
        if version.schema_version > SCHEMA_VERSION {
            return Err(StateError::TooNew { path: path.to_path_buf(), found: version.schema_version });
        }
        serde_json::from_slice(&bytes).map(Some).map_err(corrupt)
    }

    fn write<T: serde::Serialize>(&self, _lock: &StateLock, path: &Path, value: &T, mode: u32) -> Result<()> {
        atomic::write_json(path, value, mode).map_err(io_err(path))
    }

    /// The config, or `None` before `pgs setup`.
    pub fn config_opt(&self) -> Result<Option<Config>> {
        self.read(&self.config_path())
    }

    /// The config; an error telling the user to run `pgs setup` if there is none.
    pub fn config(&self) -> Result<Config> {
        self.config_opt()?.ok_or_else(|| StateError::NotSetUp(self.root.clone()))
    }

    /// Writes the config and regenerates `routes.json` (the domain and port live in both).
    pub fn save_config(&self, lock: &StateLock, config: &Config) -> Result<()> {
        self.write(lock, &self.config_path(), config, 0o600)?;
        let tenants = self.tenants()?;
        self.write_routes(lock, config, &tenants)
    }

    /// All tenants (empty before the first `create`).
    pub fn tenants(&self) -> Result<Tenants> {
        Ok(self.read(&self.tenants_path())?.unwrap_or_default())
    }

    /// The current route data, if any has been written.
    pub fn routes(&self) -> Result<Option<Routes>> {
        self.read(&self.routes_path())
    }

    fn write_routes(&self, lock: &StateLock, config: &Config, tenants: &Tenants) -> Result<()> {
        let generation = self.routes().ok().flatten().map_or(0, |r| r.generation) + 1;
        let routes = Routes::build(config, tenants, generation);
        // Readable by a gateway running as another user; it holds no secrets.
        self.write(lock, &self.routes_path(), &routes, 0o644)
    }

    /// Locks the dir, loads config and tenants, lets `f` change the tenants, and saves
    /// `tenants.json` and `routes.json` if `f` succeeds. Returns what `f` returns.
    pub fn update<T, E>(&self, f: impl FnOnce(&Config, &mut Tenants, &StateLock) -> Result<T, E>) -> Result<T, E>
    where
        E: From<StateError>,
    {
        let lock = self.lock()?;
        let config = self.config()?;
        let mut tenants = self.tenants()?;
        let out = f(&config, &mut tenants, &lock)?;
        self.write(&lock, &self.tenants_path(), &tenants, 0o600)?;
        self.write_routes(&lock, &config, &tenants)?;
        Ok(out)
    }

    /// The S3 repository's keys and encryption passphrase, if stored.
    pub fn backup_secrets(&self) -> Result<Option<BackupSecrets>> {
        self.read(&self.backup_secrets_path())
    }

    /// Stores the S3 repository's keys and passphrase (mode 0600).
    pub fn save_backup_secrets(&self, lock: &StateLock, secrets: &BackupSecrets) -> Result<()> {
        self.write(lock, &self.backup_secrets_path(), secrets, 0o600)
    }

    /// The HTTP API's tokens (none before the first `pgs token create`).
    pub fn api_tokens(&self) -> Result<ApiTokens> {
        Ok(self
            .read(&self.api_tokens_path())?
            .unwrap_or(ApiTokens { schema_version: SCHEMA_VERSION, ..Default::default() }))
    }

    /// Stores the HTTP API's tokens (mode 0600).
    pub fn save_api_tokens(&self, lock: &StateLock, tokens: &ApiTokens) -> Result<()> {
        self.write(lock, &self.api_tokens_path(), tokens, 0o600)
    }

    /// One tenant's secrets, if stored.
    pub fn secrets(&self, id: &TenantId) -> Result<Option<Secrets>> {
        self.read(&self.secrets_path(id))
    }

    /// Stores one tenant's secrets (mode 0600).
    pub fn save_secrets(&self, lock: &StateLock, id: &TenantId, secrets: &Secrets) -> Result<()> {
        self.write(lock, &self.secrets_path(id), secrets, 0o600)
    }

    /// The installation's peer key: what its gateways prove to each other with when one relays
    /// a client to another (docs/scale-out.md). Made (random, mode 0600) the first time it is
    /// asked for; other nodes get a copy with their files.
    pub fn peer_key(&self) -> Result<String> {
        let path = self.peer_key_path();
        let read = |path: &Path| match fs::read_to_string(path) {
            Ok(key) if !key.trim().is_empty() => Ok(Some(key.trim().to_string())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(path)(e)),
        };
        if let Some(key) = read(&path)? {
            return Ok(key);
        }
        let _lock = self.lock()?;
        if let Some(key) = read(&path)? {
            return Ok(key);
        }
        use rand::Rng;
        let key: String = rand::rng().sample_iter(&rand::distr::Alphanumeric).take(43).map(char::from).collect();
        atomic::write(&path, key.as_bytes(), 0o600).map_err(io_err(&path))?;
        Ok(key)
    }

    /// Who is primary for each HA tenant, as this node's agent last wrote it (empty if it has
    /// not: no HA tenant here, or no agent yet). Unreadable is empty too: the agent rewrites it
    /// within a second.
    pub fn ha_view(&self) -> HaView {
        fs::read(self.ha_view_path()).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes `ha.json` (the agent, its only writer; readable by the gateway).
    pub fn save_ha_view(&self, view: &HaView) -> Result<()> {
        let path = self.ha_view_path();
        atomic::write_json(&path, view, 0o644).map_err(io_err(&path))
    }

    /// The tenants this node's controller suspended (`suspended.json`; none on the manager,
    /// which records them in `tenants.json`). Unreadable is none: a gateway then dials, and a
    /// failed dial of a tenant with a suspend policy asks for a wake all the same.
    pub fn suspensions(&self) -> Suspensions {
        fs::read(self.suspensions_path()).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes `suspended.json` (a node's controller, its only writer, under the dir's lock).
    pub fn save_suspensions(&self, _lock: &StateLock, marks: &Suspensions) -> Result<()> {
        let path = self.suspensions_path();
        atomic::write_json(&path, marks, 0o644).map_err(io_err(&path))
    }

    /// Deletes one tenant's secrets.
    pub fn remove_secrets(&self, _lock: &StateLock, id: &TenantId) -> Result<()> {
        let path = self.secrets_path(id);
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_err(&path)(e)),
            _ => Ok(()),
        }
    }
}
