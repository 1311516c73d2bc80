//! Every path in the state dir, in one place: the layout in [`super`]'s doc, as names
//! (relative to the state dir, for mounts into containers) and as [`StateDir`] methods.

use std::path::{Path, PathBuf};

use super::{StateDir, TenantId};

/// `config.json`: the platform's settings.
pub const CONFIG: &str = "config.json";
/// `tenants.json`: every tenant.
pub const TENANTS: &str = "tenants.json";
/// `ha.json`: who is primary for each HA tenant, written by the node's agent ([`super::HaView`]).
pub const HA_VIEW: &str = "ha.json";
/// `suspended.json` in a node's dir: the node's tenants its controller suspended
/// ([`super::Suspensions`]; the manager records its own tenants' in `tenants.json`).
pub const SUSPENSIONS: &str = "suspended.json";
/// `routes.json`: what the gateway reads.
pub const ROUTES: &str = "routes.json";
/// `backup-secrets.json`: an S3 repository's keys and passphrase (0600).
pub const BACKUP_SECRETS: &str = "backup-secrets.json";
/// The HTTP API's tokens, hashed (mode 0600).
pub const API_TOKENS: &str = "api-tokens.json";
/// `secrets/`: one file per tenant (0600).
pub const SECRETS_DIR: &str = "secrets";
/// `lock`: taken by every writer.
pub const LOCK: &str = "lock";
/// `certs/`: the gateway's certificate and key, and the local CA ([`CertFiles`]).
pub const CERTS_DIR: &str = "certs";
/// The certificate chain the gateway presents, in `certs/`.
pub const CERT_FILE: &str = "cert.pem";
/// Its private key, in `certs/`.
pub const KEY_FILE: &str = "key.pem";
/// `sockets/`: the tenants' socket dirs.
pub const SOCKETS_DIR: &str = "sockets";
/// `run/`: sockets and locks of running processes.
pub const RUN_DIR: &str = "run";
/// The gateways' control sockets' folder (listener handover, cancels between generations),
/// writable by the managed gateway.
pub const HANDOVER_DIR: &str = "run/gateway";
/// The controller's control socket (wake requests, activity reports).
pub const CONTROL_SOCKET: &str = "run/control.sock";
/// The lock the acting controller holds.
pub const CONTROLLER_LOCK: &str = "run/controller.lock";

/// File name of the installation's peer key in a state dir ([`crate::state::StateDir::peer_key`]).
pub const PEER_KEY: &str = "peer.key";

/// File name of PostgreSQL's socket for port 5432 in its socket directory.
pub const POSTGRES_SOCKET: &str = ".s.PGSQL.5432";

/// Where PostgreSQL images put their Unix socket (the official and Debian's alike).
pub const CONTAINER_SOCKET_DIR: &str = "/var/run/postgresql";

/// A tenant's socket directory, relative to the state dir: bind-mounted at
/// [`CONTAINER_SOCKET_DIR`] in the tenant's container, so the gateway can dial its socket.
pub fn socket_dir(id: &TenantId) -> String {
    format!("{SOCKETS_DIR}/{id}")
}

/// A tenant's secrets file, relative to the state dir.
pub fn secrets_file(id: &TenantId) -> String {
    format!("{SECRETS_DIR}/{id}.json")
}

/// A tenant's PostgreSQL socket, relative to the state dir (what the routes name).
pub fn socket_path(id: &TenantId) -> String {
    format!("{}/{POSTGRES_SOCKET}", socket_dir(id))
}

/// A tenant's init dir, relative to the state dir: it holds the script that makes the tenant's
/// role and database in a new data dir, bind-mounted (as one file) into the image's
/// `/docker-entrypoint-initdb.d`. Emptied once the tenant is ready.
pub fn init_dir(id: &TenantId) -> String {
    format!("init/{id}")
}

