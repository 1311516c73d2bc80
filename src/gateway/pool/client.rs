//! One pooled client, top to bottom: settings from its startup message → authentication by the
//! gateway → a server connection's parameters and a key of the gateway's own → then, message by
//! message, a server connection lent for each transaction (or the whole session) while the
//! tracker renames statements and keeps the replies in order.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::msg::{self, Message, Reader};
use super::server::{ServerError, is_setting_name};
use super::track::{ClientEvent, ClientStatements, Tracker};
use super::{Key, Lease, Pool, PoolError, auth};
use crate::gateway::Gateway;
use crate::gateway::backend::BackendAddr;
use crate::gateway::errors::{Refusal, error_response};
use crate::gateway::frame::Startup;
use crate::state::{PoolMode, PoolSettings};

/// Parameters that are the session's identity or the gateway's business, never SET.
const NOT_SETTINGS: &[&str] = &["user", "database", "options", "replication", "application_name"];

/// Settings the server reports that a client's startup values override in what it is shown.
const REPORTED: &[&str] =
    &["application_name", "client_encoding", "DateStyle", "IntervalStyle", "TimeZone", "search_path"];

/// How a pooled session ended, for its log line.
pub struct Ended {
    /// `closed`, `refused`, `revoked`, `restarting`.
    pub result: &'static str,
    /// Why, when not closed by the client.
    pub reason: Option<String>,
    /// Bytes from and to the client.
    pub bytes: (u64, u64),
    /// Why its server connection was its own (`auto` mode), if it was.
    pub reserved: Option<&'static str>,
}

/// A FATAL error for the client (and the session's end).
struct Fatal {
    sqlstate: &'static str,
    message: String,
    hint: Option<String>,
    /// The client has its server's own FATAL error already (a backend terminated while the
    /// client was idle): the session ends without another, as on the direct endpoint.
    told: bool,
}

impl Fatal {
    fn new(sqlstate: &'static str, message: impl Into<String>) -> Self {
        Self { sqlstate, message: message.into(), hint: None, told: false }
    }

    fn encode(&self) -> Vec<u8> {
        if self.told {
            return Vec::new();
        }
        error_response("FATAL", self.sqlstate, &self.message, self.hint.as_deref())
    }
}

/// The settings a client asked for in its startup message (and `-c` in `options`): setting
/// name to its value as an SQL literal.
fn wanted_settings(startup: &Startup) -> Result<BTreeMap<String, String>, Fatal> {
    let mut wanted = BTreeMap::new();
    for (k, v) in &startup.params {
        if k == "replication" {
            return Err(Fatal::new("0A000", "replication connections are not supported on the pooled endpoint"));
        }
        if NOT_SETTINGS.contains(&k.as_str()) {
            continue;
        }
        wanted.insert(k.clone(), v.clone());
    }
    if let Some(options) = startup.get("options") {
        let mut tokens = options.split_ascii_whitespace();
        while let Some(t) = tokens.next() {
            let setting = match t {
                "-c" => tokens.next().unwrap_or_default(),
                t => t.strip_prefix("-c").or_else(|| t.strip_prefix("--")).unwrap_or(""),
            };
            let Some((k, v)) = setting.split_once('=') else {
                return Err(Fatal::new(
                    "0A000",
                    format!("unsupported option {t:?} on the pooled endpoint (only -c NAME=VALUE)"),
                ));
            };
            wanted.insert(k.replace('-', "_"), v.to_string());
        }
    }
    if let Some(bad) = wanted.keys().find(|k| !is_setting_name(k)) {
        return Err(Fatal::new("42704", format!("invalid setting name {bad:?}")));
    }
    Ok(wanted.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), super::server::literal(&v))).collect())
}

/// Where a routed and admitted pooled client goes.
pub struct Endpoint {
    /// Tenant id.
    pub tenant: String,
    /// The tenant's PostgreSQL.
    pub backend: BackendAddr,
    /// Its pool's settings.
    pub settings: PoolSettings,
    /// The gateway certificate's channel binding data, for a client over TLS.
    pub cert_hash: Option<Arc<Vec<u8>>>,
    /// The client's address.
    pub peer: SocketAddr,
}

