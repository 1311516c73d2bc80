//! The private side: dialling a tenant's PostgreSQL.
//!
//! A tenant is reachable over its Unix socket (the socket directory is a folder of the state dir,
//! bind-mounted into the tenant's container and nowhere else; the fastest hop: no TCP, no bridge,
//! no netfilter). Tenants made by earlier releases, which have a network of their own, are also
//! reachable over TCP (their address on that network, their port published on 127.0.0.1, or
//! their container name for a gateway attached to their network). [`candidates`] lists the ways
//! the gateway's [`BackendMode`] allows, best first; [`dial`] takes the first that answers.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::{TcpStream, UnixStream};
use tokio_util::either::Either;

use super::BackendMode;
use crate::state::Backend;

/// An open connection to a backend.
pub type BackendStream = Either<TcpStream, UnixStream>;

/// How long one dial may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(3);

/// Longest path a Unix socket address holds (`sun_path`, with its NUL).
pub const MAX_SOCKET_PATH: usize = 107;

/// A resolved backend address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendAddr {
    /// TCP.
    Tcp(SocketAddr),
    /// A Unix socket.
    Unix(PathBuf),
}

impl BackendAddr {
    /// `unix` or `tcp`, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            BackendAddr::Tcp(_) => "tcp",
            BackendAddr::Unix(_) => "unix",
        }
    }

    /// Opens a connection (no deadline: callers bound it).
    pub async fn connect(&self) -> std::io::Result<BackendStream> {
        match self {
            BackendAddr::Tcp(addr) => {
                let s = TcpStream::connect(addr).await?;
                s.set_nodelay(true)?;
                Ok(Either::Left(s))
            }
            BackendAddr::Unix(path) => Ok(Either::Right(connect_unix(path).await?)),
        }
    }
}

/// Connects to the Unix socket at `path`, also when the path is longer than a socket address
/// holds (a deeply nested state dir): then through `/proc/self/fd/N/NAME`, N being its directory
/// opened for the purpose.
pub async fn connect_unix(path: &Path) -> std::io::Result<UnixStream> {
    if path.as_os_str().len() <= MAX_SOCKET_PATH {
        return UnixStream::connect(path).await;
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a socket path"));
    };
    use rustix::fs::{Mode, OFlags};
    let dir = rustix::fs::open(dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
    let short = Path::new("/proc/self/fd").join(std::os::fd::AsRawFd::as_raw_fd(&dir).to_string()).join(name);
    let stream = UnixStream::connect(&short).await;
    drop(dir);
    stream
}

/// One way to reach a backend, before name resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Candidate<'a> {
    Tcp(&'a str),
    Unix(PathBuf),
}

/// The ways `mode` allows to reach `backend`, best first. `state_root` is where this gateway
/// sees the state dir (socket paths in the routes are relative to it).
fn candidates<'a>(mode: BackendMode, backend: &'a Backend, state_root: &Path) -> Vec<Candidate<'a>> {
    let socket = backend.socket.as_deref().map(|s| Candidate::Unix(state_root.join(s)));
    // Empty for tenants without a network of their own.
    let tcp = |addrs: &[&'a String]| {
        addrs.iter().filter(|a| !a.is_empty()).map(|a| Candidate::Tcp(a.as_str())).collect::<Vec<_>>()
    };
    match mode {
        BackendMode::Address => tcp(&[&backend.address]),
        BackendMode::Loopback => tcp(&[&backend.loopback]),
        BackendMode::Socket => socket.into_iter().collect(),
        BackendMode::Container => socket.into_iter().chain(tcp(&[&backend.container, &backend.address])).collect(),
        BackendMode::Auto => socket.into_iter().chain(tcp(&[&backend.address, &backend.loopback])).collect(),
    }
}

/// The first address of the tenant's PostgreSQL that `mode` allows and that exists (a socket
/// file that is there, a name that resolves), without connecting: where a pool connects.
pub async fn address(mode: BackendMode, backend: &Backend, state_root: &Path) -> Option<BackendAddr> {
    for candidate in candidates(mode, backend, state_root) {
        match candidate {
            Candidate::Unix(path) if path.exists() => return Some(BackendAddr::Unix(path)),
            Candidate::Unix(_) => {}
            Candidate::Tcp(name) => {
                let resolved = tokio::time::timeout(DIAL_TIMEOUT, tokio::net::lookup_host(name)).await;
                if let Some(addr) = resolved.ok().and_then(Result::ok).and_then(|mut a| a.next()) {
                    return Some(BackendAddr::Tcp(addr));
                }
            }
        }
    }
    None
}