impl StateDir {
    /// Path of `config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.root().join(CONFIG)
    }

    /// Path of `tenants.json`.
    pub fn tenants_path(&self) -> PathBuf {
        self.root().join(TENANTS)
    }

    /// Path of `routes.json`, the file the gateway watches.
    pub fn routes_path(&self) -> PathBuf {
        self.root().join(ROUTES)
    }

    /// Path of `backup-secrets.json`.
    pub fn backup_secrets_path(&self) -> PathBuf {
        self.root().join(BACKUP_SECRETS)
    }

    /// `ha.json` ([`HA_VIEW`]).
    pub fn ha_view_path(&self) -> PathBuf {
        self.root.join(HA_VIEW)
    }

    /// `suspended.json` ([`SUSPENSIONS`]).
    pub fn suspensions_path(&self) -> PathBuf {
        self.root.join(SUSPENSIONS)
    }

    /// The folder of the tenants' secrets files.
    pub fn secrets_dir(&self) -> PathBuf {
        self.root().join(SECRETS_DIR)
    }

    /// Path of one tenant's secrets file.
    pub fn secrets_path(&self, id: &TenantId) -> PathBuf {
        self.root().join(secrets_file(id))
    }

    /// Path of the writers' lock.
    pub fn lock_path(&self) -> PathBuf {
        self.root().join(LOCK)
    }

    /// Host path of a tenant's socket dir ([`socket_dir`]).
    pub fn socket_dir_path(&self, id: &TenantId) -> PathBuf {
        self.root().join(socket_dir(id))
    }

    /// Host path of a tenant's PostgreSQL socket.
    pub fn tenant_socket(&self, id: &TenantId) -> PathBuf {
        self.root().join(socket_path(id))
    }

    /// Host path of a tenant's init dir ([`init_dir`]).
    pub fn init_dir_path(&self, id: &TenantId) -> PathBuf {
        self.root().join(init_dir(id))
    }

    /// Path of `api-tokens.json` ([`API_TOKENS`]).
    pub fn api_tokens_path(&self) -> PathBuf {
        self.root().join(API_TOKENS)
    }

    /// Path of the peer key ([`StateDir::peer_key`]).
    pub fn peer_key_path(&self) -> PathBuf {
        self.root().join(PEER_KEY)
    }

    /// The certificate files.
    pub fn cert_files(&self) -> CertFiles {
        CertFiles::new(self.root())
    }

    /// `run/`.
    pub fn run_dir(&self) -> PathBuf {
        self.root().join(RUN_DIR)
    }

    /// The gateways' control sockets' folder ([`HANDOVER_DIR`]).
    pub fn handover_dir(&self) -> PathBuf {
        self.root().join(HANDOVER_DIR)
    }

    /// The controller's control socket ([`CONTROL_SOCKET`]).
    pub fn control_socket(&self) -> PathBuf {
        self.root().join(CONTROL_SOCKET)
    }

    /// The lock the acting controller holds ([`CONTROLLER_LOCK`]).
    pub fn controller_lock(&self) -> PathBuf {
        self.root().join(CONTROLLER_LOCK)
    }
}

/// The certificate files in the state dir's `certs/` folder.
#[derive(Debug, Clone)]
pub struct CertFiles {
    dir: PathBuf,
}

impl CertFiles {
    /// The files of the state dir at `root` ([`StateDir::cert_files`]).
    pub fn new(root: &Path) -> Self {
        Self { dir: root.join(CERTS_DIR) }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Creates the folder (mode 0700) if it is missing.
    pub fn create_dir(&self) -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&self.dir)
    }

    /// Certificate chain the gateway presents (PEM, leaf first).
    pub fn cert(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    /// Private key of the certificate (PEM, mode 0600).
    pub fn key(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    /// Root a client should trust, where pgs made it (local CA).
    pub fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Private key of the local CA (mode 0600).
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca-key.pem")
    }
}

/// Identity of a file version: modification time, length, inode and change time. The change
/// time is the kernel's (nanoseconds, set on every write): files pushed to a node through
/// Docker's archive API keep the archive's whole-second modification time and may keep their
/// inode, so two pushes within one second differ only in it.
pub type FileStamp = Option<(std::time::SystemTime, u64, u64, i128)>;

/// The current identity of the file at `path` (none if it cannot be read).
pub fn file_stamp(path: &Path) -> FileStamp {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| {
        let ctime = i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec());
        (m.modified().unwrap_or(std::time::UNIX_EPOCH), m.len(), m.ino(), ctime)
    })
}

#[cfg(test)]
mod stamp_tests {
    use super::file_stamp;

    #[test]
    fn a_rewrite_in_place_with_the_same_length_and_mtime_changes_the_stamp() {
        // What Docker's archive upload does to a pushed file within one second.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cert.pem");
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let write = |content: &[u8]| {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&path).unwrap();
            f.write_all(content).unwrap();
            f.set_modified(mtime).unwrap();
        };
        write(b"old!");
        let before = file_stamp(&path);
        std::thread::sleep(std::time::Duration::from_millis(20));
        write(b"new!");
        let after = file_stamp(&path);
        assert!(before.is_some() && before != after, "{before:?} {after:?}");
        assert_eq!(before.map(|s| (s.0, s.1, s.2)), after.map(|s| (s.0, s.1, s.2)));
    }
}