/// Serves a pooled client after routing and admission: authenticates it, then runs its
/// session.
pub async fn serve<C: AsyncRead + AsyncWrite + Unpin>(
    gw: &Arc<Gateway>,
    client: &mut C,
    startup: Startup,
    endpoint: &Endpoint,
) -> Ended {
    let mut ended = Ended { result: "closed", reason: None, bytes: (0, 0), reserved: None };
    let outcome = run(gw, client, startup, endpoint, &mut ended).await;
    if let Err(fatal) = outcome {
        if ended.result == "closed" {
            gw.metrics.refused("pooler");
        }
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            client.write_all(&fatal.encode()).await?;
            client.shutdown().await
        })
        .await;
        if ended.result == "closed" {
            ended.result = "refused";
        }
        ended.reason.get_or_insert(fatal.message);
    }
    ended
}

async fn run<C: AsyncRead + AsyncWrite + Unpin>(
    gw: &Arc<Gateway>,
    client: &mut C,
    startup: Startup,
    endpoint: &Endpoint,
    ended: &mut Ended,
) -> Result<(), Fatal> {
    let Endpoint { tenant, backend, settings, cert_hash, peer } = endpoint;
    let (tenant, settings, peer) = (tenant.as_str(), *settings, *peer);
    let user =
        startup.get("user").filter(|u| !u.is_empty()).ok_or_else(|| Fatal::new("28000", "no user name given"))?;
    let database = startup.get("database").filter(|d| !d.is_empty()).unwrap_or(user).to_string();
    let user = user.to_string();
    let mut wanted = wanted_settings(&startup)?;
    if settings.mode == PoolMode::Session
        && let Some(name) = startup.get("application_name")
    {
        // The client's own connection for its session shows its name in pg_stat_activity, as a
        // direct one would (DISCARD ALL gives the next client `pgs-pooler` back). Shared
        // connections keep `pgs-pooler`: the controller tells the pooler's idle ones by it.
        wanted.insert("application_name".into(), super::server::literal(name));
    }
    let _slot = gw.pools.admit_client(tenant, settings.max_clients).ok_or_else(|| {
        Fatal::new("53300", format!("too many pooled clients for tenant {tenant} (at most {})", settings.max_clients))
    })?;

    // Authentication: the client proves its password to the gateway.
    let mut reader = Reader::new(4096);
    // The login's futures are boxed: they are big and done with before the session idles.
    let verifier = Box::pin(gw.pools.verifiers.lookup(&gw.state, tenant, backend, &user)).await.map_err(|e| {
        tracing::warn!(tenant, error = %e, "cannot look up a pooled client's role");
        Fatal::new("08006", format!("tenant {tenant} cannot authenticate pooled clients right now"))
    })?;
    let auth = tokio::time::timeout(
        auth::AUTH_TIMEOUT,
        Box::pin(auth::authenticate(client, &mut reader, &user, verifier, cert_hash.as_deref().map(Vec::as_slice))),
    )
    .await
    .map_err(|_| Fatal::new("08006", "authentication timed out"))?;
    let (client_key, verifier) = auth.map_err(|e| match e {
        auth::AuthError::Failed(_) => {
            gw.pools.verifiers.forget(tenant, &user);
            Fatal::new("28P01", e.to_string())
        }
        e => Fatal::new("08P01", e.to_string()),
    })?;
    reader.set_max(msg::MAX_CLIENT_MESSAGE);

    let pool = gw.pools.get(&Key { tenant: tenant.to_string(), user: user.clone(), database: database.clone() });
    pool.set_login(client_key, verifier);
    // The first client of a pool logs a server connection in to learn the parameters (and
    // that the role may reach the database). In session mode the client's own connection is
    // its server for the whole session: the client is told that server's real process id (as
    // `pg_backend_pid()` and a notification's sender show it), and its cancels go there.
    let mut held: Option<Lease> = None;
    if pool.params().is_none() || settings.mode == PoolMode::Session {
        held = Some(Box::pin(acquire(&pool, backend, &settings, &wanted)).await?);
    }
    let session_server = held.as_mut().filter(|_| settings.mode == PoolMode::Session).map(|l| l.conn().target.clone());
    let pid = session_server.as_ref().map(|t| t.pid);
    let current: crate::gateway::cancel::Current = Arc::new(Mutex::new(session_server));
    let key = gw.cancels.register_pooled(tenant.to_string(), current.clone(), pid);
    let mut hello = Vec::new();
    msg::authentication(0, &[], &mut hello);
    for (name, value) in pool.params().unwrap_or_default() {
        let shown = if REPORTED.contains(&name.as_str()) { startup.get(&name).unwrap_or(&value) } else { &value };
        msg::parameter_status(&name, shown, &mut hello);
    }
    hello.extend(key.backend_key_data());
    msg::ready_for_query(b'I', &mut hello);
    write(client, &hello, ended).await?;
    if settings.mode != PoolMode::Session
        && let Some(lease) = held.take()
    {
        lease.release(true);
    }

    let direct: Arc<str> = format!("{tenant}.{}", gw.routes.load().domain).into();
    // In auto mode, at most `reserve_limit` of the pool's connections are reserved, one per client.
    let reserving = (settings.mode == PoolMode::Auto)
        .then(|| super::track::Reserving { pool: pool.clone(), limit: settings.reserve_limit() as usize });
    let mut tracker = Tracker::new(settings.mode != PoolMode::Session, reserving, direct, wanted);
    if pid.is_none() {
        tracker.set_told_pid(key.pid);
    }
    let mut session = Session { user: user.clone(), tracker, statements: ClientStatements::default(), current };
    let ending = crate::gateway::end::until_ended(gw, tenant, peer);
    tokio::pin!(ending);
    let result = session.run(client, &mut reader, &pool, backend, &settings, &mut held, &mut ending, ended).await;
    // A server that ended the session with a FATAL error the client has is not reported twice.
    let result = result.map_err(|f| Fatal { told: f.told || session.tracker.server_ended(), ..f });
    // A connection in a transaction, or owed replies, is closed rather than shared.
    if let Some(mut lease) = held.take() {
        *session.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let clean = session.tracker.settled()
            && session.tracker.status() == b'I'
            && result.is_ok()
            && !session.tracker.take_tainted();
        let shared = settings.mode != PoolMode::Session && session.tracker.reserved().is_none();
        let clean = clean && (shared || lease.conn().discard().await.is_ok());
        lease.release(clean);
    }
    if let Some(reason) = session.tracker.reserved() {
        ended.reserved = Some(reason.label());
    }
    drop(key);
    result
}