/// Connects to the tenant's PostgreSQL the first way that works; returns the stream and the
/// address it reached (where cancels for the session go).
pub async fn dial(
    mode: BackendMode,
    backend: &Backend,
    state_root: &Path,
) -> std::io::Result<(BackendStream, BackendAddr)> {
    let mut last = std::io::Error::other("no backend address");
    for candidate in candidates(mode, backend, state_root) {
        let attempt = async {
            let addr = match candidate {
                // A tenant created before sockets, or a socket dir Docker cannot share: skip fast.
                Candidate::Unix(path) if !path.exists() => return Err(std::io::ErrorKind::NotFound.into()),
                Candidate::Unix(path) => BackendAddr::Unix(path),
                Candidate::Tcp(name) => BackendAddr::Tcp(
                    tokio::net::lookup_host(name)
                        .await?
                        .next()
                        .ok_or_else(|| std::io::Error::other("address did not resolve"))?,
                ),
            };
            Ok((addr.connect().await?, addr))
        };
        match tokio::time::timeout(DIAL_TIMEOUT, attempt).await {
            Ok(Ok(x)) => return Ok(x),
            Ok(Err(e)) => last = e,
            Err(_) => last = std::io::ErrorKind::TimedOut.into(),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(socket: Option<&str>) -> Backend {
        Backend {
            loopback: "127.0.0.1:40000".into(),
            address: "10.213.0.2:5432".into(),
            network: "pgs-t1".into(),
            container: "pgs-t1:5432".into(),
            socket: socket.map(str::to_owned),
            peer: None,
        }
    }

    #[test]
    fn socket_first_where_the_mode_allows() {
        let b = backend(Some("sockets/t1/.s.PGSQL.5432"));
        let root = Path::new("/state");
        let unix = Candidate::Unix("/state/sockets/t1/.s.PGSQL.5432".into());
        assert_eq!(
            candidates(BackendMode::Auto, &b, root),
            vec![unix.clone(), Candidate::Tcp("10.213.0.2:5432"), Candidate::Tcp("127.0.0.1:40000")]
        );
        assert_eq!(candidates(BackendMode::Socket, &b, root), vec![unix.clone()]);
        assert_eq!(candidates(BackendMode::Container, &b, root)[0], unix);
        assert_eq!(candidates(BackendMode::Address, &b, root), vec![Candidate::Tcp("10.213.0.2:5432")]);
        // Routes written before sockets existed.
        assert_eq!(candidates(BackendMode::Auto, &backend(None), root).len(), 2);
        // A tenant without a network of its own: its socket only.
        let networkless = Backend {
            loopback: String::new(),
            address: String::new(),
            network: String::new(),
            container: String::new(),
            socket: Some("sockets/t1/.s.PGSQL.5432".into()),
            peer: None,
        };
        assert_eq!(candidates(BackendMode::Auto, &networkless, root), vec![unix.clone()]);
        assert_eq!(candidates(BackendMode::Container, &networkless, root), vec![unix]);
    }

    #[tokio::test]
    async fn a_socket_path_longer_than_a_socket_address_is_reached() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("d".repeat(100)).join("sockets");
        std::fs::create_dir_all(&deep).unwrap();
        let path = deep.join(".s.PGSQL.5432");
        assert!(path.as_os_str().len() > MAX_SOCKET_PATH);
        // Bound through its directory's descriptor, as a container with a short mount path would.
        let dir = rustix::fs::open(&deep, rustix::fs::OFlags::PATH, rustix::fs::Mode::empty()).unwrap();
        let short = format!("/proc/self/fd/{}/.s.PGSQL.5432", std::os::fd::AsRawFd::as_raw_fd(&dir));
        let listener = std::os::unix::net::UnixListener::bind(short).unwrap();
        drop(dir);
        listener.set_nonblocking(true).unwrap();
        let listener = tokio::net::UnixListener::from_std(listener).unwrap();
        let (accepted, dialled) = tokio::join!(listener.accept(), connect_unix(&path));
        accepted.unwrap();
        dialled.unwrap();
    }
}
