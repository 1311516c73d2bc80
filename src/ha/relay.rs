//! The replication relay: how a standby's walreceiver reaches its primary on another node,
//! although tenant containers have no network.
//!
//! On the standby's node the agent listens on a Unix socket in the tenant's socket dir
//! ([`RELAY_SOCKET`], so `host=/var/run/postgresql port=6432` inside the container reaches it)
//! and relays each connection over TLS to the relay port of the node where the tenant's primary
//! is now ([`Outbound`], [`Targets`]). On the primary's node the agent accepts those TLS
//! connections, reads a hello naming the tenant and carrying the installation's peer key, and
//! relays to the tenant's own socket ([`serve_inbound`]). Every node serves the installation's
//! certificate, so the dialing side accepts only the certificate whose `tls-server-end-point`
//! hash is the pinned one ([`crate::certs::pinned`]).
//!
//! The hello is one line, `PGS-RELAY/1 <tenant> <peer key>\n`, inside TLS. A connection that
//! cannot be relayed is closed: the walreceiver retries.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::state::TenantId;

/// The Unix socket name a standby's primary_conninfo points at (port 6432 in its socket dir).
pub const RELAY_SOCKET: &str = ".s.PGSQL.6432";

/// The port of [`RELAY_SOCKET`], for the standby's `primary_conninfo`
/// (`host=/var/run/postgresql port=6432`).
pub const RELAY_SOCKET_PORT: u16 = 6432;

/// Where each HA tenant's primary is now, as this node's agent knows it: tenant id -> "IP:PORT"
/// of that node's relay port. Swapped whole by the agent.
pub type Targets = Arc<ArcSwap<BTreeMap<String, String>>>;

/// The first word of the hello: the relay protocol and its version.
const HELLO_TAG: &[u8] = b"PGS-RELAY/1";
/// The longest hello accepted, its newline included.
const HELLO_MAX: u64 = 512;
/// How long the TLS handshake and the hello may take on the accepting side.
const HELLO_TIMEOUT: Duration = Duration::from_secs(3);
/// How long the TCP connect and the TLS handshake may take on the dialing side.
const DIAL_TIMEOUT: Duration = Duration::from_secs(3);
/// TCP keepalive: first probe after this much idle time…
const KEEPALIVE_IDLE: Duration = Duration::from_secs(5);
/// …then one probe every…
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);
/// …and the peer is dead after this many unanswered probes.
const KEEPALIVE_PROBES: u32 = 3;
/// How long to wait after a failed accept (out of file descriptors, say) before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(200);