/// A server connection for the client, with its settings applied.
async fn acquire(
    pool: &Arc<Pool>,
    backend: &BackendAddr,
    settings: &PoolSettings,
    wanted: &BTreeMap<String, String>,
) -> Result<Lease, Fatal> {
    let mut lease = pool.acquire(backend, settings).await.map_err(|e| match e {
        PoolError::Exhausted(..) => Fatal::new("53300", e.to_string()),
        PoolError::Server(ServerError::Refused(m)) => {
            // The server's own reason (a database that does not exist, a role that may not log in).
            let text = super::server::message_text(&m.body);
            Fatal::new(super::server::sqlstate(&m.body).map_or("08006", sqlstate_static), text)
        }
        PoolError::Server(ServerError::Stale) => {
            Fatal::new("28P01", "the role's password changed since this client logged in: reconnect")
        }
        e => {
            tracing::warn!(error = %e, "pooled server connection failed");
            Fatal::new("08006", "cannot reach the tenant's database")
        }
    })?;
    if let Err(e) = lease.conn().apply(wanted).await {
        lease.release(false);
        return Err(match e {
            ServerError::Refused(m) => Fatal::new("22023", super::server::message_text(&m.body)),
            _ => Fatal::new("08006", "the tenant's database failed while applying the client's settings"),
        });
    }
    Ok(lease)
}

/// Reads more from the server connection the client holds between its transactions; never
/// resolves when it holds none.
async fn from_own_server(held: &mut Option<Lease>) -> Result<bool, msg::ReadError> {
    match held.as_mut() {
        Some(lease) => {
            let conn = lease.conn();
            conn.reader.fill(&mut conn.stream).await
        }
        None => std::future::pending().await,
    }
}

/// SQLSTATEs the pooler passes on from a server's login error.
fn sqlstate_static(code: String) -> &'static str {
    match code.as_str() {
        "3D000" => "3D000",
        "28000" => "28000",
        "42501" => "42501",
        "53300" => "53300",
        "57P03" => "57P03",
        _ => "08006",
    }
}

async fn write<C: AsyncWrite + Unpin>(client: &mut C, bytes: &[u8], ended: &mut Ended) -> Result<(), Fatal> {
    if bytes.is_empty() {
        return Ok(());
    }
    let sent = async {
        client.write_all(bytes).await?;
        client.flush().await
    };
    sent.await.map_err(|_| Fatal::new("08006", "client connection lost"))?;
    ended.bytes.1 += bytes.len() as u64;
    Ok(())
}

