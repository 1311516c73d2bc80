//! Handing the listening sockets from a running gateway to its replacement, so that a restart or
//! an upgrade refuses no connection (what HAProxy's `-x` and pgbouncer's `-R` do).
//!
//! Every gateway has a **generation** (one more than any gateway before it in this state dir)
//! and a control socket `STATE/run/gateway/GEN.sock` (mode 0600). A new gateway:
//!
//! 1. loads its routes and certificate;
//! 2. connects to the newest control socket and sends `{"op":"handover","drain_secs":N}`;
//! 3. receives the client and health listeners as file descriptors (SCM_RIGHTS). Both processes
//!    now hold the same kernel sockets, with one accept queue: nothing queued is lost;
//! 4. starts accepting, then writes `accepting`. Only then does the old gateway stop accepting;
//!    it serves its open sessions for up to N seconds and ends the rest with 57P01.
//!
//! If the new gateway dies before step 4, the old one goes on as if nothing happened. With no
//! live predecessor (first start, crash) the gateway binds the port itself.
//!
//! The control socket also carries cancels: the first byte of every cancel key is the issuing
//! generation's [`instance_of`], so a CancelRequest that reaches the new gateway for a session of
//! the old one is passed on as `{"op":"cancel",...}`.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use super::Gateway;
use super::cancel::{self, Lookup};

/// Longest request or reply line.
const MAX_LINE: u64 = 4096;

/// How long one exchange on a control socket may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a new gateway may take between receiving the listeners and accepting on them.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// The first byte of the cancel keys a generation issues (never 0, which single gateways of
/// earlier releases used).
pub fn instance_of(generation: u64) -> u8 {
    (generation % 255) as u8 + 1
}

fn socket_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("{generation}.sock"))
}

/// Generations whose control socket file exists, newest first.
fn generations(dir: &Path) -> Vec<u64> {
    let mut found: Vec<u64> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".sock")?.parse().ok())
        .collect();
    found.sort_unstable_by(|a, b| b.cmp(a));
    found
}

/// A request on a control socket.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    /// Send me (generation `generation`, to listen on `listen`) your listeners; drain for this
    /// long once I accept. Declined by a gateway that listens elsewhere (several gateways may
    /// serve one state dir on different ports).
    Handover { drain_secs: u64, generation: u64, listen: SocketAddr },
    /// Cancel the query of one of your sessions.
    Cancel { pid: u32, secret: String },
}

/// A reply on a control socket.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Reply {
    ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// With a handover: the sender's generation (the client listener, then the health
    /// listener, come with the message).
    #[serde(default)]
    generation: u64,
}

/// Reads one line of at most [`MAX_LINE`] bytes.
async fn read_line(conn: &mut UnixStream, line: &mut String) -> std::io::Result<usize> {
    BufReader::new(AsyncReadExt::take(conn, MAX_LINE)).read_line(line).await
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).unwrap_or_default();
    line.push(b'\n');
    line
}

/// Listeners taken over from a running gateway; [`Taken::confirm`] once accepting on them.
pub struct Taken {
    /// The predecessor's generation.
    pub from: u64,
    /// The client listener.
    pub client: std::net::TcpListener,
    /// The health listener, if the predecessor had one to give.
    pub health: Option<std::net::TcpListener>,
    conn: UnixStream,
}

impl Taken {
    /// Tells the predecessor that this gateway accepts now: it stops accepting and drains.
    pub async fn confirm(mut self) -> std::io::Result<()> {
        tokio::time::timeout(EXCHANGE_TIMEOUT, async {
            self.conn.write_all(b"accepting\n").await?;
            let mut line = String::new();
            read_line(&mut self.conn, &mut line).await?;
            Ok(())
        })
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))?
    }
}

/// Asks the newest live gateway of the state dir older than `own` (this gateway's generation)
/// that listens on `listen` for its listeners; `None` when none does. Control sockets of
/// gateways that are gone are removed on the way.
pub async fn take_over(dir: &Path, drain: Duration, own: u64, listen: SocketAddr) -> Option<Taken> {
    for generation in generations(dir).into_iter().filter(|g| *g < own) {
        let path = socket_path(dir, generation);
        let conn = match UnixStream::connect(&path).await {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            Err(_) => continue,
        };
        match tokio::time::timeout(EXCHANGE_TIMEOUT, ask(conn, drain, own, listen)).await {
            Ok(Ok(Some(taken))) => return Some(taken),
            Ok(Ok(None)) => continue,
            Ok(Err(e)) => tracing::warn!(generation, error = %e, "the running gateway did not hand over its listeners"),
            Err(_) => tracing::warn!(generation, "the running gateway did not answer the handover request in time"),
        }
    }
    None
}