/// Accepts relay connections from other nodes' agents on `listener` for the tenants whose
/// sockets are under `root` (the state dir or node dir); `tls` is swapped when the certificate
/// changes; `key` is the installation's peer key. Runs until the task is dropped, and the
/// connections it relays end with it.
///
/// Each connection must complete the TLS handshake and send its hello (at most 512 bytes)
/// within 3 s; a hello that is malformed, names an invalid tenant id or carries another key, or
/// a tenant without a socket here, closes the connection after a warning (the key is never
/// logged).
pub async fn serve_inbound(
    listener: TcpListener,
    tls: Arc<ArcSwap<rustls::ServerConfig>>,
    root: PathBuf,
    key: Arc<Vec<u8>>,
) {
    let root = Arc::new(root);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, from)) => {
                    connections.spawn(inbound(tcp, from, tls.load_full(), root.clone(), key.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "relay: accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One connection from another node's agent: TLS, hello, then the tenant's socket.
async fn inbound(
    tcp: TcpStream,
    from: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    root: Arc<PathBuf>,
    key: Arc<Vec<u8>>,
) {
    if let Err(e) = tune(&tcp) {
        tracing::debug!(%from, error = %e, "relay: cannot set TCP options");
    }
    let handshake = async {
        let tls = tokio_rustls::TlsAcceptor::from(config).accept(tcp).await?;
        let mut reader = BufReader::new(tls);
        let mut line = Vec::new();
        (&mut reader).take(HELLO_MAX).read_until(b'\n', &mut line).await?;
        io::Result::Ok((reader, line))
    };
    let (mut remote, line) = match tokio::time::timeout(HELLO_TIMEOUT, handshake).await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => {
            tracing::warn!(%from, error = %e, "relay: TLS handshake or hello failed");
            return;
        }
        Err(_) => {
            tracing::warn!(%from, "relay: no TLS handshake and hello in time");
            return;
        }
    };
    let tenant = match check_hello(&line, &key) {
        Ok(tenant) => tenant,
        Err(why) => {
            tracing::warn!(%from, "relay: refused: {why}");
            return;
        }
    };
    let socket = root.join(crate::state::socket_path(&tenant));
    let mut local = match UnixStream::connect(&socket).await {
        Ok(local) => local,
        Err(e) => {
            tracing::warn!(%from, %tenant, error = %e, "relay: cannot reach the tenant's PostgreSQL here");
            return;
        }
    };
    tracing::debug!(%from, %tenant, "relay: inbound connection");
    match tokio::io::copy_bidirectional(&mut remote, &mut local).await {
        Ok((sent, received)) => tracing::debug!(%from, %tenant, sent, received, "relay: inbound connection ended"),
        Err(e) => tracing::debug!(%from, %tenant, error = %e, "relay: inbound connection broke"),
    }
}

/// Checks a hello line (with its newline) against the installation's peer key `expected`;
/// returns the tenant it names. The reasons never quote the key.
fn check_hello(line: &[u8], expected: &[u8]) -> Result<TenantId, String> {
    let Some(line) = line.strip_suffix(b"\n") else {
        return Err("hello too long or cut short".into());
    };
    let mut words = line.split(|b| *b == b' ');
    let (Some(tag), Some(tenant), Some(key), None) = (words.next(), words.next(), words.next(), words.next()) else {
        return Err("not a relay hello".into());
    };
    if tag != HELLO_TAG {
        return Err("not a relay hello".into());
    }
    if expected.is_empty() || !same_key(key, expected) {
        return Err("hello from an agent of another installation (wrong peer key)".into());
    }
    let tenant = std::str::from_utf8(tenant).map_err(|_| "a tenant id that is not UTF-8".to_string())?;
    TenantId::parse(tenant).map_err(|e| e.to_string())
}

/// Compares two keys in time that depends on their lengths only.
fn same_key(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// TCP_NODELAY, and keepalive (with a matching user timeout) so that a dead peer is noticed
/// in about 11 s whether the connection is idle or not.
fn tune(tcp: &TcpStream) -> io::Result<()> {
    tcp.set_nodelay(true)?;
    let socket = socket2::SockRef::from(tcp);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE_IDLE)
        .with_interval(KEEPALIVE_INTERVAL)
        .with_retries(KEEPALIVE_PROBES);
    socket.set_tcp_keepalive(&keepalive)?;
    socket.set_tcp_user_timeout(Some(KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_PROBES))
}

/// What the standby side's listeners and connections share.
struct Shared {
    targets: Targets,
    pinned: Arc<ArcSwap<Vec<u8>>>,
    key: Arc<Vec<u8>>,
    /// The client config while the certificate stays the same (its connections resume TLS
    /// sessions).
    configs: crate::certs::pinned::ClientConfigs,
}

/// One tenant's relay socket.
struct Listening {
    path: PathBuf,
    /// Accepts and relays; aborting it ends its connections too.
    task: JoinHandle<()>,
    /// The tenant's target as of the last [`Outbound::sync`]: a connection to another target
    /// ends when it changes (the primary moved).
    target: watch::Sender<String>,
}

/// The standby side: keeps one Unix listener per tenant in `targets` (made when a tenant
/// appears, removed with its socket file when it disappears; socket mode 0777 so the
/// container's postgres user can connect), and relays each connection to the tenant's current
/// target, pinned to `pinned` (the end-point hash of the installation's certificate, swapped on
/// renewal), sending the hello with `key`. [`Outbound::sync`] reconciles listeners with
/// targets; call it after every change of targets. When a tenant's target changes, its relayed
/// connections to the old one are closed (the walreceiver reconnects to the new one). Dropping
/// it closes every listener and connection and removes the socket files.
pub struct Outbound {
    root: PathBuf,
    shared: Arc<Shared>,
    listeners: Mutex<BTreeMap<String, Listening>>,
}

impl Outbound {
    /// The standby side for the tenants' socket dirs under `root` (the state dir or node
    /// dir). Listens nowhere until [`Outbound::sync`].
    pub fn new(root: PathBuf, targets: Targets, pinned: Arc<ArcSwap<Vec<u8>>>, key: Arc<Vec<u8>>) -> Self {
        Self {
            root,
            shared: Arc::new(Shared {
                targets,
                pinned,
                key,
                configs: crate::certs::pinned::ClientConfigs::new(Vec::new()),
            }),
            listeners: Mutex::new(BTreeMap::new()),
        }
    }

    /// Reconciles the listeners with the targets (needs a tokio runtime): binds a socket for
    /// each new tenant (removing a stale socket file first, making the socket dir if missing),
    /// closes and removes those of tenants gone, and binds again one whose socket file
    /// vanished. A socket that cannot be bound is logged and tried again on the next call.
    pub fn sync(&self) {
        let targets = self.shared.targets.load();
        let mut listeners = self.listeners.lock().unwrap_or_else(|e| e.into_inner());
        listeners.retain(|tenant, listening| {
            let keep = targets.contains_key(tenant)
                && !listening.task.is_finished()
                && std::fs::symlink_metadata(&listening.path).is_ok();
            if !keep {
                close(listening);
                tracing::info!(%tenant, "relay: stopped listening for the tenant's standby");
            }
            keep
        });
        for (tenant, target) in targets.iter() {
            if let Some(listening) = listeners.get(tenant) {
                listening.target.send_if_modified(|current| {
                    let moved = current != target;
                    if moved {
                        current.clone_from(target);
                    }
                    moved
                });
                continue;
            }
            let id = match TenantId::parse(tenant) {
                Ok(id) => id,
                Err(e) => {
                    tracing::warn!(error = %e, "relay: not listening for a target");
                    continue;
                }
            };
            let (path, listener) = match bind(&self.root, &id) {
                Ok(bound) => bound,
                Err(e) => {
                    tracing::warn!(tenant = %id, error = %e, "relay: cannot listen for the tenant's standby");
                    continue;
                }
            };
            let (target_tx, target_rx) = watch::channel(target.clone());
            let task = tokio::spawn(listen(listener, id.clone(), self.shared.clone(), target_rx));
            tracing::info!(tenant = %id, socket = %path.display(), "relay: listening for the tenant's standby");
            listeners.insert(tenant.clone(), Listening { path, task, target: target_tx });
        }
    }
}

impl Drop for Outbound {
    fn drop(&mut self) {
        let listeners = self.listeners.get_mut().unwrap_or_else(|e| e.into_inner());
        for listening in listeners.values() {
            close(listening);
        }
    }
}

/// Stops a tenant's listener and its connections and removes its socket file.
fn close(listening: &Listening) {
    listening.task.abort();
    if let Err(e) = std::fs::remove_file(&listening.path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(socket = %listening.path.display(), error = %e, "relay: cannot remove the socket");
    }
}

/// Binds a tenant's relay socket (mode 0777) in its socket dir under `root`.
fn bind(root: &Path, tenant: &TenantId) -> io::Result<(PathBuf, UnixListener)> {
    let dir = root.join(crate::state::socket_dir(tenant));
    if !dir.is_dir() {
        // As the platform makes it: writable by the container's postgres user, whatever its uid.
        std::fs::DirBuilder::new().recursive(true).mode(0o711).create(&dir)?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))?;
    }
    let path = dir.join(RELAY_SOCKET);
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777))?;
    Ok((path, listener))
}