/// The client's next message if it is already buffered, counted in its bytes.
fn buffered(reader: &mut Reader, ended: &mut Ended) -> Result<Option<Message>, Fatal> {
    match reader.buffered() {
        Ok(Some(m)) => {
            ended.bytes.0 += 5 + m.body.len() as u64;
            Ok(Some(m))
        }
        Ok(None) => Ok(None),
        Err(e) => Err(Fatal::new("08P01", format!("invalid message from the client: {e}"))),
    }
}

/// The goodbye for a session the gateway ends (revoked access, a replacement's deadline).
fn goodbye(refusal: Refusal, ended: &mut Ended) -> Fatal {
    ended.result = if refusal == Refusal::Restarting { "restarting" } else { "revoked" };
    Fatal::new(refusal.sqlstate(), refusal.to_string())
}

/// A pooled client's session after login.
struct Session {
    /// The role it logged in as.
    user: String,
    tracker: Tracker,
    statements: ClientStatements,
    current: crate::gateway::cancel::Current,
}

/// What ended the inner loop of a lease.
enum Step {
    /// The transaction is over: the connection may go back.
    Settled,
    /// The client said goodbye.
    Terminate,
}

impl Session {
    #[allow(clippy::too_many_arguments)]
    async fn run<C: AsyncRead + AsyncWrite + Unpin, E: Future<Output = Refusal>>(
        &mut self,
        client: &mut C,
        reader: &mut Reader,
        pool: &Arc<Pool>,
        backend: &BackendAddr,
        settings: &PoolSettings,
        held: &mut Option<Lease>,
        ending: &mut Pin<&mut E>,
        ended: &mut Ended,
    ) -> Result<(), Fatal> {
        let mut to_client = Vec::new();
        loop {
            // Between transactions: wait for the client, holding no server connection (in
            // transaction mode), or reading what its own server sends meanwhile (in session
            // mode: a notification after LISTEN, a notice, a changed parameter).
            let m = tokio::select! {
                m = self.next_client(client, reader, ended) => match m? {
                    Some(m) => m,
                    None => return Ok(()),
                },
                more = from_own_server(held) => {
                    let outcome = self.forward_idle(more, held, &mut to_client);
                    write(client, &to_client, ended).await?;
                    to_client.clear();
                    outcome?;
                    continue;
                }
                refusal = ending.as_mut() => return Err(goodbye(refusal, ended)),
            };
            if m.tag == b'X' {
                return Ok(());
            }
            if held.is_none() && !self.tracker.needs_server(&m) {
                let mut discard = Vec::new();
                let mut none = super::track::ServerSession::default();
                self.client(m, &mut none, &mut discard, &mut to_client)?;
                write(client, &to_client, ended).await?;
                to_client.clear();
                continue;
            }
            if held.is_none() {
                *held = Some(Box::pin(acquire(pool, backend, settings, self.tracker.settings())).await?);
            }
            let lease = held.as_mut().expect("acquired above");
            *self.current.lock().unwrap_or_else(|e| e.into_inner()) = Some(lease.conn().target.clone());
            // Boxed: an idle client holds only what waiting for its next message needs.
            let step = Box::pin(self.transaction(client, reader, lease, m, ending, ended)).await?;
            match step {
                Step::Terminate => return Ok(()),
                Step::Settled => {
                    if self.tracker.needs_check() {
                        // The reserved client may have ended its state, or a DO or CALL may
                        // have left some: the server tells (and what it sends meanwhile is the
                        // client's).
                        let held_state =
                            lease.conn().holds_state(&self.user, self.tracker.told_pid(), &mut to_client).await;
                        write(client, &to_client, ended).await?;
                        to_client.clear();
                        let held_state = held_state
                            .map_err(|_| Fatal::new("08006", "the tenant's database closed the connection"))?;
                        self.tracker.checked(held_state);
                    }
                    // The connection goes back unless it is the client's own: session mode, or
                    // state that outlives the transaction in auto mode.
                    if settings.mode != PoolMode::Session && self.tracker.reserved().is_none() {
                        *self.current.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        if let Some(lease) = held.take() {
                            let clean = !self.tracker.take_tainted();
                            if !clean {
                                tracing::warn!(
                                    "a DO block or procedure left session state on a server connection in transaction mode: the connection is closed rather than shared"
                                );
                            }
                            lease.release(clean);
                        }
                    }
                }
            }
        }
    }