async fn ask(conn: UnixStream, drain: Duration, own: u64, listen: SocketAddr) -> std::io::Result<Option<Taken>> {
    let request = encode(&Request::Handover { drain_secs: drain.as_secs(), generation: own, listen });
    let mut conn = conn;
    conn.write_all(&request).await?;
    let mut buf = vec![0u8; MAX_LINE as usize];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
    let (n, fds) = loop {
        conn.readable().await?;
        let mut control = rustix::net::RecvAncillaryBuffer::new(&mut space);
        let received = conn.try_io(tokio::io::Interest::READABLE, || {
            let mut iov = [IoSliceMut::new(&mut buf)];
            rustix::net::recvmsg(conn.as_fd(), &mut iov, &mut control, rustix::net::RecvFlags::CMSG_CLOEXEC)
                .map_err(std::io::Error::from)
        });
        match received {
            Ok(msg) => {
                let fds: Vec<OwnedFd> = control
                    .drain()
                    .filter_map(|m| match m {
                        rustix::net::RecvAncillaryMessage::ScmRights(fds) => Some(fds),
                        _ => None,
                    })
                    .flatten()
                    .collect();
                break (msg.bytes, fds);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    };
    let reply: Reply = serde_json::from_slice(buf[..n].trim_ascii_end())
        .map_err(|e| std::io::Error::other(format!("bad handover reply: {e}")))?;
    if !reply.ok {
        tracing::debug!(error = reply.error.as_deref().unwrap_or(""), "a gateway declined the handover");
        return Ok(None);
    }
    let mut fds = fds.into_iter();
    let client = fds.next().ok_or_else(|| std::io::Error::other("the handover carried no listener"))?;
    Ok(Some(Taken {
        from: reply.generation,
        client: std::net::TcpListener::from(client),
        health: fds.next().map(std::net::TcpListener::from),
        conn,
    }))
}

/// Passes a CancelRequest on to the live gateway that issued the key; whether one took it.
pub async fn forward_cancel(dir: &Path, instance: u8, pid: u32, secret: &[u8]) -> bool {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    for generation in generations(dir).into_iter().filter(|g| instance_of(*g) == instance) {
        let send = async {
            let mut conn = UnixStream::connect(socket_path(dir, generation)).await?;
            conn.write_all(&encode(&Request::Cancel { pid, secret: hex.clone() })).await?;
            let mut line = String::new();
            read_line(&mut conn, &mut line).await?;
            Ok::<_, std::io::Error>(serde_json::from_str::<Reply>(&line).map(|r| r.ok).unwrap_or(false))
        };
        if let Ok(Ok(true)) = tokio::time::timeout(EXCHANGE_TIMEOUT, send).await {
            return true;
        }
    }
    false
}

/// What the control server tells the gateway's main loop.
#[derive(Debug)]
pub enum Event {
    /// The successor accepts now: stop accepting, drain for this long.
    HandedOver { drain: Duration, to: u64 },
}

/// A running gateway's control socket.
pub struct Control {
    /// This gateway's generation.
    pub generation: u64,
    path: PathBuf,
    listener: UnixListener,
    /// Duplicates of the listeners to hand over; dropped once handed over or shutting down.
    listeners: Arc<Mutex<Option<Vec<OwnedFd>>>>,
}

impl Control {
    /// Binds the control socket of the next generation in `dir` (made if missing). It hands
    /// nothing over until [`Control::hold`].
    pub fn bind(dir: &Path) -> std::io::Result<Self> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let mut generation = generations(dir).first().map_or(1, |g| g + 1);
        let listener = loop {
            let path = socket_path(dir, generation);
            match UnixListener::bind(&path) {
                Ok(l) => break l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => generation += 1,
                Err(e) => return Err(e),
            }
        };
        let path = socket_path(dir, generation);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(Self { generation, path, listener, listeners: Arc::new(Mutex::new(None)) })
    }

    /// The listeners to hand over on request: the client listener, then the health listener.
    pub fn hold(&self, listeners: &[&std::net::TcpListener]) -> std::io::Result<()> {
        let dups = listeners.iter().map(|l| l.try_clone().map(OwnedFd::from)).collect::<std::io::Result<Vec<_>>>()?;
        *self.listeners.lock().unwrap_or_else(|e| e.into_inner()) = Some(dups);
        Ok(())
    }

    /// Stops handing over (the gateway is shutting down): the listeners close with the process.
    pub fn withdraw(&self) {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// Serves the control socket until the process ends; events go to `events`.
    pub async fn serve(&self, gw: Arc<Gateway>, events: tokio::sync::mpsc::Sender<Event>) {
        loop {
            let conn = match self.listener.accept().await {
                Ok((conn, _)) => conn,
                Err(e) => {
                    // Out of descriptors, say: do not spin.
                    tracing::warn!(error = %e, "control socket accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let (gw, events, listeners, generation) =
                (gw.clone(), events.clone(), self.listeners.clone(), self.generation);
            tokio::spawn(async move {
                if let Err(e) = serve_one(conn, gw, events, listeners, generation).await {
                    tracing::debug!(error = %e, "control socket exchange failed");
                }
            });
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

async fn serve_one(
    mut conn: UnixStream,
    gw: Arc<Gateway>,
    events: tokio::sync::mpsc::Sender<Event>,
    listeners: Arc<Mutex<Option<Vec<OwnedFd>>>>,
    generation: u64,
) -> std::io::Result<()> {
    let mut line = String::new();
    let read = read_line(&mut conn, &mut line);
    tokio::time::timeout(EXCHANGE_TIMEOUT, read).await.map_err(|_| std::io::ErrorKind::TimedOut)??;
    let request: Request =
        serde_json::from_str(&line).map_err(|e| std::io::Error::other(format!("bad request: {e}")))?;
    match request {
        Request::Cancel { pid, secret } => {
            let secret: Vec<u8> = (0..secret.len() / 2)
                .filter_map(|i| u8::from_str_radix(secret.get(2 * i..2 * i + 2)?, 16).ok())
                .collect();
            let ok = match gw.cancels.lookup(pid, &secret) {
                Lookup::Found(target) => cancel::forward(&target).await.is_ok(),
                _ => false,
            };
            conn.write_all(&encode(&Reply { ok, ..Reply::default() })).await
        }
        Request::Handover { drain_secs, generation: to, listen } => {
            let (fds, mine): (Vec<OwnedFd>, Option<SocketAddr>) = {
                let held = listeners.lock().unwrap_or_else(|e| e.into_inner());
                match held.as_ref() {
                    Some(fds) => {
                        let mine = fds
                            .first()
                            .and_then(|f| rustix::net::getsockname(f).ok())
                            .and_then(|a| SocketAddr::try_from(a).ok());
                        (fds.iter().map(|f| f.try_clone()).collect::<std::io::Result<_>>()?, mine)
                    }
                    None => (Vec::new(), None),
                }
            };
            let declined = if fds.is_empty() {
                Some("this gateway is stopping and hands over nothing".to_string())
            } else if mine != Some(listen) {
                Some(format!("this gateway listens on {}, not on {listen}", mine.map_or("?".into(), |a| a.to_string())))
            } else {
                None
            };
            if let Some(error) = declined {
                return conn.write_all(&encode(&Reply { error: Some(error), ..Reply::default() })).await;
            }
            let reply = encode(&Reply { ok: true, generation, ..Reply::default() });
            send_with_fds(&conn, &reply, &fds).await?;
            drop(fds);
            // Keep accepting until the successor says it does.
            let mut confirm = String::new();
            let read = read_line(&mut conn, &mut confirm);
            match tokio::time::timeout(CONFIRM_TIMEOUT, read).await {
                Ok(Ok(_)) if confirm.trim() == "accepting" => {
                    listeners.lock().unwrap_or_else(|e| e.into_inner()).take();
                    let drain = Duration::from_secs(drain_secs);
                    let _ = events.send(Event::HandedOver { drain, to }).await;
                    conn.write_all(&encode(&Reply { ok: true, generation, ..Reply::default() })).await
                }
                _ => {
                    tracing::warn!("the new gateway took the listeners but did not start accepting: this one goes on");
                    Ok(())
                }
            }
        }
    }
}

async fn send_with_fds(conn: &UnixStream, data: &[u8], fds: &[OwnedFd]) -> std::io::Result<()> {
    use std::os::fd::BorrowedFd;
    let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(|f| f.as_fd()).collect();
    loop {
        conn.writable().await?;
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(2))];
        let mut control = rustix::net::SendAncillaryBuffer::new(&mut space);
        if !control.push(rustix::net::SendAncillaryMessage::ScmRights(&borrowed)) {
            return Err(std::io::Error::other("too many descriptors for one message"));
        }
        let sent = conn.try_io(tokio::io::Interest::WRITABLE, || {
            rustix::net::sendmsg(conn.as_fd(), &[IoSlice::new(data)], &mut control, rustix::net::SendFlags::empty())
                .map_err(std::io::Error::from)
        });
        match sent {
            Ok(n) if n == data.len() => return Ok(()),
            Ok(_) => return Err(std::io::Error::other("the handover reply was cut short")),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_are_never_zero_and_cycle() {
        assert_eq!(instance_of(0), 1);
        assert_eq!(instance_of(1), 2);
        assert_eq!(instance_of(254), 255);
        assert_eq!(instance_of(255), 1);
        assert!((0..2000).all(|g| instance_of(g) != 0));
    }

    #[test]
    fn requests_are_one_json_line() {
        let listen = "127.0.0.1:5432".parse().unwrap();
        let line = encode(&Request::Handover { drain_secs: 5, generation: 2, listen });
        assert_eq!(line, b"{\"op\":\"handover\",\"drain_secs\":5,\"generation\":2,\"listen\":\"127.0.0.1:5432\"}\n");
        assert!(serde_json::from_slice::<Request>(b"{\"op\":\"cancel\",\"pid\":7,\"secret\":\"01ab\"}").is_ok());
    }
}