/// Accepts a tenant's standby's connections and relays each one; they end with this task.
async fn listen(listener: UnixListener, tenant: TenantId, shared: Arc<Shared>, target: watch::Receiver<String>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((local, _)) => {
                    connections.spawn(outbound(local, tenant.clone(), shared.clone(), target.clone()));
                }
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "relay: accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// One connection from the tenant's standby: dial its current target, hello, relay until
/// either side ends or the target moves elsewhere.
async fn outbound(mut local: UnixStream, tenant: TenantId, shared: Arc<Shared>, mut target: watch::Receiver<String>) {
    // Changes from here on only: one that happened before (targets swapped, sync not yet
    // called) is the target this connection dials.
    target.borrow_and_update();
    let Some(addr) = shared.targets.load().get(tenant.as_str()).cloned() else {
        tracing::debug!(%tenant, "relay: no primary known for the tenant; closing");
        return;
    };
    let mut remote = match dial(&addr, shared.configs.get(shared.pinned.load_full())).await {
        Ok(remote) => remote,
        Err(e) => {
            tracing::warn!(%tenant, %addr, error = %e, "relay: cannot reach the primary's node");
            return;
        }
    };
    let hello = [HELLO_TAG, b" ", tenant.as_str().as_bytes(), b" ", &shared.key, b"\n"].concat();
    if let Err(e) = remote.write_all(&hello).await {
        tracing::warn!(%tenant, %addr, error = %e, "relay: the primary's node closed the connection");
        return;
    }
    tracing::debug!(%tenant, %addr, "relay: outbound connection");
    let moved = async {
        while target.changed().await.is_ok() {
            if *target.borrow_and_update() != addr {
                return;
            }
        }
        // The listener is gone: so is this connection (its task is being aborted).
        std::future::pending::<()>().await
    };
    tokio::select! {
        copied = tokio::io::copy_bidirectional(&mut local, &mut remote) => match copied {
            Ok((sent, received)) => tracing::debug!(%tenant, %addr, sent, received, "relay: outbound connection ended"),
            Err(e) => tracing::debug!(%tenant, %addr, error = %e, "relay: outbound connection broke"),
        },
        () = moved => tracing::info!(%tenant, %addr, "relay: the primary moved; closing the connection to the old one"),
    }
}

/// Connects over TLS to the relay port at `addr` (`IP:PORT`) with `config` (pinned to the
/// installation's certificate).
async fn dial(addr: &str, config: Arc<rustls::ClientConfig>) -> io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let socket: SocketAddr =
        addr.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "the target is not IP:PORT"))?;
    let connect = async {
        let tcp = TcpStream::connect(socket).await?;
        if let Err(e) = tune(&tcp) {
            tracing::debug!(%addr, error = %e, "relay: cannot set TCP options");
        }
        tokio_rustls::TlsConnector::from(config).connect(ServerName::from(socket.ip()), tcp).await
    };
    tokio::time::timeout(DIAL_TIMEOUT, connect)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "the primary's node did not answer in time"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_names_a_valid_tenant_and_carries_the_key() {
        let key = b"k3y";
        assert_eq!(check_hello(b"PGS-RELAY/1 t1 k3y\n", key).unwrap().as_str(), "t1");
        for bad in [
            &b"PGS-RELAY/1 t1 k3y"[..],
            b"PGS-RELAY/1 t1 k3Y\n",
            b"PGS-RELAY/1 t1 k3\n",
            b"PGS-RELAY/1 t1 \n",
            b"PGS-RELAY/1 t1 k3y extra\n",
            b"PGS-RELAY/2 t1 k3y\n",
            b"PGS-RELAY/1 ../t1 k3y\n",
            b"PGS-RELAY/1 T1 k3y\n",
            b"PGS-RELAY/1 postgres k3y\n",
            b"PGS-RELAY/1 \xff k3y\n",
            b"\n",
        ] {
            assert!(check_hello(bad, key).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // No key configured: nothing is accepted.
        assert!(check_hello(b"PGS-RELAY/1 t1 \n", b"").is_err());
        // The reasons never quote the key.
        assert!(!check_hello(b"PGS-RELAY/1 t1 secret\n", key).unwrap_err().contains("secret"));
    }

    /// A self-signed certificate's server config (TLS 1.3) and end-point hash.
    fn server_config() -> (rustls::ServerConfig, Vec<u8>) {
        crate::certs::pinned::self_signed_server("localhost")
    }

    /// A node dir holding tenant `t1`'s socket, served by an echo server (a stand-in for its
    /// PostgreSQL).
    fn echoing_tenant() -> (tempfile::TempDir, TenantId) {
        let primary = tempfile::tempdir().unwrap();
        let t1 = TenantId::parse("t1").unwrap();
        let tenant_socket = primary.path().join(crate::state::socket_path(&t1));
        std::fs::create_dir_all(tenant_socket.parent().unwrap()).unwrap();
        let echo = UnixListener::bind(&tenant_socket).unwrap();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let (mut r, mut w) = stream.split();
                    let _ = tokio::io::copy(&mut r, &mut w).await;
                });
            }
        });
        (primary, t1)
    }

    /// Writes `data` on a new connection to `socket` and reads until `data.len()` bytes, the
    /// end, an error or 3 s; returns what came back.
    async fn round_trip(socket: &Path, data: &[u8]) -> Vec<u8> {
        let mut stream = UnixStream::connect(socket).await.unwrap();
        stream.write_all(data).await.unwrap();
        let mut back = Vec::new();
        let read = async {
            let mut buf = [0u8; 256];
            while back.len() < data.len() {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => back.extend_from_slice(&buf[..n]),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(3), read).await.expect("the relay neither answered nor closed");
        back
    }

    #[tokio::test]
    async fn a_standby_reaches_its_primary_through_both_agents() {
        // The primary's node: a tenant socket that echoes, and the inbound relay.
        let (primary, t1) = echoing_tenant();
        let (config, hash) = server_config();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let key = Arc::new(b"the-peer-key".to_vec());
        let inbound = tokio::spawn(serve_inbound(
            listener,
            Arc::new(ArcSwap::from_pointee(config)),
            primary.path().to_path_buf(),
            key.clone(),
        ));

        // The standby's node.
        let standby = tempfile::tempdir().unwrap();
        let relay_socket = standby.path().join(crate::state::socket_dir(&t1)).join(RELAY_SOCKET);
        let targets: Targets = Arc::new(ArcSwap::from_pointee(BTreeMap::from([("t1".to_string(), addr.clone())])));
        let pinned = Arc::new(ArcSwap::from_pointee(hash.clone()));
        let outbound = Outbound::new(standby.path().to_path_buf(), targets.clone(), pinned.clone(), key.clone());
        outbound.sync();
        let mode = std::fs::metadata(&relay_socket).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o777);
        assert_eq!(round_trip(&relay_socket, b"hello, primary").await, b"hello, primary");
        // Bytes bigger than a TLS record go through too.
        let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        assert_eq!(round_trip(&relay_socket, &big).await, big);

        // An agent with another key is refused.
        let strangers = tempfile::tempdir().unwrap();
        let stranger = Outbound::new(
            strangers.path().to_path_buf(),
            targets.clone(),
            pinned.clone(),
            Arc::new(b"another-key".to_vec()),
        );
        stranger.sync();
        let stranger_socket = strangers.path().join(crate::state::socket_dir(&t1)).join(RELAY_SOCKET);
        assert_eq!(round_trip(&stranger_socket, b"let me in").await, b"");
        drop(stranger);
        assert!(!stranger_socket.exists(), "dropping the outbound side removes its sockets");

        // A node serving another certificate is not dialed through.
        pinned.store(Arc::new(vec![0; 32]));
        assert_eq!(round_trip(&relay_socket, b"who are you").await, b"");
        pinned.store(Arc::new(hash));
        assert_eq!(round_trip(&relay_socket, b"again").await, b"again");

        // A tenant without a target any more: its socket goes.
        targets.store(Arc::new(BTreeMap::new()));
        outbound.sync();
        assert!(!relay_socket.exists());
        // And comes back with a target, over a stale file.
        std::fs::write(&relay_socket, b"stale").unwrap();
        targets.store(Arc::new(BTreeMap::from([("t1".to_string(), addr.clone())])));
        outbound.sync();
        assert_eq!(round_trip(&relay_socket, b"back").await, b"back");
        inbound.abort();
    }

    #[tokio::test]
    async fn a_connection_ends_when_the_primary_moves() {
        let (config, hash) = server_config();
        let (primary, t1) = echoing_tenant();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let key = Arc::new(b"k".to_vec());
        let inbound = tokio::spawn(serve_inbound(
            listener,
            Arc::new(ArcSwap::from_pointee(config)),
            primary.path().to_path_buf(),
            key.clone(),
        ));
        let standby = tempfile::tempdir().unwrap();
        let targets: Targets = Arc::new(ArcSwap::from_pointee(BTreeMap::from([("t1".to_string(), addr)])));
        let outbound =
            Outbound::new(standby.path().to_path_buf(), targets.clone(), Arc::new(ArcSwap::from_pointee(hash)), key);
        outbound.sync();
        let relay_socket = standby.path().join(crate::state::socket_dir(&t1)).join(RELAY_SOCKET);
        let mut stream = UnixStream::connect(&relay_socket).await.unwrap();
        stream.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        targets.store(Arc::new(BTreeMap::from([("t1".to_string(), "127.0.0.1:9".to_string())])));
        outbound.sync();
        let n = tokio::time::timeout(Duration::from_secs(3), stream.read(&mut buf)).await.unwrap().unwrap_or(0);
        assert_eq!(n, 0, "the connection to the old primary is closed");
        inbound.abort();
    }
}