    /// Passes on what the held server sent while its client was idle (`more`: the outcome of
    /// [`from_own_server`]); a server that hung up ends the session: the client must never be
    /// handed another backend without the state it had on this one.
    fn forward_idle(
        &mut self,
        more: Result<bool, msg::ReadError>,
        held: &mut Option<Lease>,
        to_client: &mut Vec<u8>,
    ) -> Result<(), Fatal> {
        let lost = || Fatal::new("08006", "the tenant's database closed the connection");
        let conn = held.as_mut().ok_or_else(lost)?.conn();
        if !matches!(more, Ok(true)) {
            self.tracker.reset();
            return Err(lost());
        }
        while let Some(m) = conn.reader.buffered().map_err(|_| lost())? {
            self.tracker.server_message(m, &mut conn.session, to_client);
        }
        // The server ends the session (FATAL while the client is idle: a terminated backend):
        // the client gets the error, and then the end of the connection, as from its own server.
        if self.tracker.server_ended() {
            self.tracker.reset();
            return Err(lost());
        }
        Ok(())
    }

    /// The client's next message; `None` when it hung up.
    async fn next_client<C: AsyncRead + Unpin>(
        &mut self,
        client: &mut C,
        reader: &mut Reader,
        ended: &mut Ended,
    ) -> Result<Option<Message>, Fatal> {
        match reader.next(client).await {
            Ok(Some(m)) => {
                ended.bytes.0 += 5 + m.body.len() as u64;
                Ok(Some(m))
            }
            Ok(None) | Err(msg::ReadError::Io(_)) => Ok(None),
            Err(e) => Err(Fatal::new("08P01", format!("invalid message from the client: {e}"))),
        }
    }

    fn client(
        &mut self,
        m: Message,
        server: &mut super::track::ServerSession,
        to_server: &mut Vec<u8>,
        to_client: &mut Vec<u8>,
    ) -> Result<ClientEvent, Fatal> {
        self.tracker.client_message(m, &mut self.statements, server, to_server, to_client).map_err(|e| match e {
            super::track::TrackError::TooManyStatements => Fatal::new("54000", e.to_string()),
            e => Fatal::new("08P01", e.to_string()),
        })
    }

    /// Runs the client's messages from `first` on the leased connection until the replies are
    /// settled at ReadyForQuery outside a transaction (or the client leaves).
    async fn transaction<C: AsyncRead + AsyncWrite + Unpin, E: Future<Output = Refusal>>(
        &mut self,
        client: &mut C,
        reader: &mut Reader,
        lease: &mut Lease,
        first: Message,
        ending: &mut Pin<&mut E>,
        ended: &mut Ended,
    ) -> Result<Step, Fatal> {
        let lost = || Fatal::new("08006", "the tenant's database closed the connection");
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        let mut pending = Some(first);
        let mut terminate = false;
        loop {
            // Everything the client has sent so far goes out in one write.
            let conn = lease.conn();
            while let Some(m) = pending.take() {
                if self.client(m, &mut conn.session, &mut to_server, &mut to_client)? == ClientEvent::Terminate {
                    terminate = true;
                    break;
                }
                pending = buffered(reader, ended)?;
            }
            if !to_server.is_empty() {
                conn.stream.write_all(&to_server).await.map_err(|_| lost())?;
                to_server.clear();
            }
            write(client, &to_client, ended).await?;
            to_client.clear();
            if terminate {
                return Ok(Step::Terminate);
            }
            if self.tracker.settled() && self.tracker.status() == b'I' {
                return Ok(Step::Settled);
            }
            tokio::select! {
                // Between messages: the goodbye goes out whole, after what was written.
                refusal = ending.as_mut() => return Err(goodbye(refusal, ended)),
                more = conn.reader.fill(&mut conn.stream) => {
                    if !matches!(more, Ok(true)) {
                        self.tracker.reset();
                        return Err(lost());
                    }
                    let mut ready = None;
                    loop {
                        match conn.reader.buffered() {
                            Ok(Some(m)) => {
                                if let Some(status) = self.tracker.server_message(m, &mut conn.session, &mut to_client) {
                                    ready = Some(status);
                                }
                            }
                            Ok(None) => break,
                            Err(_) => return Err(lost()),
                        }
                    }
                    write(client, &to_client, ended).await?;
                    to_client.clear();
                    if ready == Some(b'I') && self.tracker.settled() {
                        return Ok(Step::Settled);
                    }
                }
                more = reader.fill(client) => {
                    match more {
                        Ok(true) => {}
                        // The client left mid-transaction: the connection is not shared again.
                        _ => return Ok(Step::Terminate),
                    }
                    pending = buffered(reader, ended)?;
                }
            }
        }
    }
}
