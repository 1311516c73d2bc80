//! What the pooler tracks between a client and the server connection serving it: named
//! prepared statements, renamed so that any server connection can serve them, and the replies
//! still owed to the client, in order.
//!
//! A client's `Parse` of statement `s1` becomes a `Parse` of `pgs_HASH` (a hash of the query
//! text and parameter types, so equal statements of different clients share one server-side
//! statement). A server connection that already has `pgs_HASH` is not asked again: the client
//! gets a ParseComplete of the pooler's own, in its place among the replies. A `Bind` or
//! `Describe` of `s1` on a server connection that lacks it first gets the `Parse` injected (and
//! its ParseComplete swallowed). `Close` of `s1` forgets the name for this client only. Every
//! message the client sends that the server answers is queued as an [`Op`]; server replies
//! complete them in order, and the pooler's own replies are sent when their turn comes.
//!
//! All input is untrusted: malformed messages are errors, sizes are bounded.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use bytes::Bytes;

use super::guard::{self, Reason};
use super::msg::{self, Fields, Message};
use super::{Pool, Reservation};

/// Named statements one client may hold at once.
pub const MAX_CLIENT_STATEMENTS: usize = 1000;
/// Bytes of statement text one client may hold at once.
pub const MAX_CLIENT_STATEMENT_BYTES: usize = 8 * 1024 * 1024;
/// Statements a server connection may hold; past that it is closed instead of returned.
pub const MAX_SERVER_STATEMENTS: usize = 2000;

/// A client's prepared statement.
#[derive(Debug)]
struct Statement {
    /// The name on server connections.
    server_name: Arc<str>,
    /// The Parse body after the name: query text and parameter types.
    rest: Bytes,
}

/// The statements a client prepared, by the client's names.
#[derive(Debug, Default)]
pub struct ClientStatements {
    by_name: HashMap<Vec<u8>, Arc<Statement>>,
    bytes: usize,
}

/// What one server connection holds beyond a fresh login: statements prepared on it (by
/// server-side name) and settings applied to it (name to SQL value).
#[derive(Debug, Default)]
pub struct ServerSession {
    /// The backend's process id (0: unknown).
    pub pid: u32,
    names: HashSet<Arc<str>>,
    /// Settings SET on the connection (by the pooler for a client, or by a client).
    pub applied: BTreeMap<String, String>,
}

impl ServerSession {
    /// The session of a new connection to backend `pid`.
    pub fn new(pid: u32) -> Self {
        Self { pid, ..Self::default() }
    }

    /// Too many to keep the connection: close it rather than return it to the pool.
    pub fn full(&self) -> bool {
        self.names.len() > MAX_SERVER_STATEMENTS
    }

    /// Forgets everything (after `DISCARD ALL`).
    pub fn clear(&mut self) {
        self.names.clear();
        self.applied.clear();
    }
}

/// A reply the client is owed.
#[derive(Debug)]
enum Op {
    /// A server reply that completes one client message.
    Expect {
        kind: Kind,
        /// Send it on to the client (false: the pooler's own injected Parse).
        forward: bool,
        /// A Parse of this server-side statement: known prepared once it completes.
        prepares: Option<Arc<str>>,
    },
    /// The pooler's own reply, sent when all before it are.
    Own(Vec<u8>),
}

/// Which client message an [`Op::Expect`] stands for, by what completes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// ParseComplete.
    Parse,
    /// BindComplete.
    Bind,
    /// CloseComplete.
    Close,
    /// RowDescription or NoData.
    Describe,
    /// CommandComplete, EmptyQueryResponse or PortalSuspended.
    Execute,
    /// ReadyForQuery after Sync (an error skips to it).
    Sync,
    /// ReadyForQuery after a simple Query or FunctionCall (errors do not skip).
    Simple,
}

/// Why a client message cannot be served.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TrackError {
    /// Not a message a client sends at this point, or malformed.
    #[error("invalid message from the client: {0}")]
    Protocol(&'static str),
    /// Too many prepared statements (or too much text) for one pooled client.
    #[error("too many prepared statements for one pooled client (at most {MAX_CLIENT_STATEMENTS}): close some")]
    TooManyStatements,
}

/// What the client sends that the tracker does not forward.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientEvent {
    /// Forwarded or answered: carry on.
    Continue,
    /// Terminate: the client is leaving.
    Terminate,
}

/// The replies owed to one client and the state needed to produce them.
#[derive(Debug)]
pub struct Tracker {
    ops: VecDeque<Op>,
    /// After a refused Parse, client messages are dropped until Sync (as PostgreSQL does after
    /// an error).
    skipping: bool,
    /// Transaction status of the last ReadyForQuery.
    status: u8,
    /// Look for what outlives a transaction (false in session mode).
    guarded: bool,
    /// In `auto` mode: where a reservation is counted instead of refusing.
    reserving: Option<Reserving>,
    /// The connection is this client's own until it leaves or ends its state, and why (`auto`
    /// mode).
    reservation: Option<Reservation>,
    /// Every reason seen while reserved ([`Reason::index`] bits).
    reasons: u16,
    /// Since the last look, the reserved client sent what may have ended its state, or got an
    /// error (which rolls back what its transaction did).
    maybe_released: bool,
    /// The direct endpoint, named in refusals.
    direct: Arc<str>,
    /// The client's settings (name to SQL value): its startup parameters, then what it SET.
    settings: BTreeMap<String, String>,
    /// Its startup parameters (what RESET ALL goes back to).
    startup: BTreeMap<String, String>,
    /// A SET or RESET sent to the server, recorded once the server confirms it.
    pending: Option<guard::SessionCommand>,
    /// The process id the client was told at login (0: its server's own, session mode).
    told_pid: u32,
    /// The transaction ran a `DO` block or `CALL`: ask the server after it.
    opaque: bool,
    /// See [`Tracker::take_tainted`].
    tainted: bool,
    /// See [`Tracker::server_ended`].
    server_ended: bool,
}

/// Where an `auto` pool counts its reservations, and how many it allows.
pub struct Reserving {
    /// The client's pool.
    pub pool: Arc<Pool>,
    /// Reserved connections the pool allows at once.
    pub limit: usize,
}

impl std::fmt::Debug for Reserving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reserving").field("limit", &self.limit).finish_non_exhaustive()
    }
}

impl Tracker {
    /// A tracker for a client; `guarded` in transaction and `auto` mode, with `reserving` in
    /// `auto` mode only; `direct` is the host name of the tenant's direct endpoint; `startup`
    /// the settings of its startup message (name to SQL value).
    pub fn new(
        guarded: bool,
        reserving: Option<Reserving>,
        direct: Arc<str>,
        startup: BTreeMap<String, String>,
    ) -> Self {
        Self {
            ops: VecDeque::new(),
            skipping: false,
            status: b'I',
            guarded,
            reserving,
            reservation: None,
            reasons: 0,
            maybe_released: false,
            direct,
            settings: startup.clone(),
            startup,
            pending: None,
            told_pid: 0,
            opaque: false,
            tainted: false,
            server_ended: false,
        }
    }

    /// The process id the client was told at login, when it is not its server's: the
    /// client's own notifications then carry it ([`as_told`]).
    pub fn set_told_pid(&mut self, pid: u32) {
        self.told_pid = pid;
    }

    /// Whether the client was passed its server's FATAL error (the server ends the session after
    /// it): a lost server connection then needs no error of the pooler's own, as on the direct
    /// endpoint.
    pub fn server_ended(&self) -> bool {
        self.server_ended
    }

    /// The process id the client was told, when it is not its server's (else 0).
    pub fn told_pid(&self) -> u32 {
        self.told_pid
    }

    /// The settings a server connection must have for this client.
    pub fn settings(&self) -> &BTreeMap<String, String> {
        &self.settings
    }

    /// Nothing owed: the server connection may go back to the pool (if `status` is idle).
    pub fn settled(&self) -> bool {
        self.ops.is_empty()
    }

    /// Transaction status of the last ReadyForQuery (`I`, `T`, `E`).
    pub fn status(&self) -> u8 {
        self.status
    }

    /// Why the server connection is this client's own (`auto` mode), if it is.
    pub fn reserved(&self) -> Option<Reason> {
        self.reservation.as_ref().map(|r| r.reason)
    }

    /// Whether to ask the server ([`guard::STATE_CHECK`]) after this transaction whether the
    /// client holds state of its own: a reserved client may have ended it (and the server can
    /// tell for every reason it had), or a client on a shared connection ran code the parser
    /// cannot see into (`DO`, `CALL`).
    pub fn needs_check(&self) -> bool {
        let releasable = Reason::ALL.iter().all(|r| self.reasons & (1 << r.index()) == 0 || r.checkable());
        match self.reservation {
            Some(_) => self.maybe_released && releasable,
            None => self.opaque,
        }
    }

    /// The server said the client holds state of its own (`held`) or does not. A reserved
    /// connection is shared again when it does not; one that a `DO` or `CALL` left state on
    /// becomes the client's own in `auto` mode (over the limit if need be: the state is there
    /// already), and is closed rather than shared in transaction mode ([`Tracker::take_tainted`]).
    pub fn checked(&mut self, held: bool) {
        let opaque = std::mem::take(&mut self.opaque);
        self.maybe_released = false;
        if self.reservation.is_some() {
            if !held {
                self.reservation = None;
                self.reasons = 0;
            }
            return;
        }
        if held && opaque {
            match &self.reserving {
                Some(reserving) => {
                    self.reservation = reserving.pool.reserve(Reason::Routine, usize::MAX);
                    self.reasons = 1 << Reason::Routine.index();
                }
                None => self.tainted = true,
            }
        }
    }

    /// Whether the server connection holds state of this client's that must not reach another
    /// client (transaction mode, after a `DO` or `CALL`): close it instead of returning it.
    /// Asking clears it (the next connection starts clean).
    pub fn take_tainted(&mut self) -> bool {
        std::mem::take(&mut self.tainted)
    }

    /// Notes a statement text of a reserved client that may end its state.
    fn note_release(&mut self, text: &[u8]) {
        if self.reservation.is_some() && guard::may_release(text) {
            self.maybe_released = true;
        }
    }

    /// Whether a message needs a server connection (or is answered by the pooler alone: a
    /// refusal in transaction mode).
    pub fn needs_server(&self, m: &Message) -> bool {
        let refused_here = self.guarded && self.reserving.is_none() && m.tag == b'Q' && self.refusal(&m.body).is_some();
        m.tag != b'X' && !refused_here
    }

    fn refusal(&self, query_body: &[u8]) -> Option<Reason> {
        let text = query_body.split(|&b| b == 0).next().unwrap_or_default();
        self.assess(text).reason
    }

    /// What `text` does to the session: [`guard::assess`], and a session SET inside a
    /// transaction block (it would outlive the transaction on a shared connection).
    fn assess(&self, text: &[u8]) -> guard::Assessment {
        let mut a = guard::assess(text);
        if a.reason.is_none() && self.status != b'I' && guard::session_command(text).is_some() {
            a.reason = Some(Reason::SetInTransaction);
        }
        a
    }

    /// In transaction and `auto` mode: the error that answers a statement text that would
    /// outlive its transaction and may not ([`Tracker::admit`]); notes code the parser cannot
    /// see into.
    fn screen(&mut self, text: &[u8]) -> Option<Vec<u8>> {
        if !self.guarded {
            return None;
        }
        let a = self.assess(text);
        self.opaque |= a.opaque;
        self.admit(a.reason?)
    }

    /// A statement that outlives its transaction (`reason`): `None` when it may go to the
    /// server (the connection is this client's already, or is reserved for it now), else the
    /// error that answers it (transaction mode, or an `auto` pool at its reservation limit).
    fn admit(&mut self, reason: Reason) -> Option<Vec<u8>> {
        self.reasons |= 1 << reason.index();
        if self.reservation.is_some() {
            return None;
        }
        let Some(reserving) = &self.reserving else {
            return Some(self.refusal_message(reason.describe()));
        };
        match reserving.pool.reserve(reason, reserving.limit) {
            Some(reservation) => {
                self.reservation = Some(reservation);
                self.reasons = 1 << reason.index();
                None
            }
            None => {
                let message = format!(
                    "{} needs a server connection of its own, and the {} that the pooled endpoint may reserve for such clients are all taken",
                    reason.describe(),
                    reserving.limit
                );
                let hint = format!(
                    "Connect to the direct endpoint {} for it, or retry when another client has disconnected.",
                    self.direct
                );
                Some(crate::gateway::errors::error_response("ERROR", "53300", &message, Some(&hint)))
            }
        }
    }

    /// Notes a SET or RESET the client sends, to record once the server confirms it.
    fn watch(&mut self, text: &[u8]) {
        if self.guarded
            && let Some(cmd) = guard::session_command(text)
        {
            self.pending = Some(cmd);
        }
    }

    fn refusal_message(&self, what: &str) -> Vec<u8> {
        let message = format!("{what} is not supported on the pooled endpoint in transaction mode");
        let hint = format!(
            "Connect to the direct endpoint {} for it, or switch the pool to session mode (pgs pool TENANT --mode session).",
            self.direct
        );
        crate::gateway::errors::error_response("ERROR", "0A000", &message, Some(&hint))
    }

    fn push_own(&mut self, reply: Vec<u8>, to_client: &mut Vec<u8>) {
        self.ops.push_back(Op::Own(reply));
        self.flush_own(to_client);
    }

    /// Sends the pooler's own replies that are next in line.
    fn flush_own(&mut self, to_client: &mut Vec<u8>) {
        while let Some(Op::Own(_)) = self.ops.front() {
            if let Some(Op::Own(reply)) = self.ops.pop_front() {
                to_client.extend_from_slice(&reply);
            }
        }
    }

    fn expect(&mut self, kind: Kind) {
        self.ops.push_back(Op::Expect { kind, forward: true, prepares: None });
    }

    /// Makes sure `stmt` is prepared on the server connection, injecting its Parse if not.
    fn ensure(&mut self, stmt: &Statement, server: &mut ServerSession, to_server: &mut Vec<u8>) {
        if server.names.insert(stmt.server_name.clone()) {
            msg::encode(b'P', &msg::with_name(stmt.server_name.as_bytes(), &stmt.rest), to_server);
            self.ops.push_back(Op::Expect {
                kind: Kind::Parse,
                forward: false,
                prepares: Some(stmt.server_name.clone()),
            });
        }
    }

    /// Handles one client message: what goes to the server is appended to `to_server`, replies
    /// of the pooler's own that are due to `to_client`.
    pub fn client_message(
        &mut self,
        m: Message,
        stmts: &mut ClientStatements,
        server: &mut ServerSession,
        to_server: &mut Vec<u8>,
        to_client: &mut Vec<u8>,
    ) -> Result<ClientEvent, TrackError> {
        if self.skipping && !matches!(m.tag, b'S' | b'X') {
            return Ok(ClientEvent::Continue);
        }
        match m.tag {
            b'X' => return Ok(ClientEvent::Terminate),
            b'Q' => {
                let text = m.body.split(|&b| b == 0).next().unwrap_or_default();
                if let Some(mut reply) = self.screen(text) {
                    msg::ready_for_query(if self.status == b'I' { b'I' } else { b'E' }, &mut reply);
                    self.push_own(reply, to_client);
                    return Ok(ClientEvent::Continue);
                }
                if guard::drops_statements(&m.body) {
                    // DEALLOCATE ALL or DISCARD ALL: the server forgets every statement.
                    server.clear();
                }
                self.note_release(text);
                self.watch(text);
                m.encode_into(to_server);
                self.expect(Kind::Simple);
            }
            b'F' => {
                m.encode_into(to_server);
                self.expect(Kind::Simple);
            }
            b'P' => {
                let mut f = Fields::new(&m.body);
                let name = f.cstr().ok_or(TrackError::Protocol("Parse without a name"))?;
                let rest = &m.body[name.len() + 1..];
                let query = Fields::new(rest).cstr().ok_or(TrackError::Protocol("Parse without a query"))?;
                if let Some(reply) = self.screen(query) {
                    self.push_own(reply, to_client);
                    self.skipping = true;
                    return Ok(ClientEvent::Continue);
                }
                self.note_release(query);
                self.watch(query);
                if name.is_empty() || !self.guarded {
                    // Unnamed, or session mode: the connection is the client's alone, so its
                    // statements keep their names (and `pg_prepared_statements` shows them).
                    m.encode_into(to_server);
                    self.expect(Kind::Parse);
                    return Ok(ClientEvent::Continue);
                }
                let stmt =
                    Arc::new(Statement { server_name: server_name(rest).into(), rest: m.body.slice(name.len() + 1..) });
                stmts.insert(name.to_vec(), stmt.clone())?;
                if server.names.contains(&stmt.server_name) {
                    let mut reply = Vec::new();
                    msg::encode(b'1', &[], &mut reply);
                    self.push_own(reply, to_client);
                } else {
                    server.names.insert(stmt.server_name.clone());
                    msg::encode(b'P', &msg::with_name(stmt.server_name.as_bytes(), &stmt.rest), to_server);
                    self.ops.push_back(Op::Expect {
                        kind: Kind::Parse,
                        forward: true,
                        prepares: Some(stmt.server_name.clone()),
                    });
                }
            }
            b'B' => {
                let mut f = Fields::new(&m.body);
                let portal = f.cstr().ok_or(TrackError::Protocol("Bind without a portal"))?;
                let name = f.cstr().ok_or(TrackError::Protocol("Bind without a statement"))?;
                match stmts.get(name) {
                    Some(stmt) => {
                        self.ensure(&stmt, server, to_server);
                        let mut body = msg::with_name(portal, stmt.server_name.as_bytes());
                        body.push(0);
                        body.extend_from_slice(f.rest());
                        msg::encode(b'B', &body, to_server);
                    }
                    // Unnamed, or unknown (the server says it does not exist, by the client's name).
                    None => m.encode_into(to_server),
                }
                self.expect(Kind::Bind);
            }
            b'D' => {
                let mut f = Fields::new(&m.body);
                let kind = f.byte().ok_or(TrackError::Protocol("Describe without a kind"))?;
                let name = f.cstr().ok_or(TrackError::Protocol("Describe without a name"))?;
                match (kind, stmts.get(name)) {
                    (b'S', Some(stmt)) => {
                        self.ensure(&stmt, server, to_server);
                        let mut body = vec![b'S'];
                        body.extend_from_slice(stmt.server_name.as_bytes());
                        body.push(0);
                        msg::encode(b'D', &body, to_server);
                    }
                    _ => m.encode_into(to_server),
                }
                self.expect(Kind::Describe);
            }
            b'C' => {
                let mut f = Fields::new(&m.body);
                let kind = f.byte().ok_or(TrackError::Protocol("Close without a kind"))?;
                let name = f.cstr().ok_or(TrackError::Protocol("Close without a name"))?;
                if kind == b'S' && !name.is_empty() && self.guarded {
                    // Forgotten for this client; the server keeps it for others.
                    stmts.remove(name);
                    let mut reply = Vec::new();
                    msg::encode(b'3', &[], &mut reply);
                    self.push_own(reply, to_client);
                } else {
                    m.encode_into(to_server);
                    self.expect(Kind::Close);
                }
            }
            b'E' => {
                m.encode_into(to_server);
                self.expect(Kind::Execute);
            }
            b'S' => {
                self.skipping = false;
                m.encode_into(to_server);
                self.expect(Kind::Sync);
            }
            // Flush, and COPY data from the client: no reply of their own.
            b'H' | b'd' | b'c' | b'f' => m.encode_into(to_server),
            _ => return Err(TrackError::Protocol("unexpected message type")),
        }
        Ok(ClientEvent::Continue)
    }

    /// Handles one server message, appending what the client gets to `to_client`. Returns the
    /// transaction status of a ReadyForQuery.
    pub fn server_message(
        &mut self,
        mut m: Message,
        server: &mut ServerSession,
        to_client: &mut Vec<u8>,
    ) -> Option<u8> {
        as_told(&mut m, server.pid, self.told_pid);
        let mut forward = true;
        let mut ready = None;
        let completes = |kind: Kind| match m.tag {
            b'1' => kind == Kind::Parse,
            b'2' => kind == Kind::Bind,
            b'3' => kind == Kind::Close,
            b'T' | b'n' => kind == Kind::Describe,
            b'C' | b'I' | b's' => kind == Kind::Execute,
            b'Z' => matches!(kind, Kind::Sync | Kind::Simple),
            _ => false,
        };
        match self.ops.front() {
            Some(Op::Expect { kind, .. }) if completes(*kind) => {
                if let Some(Op::Expect { forward: f, .. }) = self.ops.pop_front() {
                    forward = f;
                }
            }
            Some(Op::Expect { kind, .. }) if m.tag == b'E' && *kind != Kind::Simple => {
                // An error in the extended protocol: the server skips to Sync, and so do the
                // replies owed (statements whose Parse was skipped are not prepared).
                while let Some(op) = self.ops.front() {
                    if matches!(op, Op::Expect { kind: Kind::Sync, .. }) {
                        break;
                    }
                    if let Some(Op::Expect { prepares: Some(name), .. }) = self.ops.pop_front() {
                        server.names.remove(&name);
                    }
                }
            }
            _ => {}
        }
        match m.tag {
            // The server confirms a SET or RESET: from now on it is the client's setting.
            b'C' if m.body.starts_with(b"SET\0") || m.body.starts_with(b"RESET\0") => {
                if let Some(cmd) = self.pending.take() {
                    self.record(cmd, server);
                }
            }
            b'E' => {
                self.pending = None;
                self.server_ended |= super::server::ends_session(&m.body);
                // An error rolls back what the transaction did (a LISTEN, a temporary table).
                self.maybe_released |= self.reservation.is_some();
            }
            b'Z' => {
                let status = m.body.first().copied().unwrap_or(b'I');
                self.status = status;
                self.pending = None;
                ready = Some(status);
            }
            _ => {}
        }
        if forward {
            m.encode_into(to_client);
        }
        self.flush_own(to_client);
        ready
    }

    /// Records a confirmed SET or RESET as the client's, and as the connection's.
    fn record(&mut self, cmd: guard::SessionCommand, server: &mut ServerSession) {
        match cmd {
            guard::SessionCommand::Set { name, value } => {
                self.settings.insert(name.clone(), value.clone());
                server.applied.insert(name, value);
            }
            guard::SessionCommand::Reset(name) => {
                // Back to the startup value, which the connection no longer has.
                self.settings.remove(&name);
                if let Some(v) = self.startup.get(&name) {
                    self.settings.insert(name.clone(), v.clone());
                }
                server.applied.remove(&name);
            }
            guard::SessionCommand::ResetAll => {
                self.settings = self.startup.clone();
                server.applied.clear();
            }
        }
    }

    /// The server connection failed: what the client is owed can no longer come.
    pub fn reset(&mut self) {
        self.ops.clear();
        self.skipping = false;
    }
}

impl ClientStatements {
    fn insert(&mut self, name: Vec<u8>, stmt: Arc<Statement>) -> Result<(), TrackError> {
        let size = name.len() + stmt.rest.len();
        if let Some(old) = self.by_name.get(&name) {
            self.bytes -= name.len() + old.rest.len();
        } else if self.by_name.len() >= MAX_CLIENT_STATEMENTS {
            return Err(TrackError::TooManyStatements);
        }
        if self.bytes + size > MAX_CLIENT_STATEMENT_BYTES {
            return Err(TrackError::TooManyStatements);
        }
        self.bytes += size;
        self.by_name.insert(name, stmt);
        Ok(())
    }

    fn get(&self, name: &[u8]) -> Option<Arc<Statement>> {
        if name.is_empty() { None } else { self.by_name.get(name).cloned() }
    }

    fn remove(&mut self, name: &[u8]) {
        if let Some(old) = self.by_name.remove(name) {
            self.bytes -= name.len() + old.rest.len();
        }
    }
}

/// A notification that the client's own server sent (process id `real`) carries the process id
/// the client was told (`told`, when not 0), so that a listener recognises its own notifications
/// as it would on the direct endpoint.
pub fn as_told(m: &mut Message, real: u32, told: u32) {
    if m.tag == b'A' && told != 0 && real != 0 && m.body.get(..4) == Some(&real.to_be_bytes()[..]) {
        let mut body = m.body.to_vec();
        body[..4].copy_from_slice(&told.to_be_bytes());
        m.body = body.into();
    }
}

/// The server-side name of a statement: `pgs_` and 128 bits of SHA-256 of its text and
/// parameter types.
fn server_name(rest: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, rest);
    let mut name = String::with_capacity(36);
    name.push_str("pgs_");
    for b in &digest.as_ref()[..16] {
        name.push_str(&format!("{b:02x}"));
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(tag: u8, body: &[u8]) -> Message {
        Message { tag, body: Bytes::copy_from_slice(body) }
    }

    fn parse(name: &str, query: &str) -> Message {
        let mut body = msg::with_name(name.as_bytes(), query.as_bytes());
        body.extend([0, 0, 0]);
        m(b'P', &body)
    }

    fn bind(stmt: &str) -> Message {
        let mut body = vec![0];
        body.extend(stmt.as_bytes());
        body.extend([0, 0, 0, 0, 0, 0, 0]);
        m(b'B', &body)
    }

    /// The messages in a buffer, as (tag, body).
    fn split(mut buf: &[u8]) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        while buf.len() >= 5 {
            let len = u32::from_be_bytes(buf[1..5].try_into().unwrap()) as usize;
            out.push((buf[0], buf[5..1 + len].to_vec()));
            buf = &buf[1 + len..];
        }
        out
    }

    fn tags(buf: &[u8]) -> String {
        split(buf).iter().map(|(t, _)| *t as char).collect()
    }

    struct Client {
        t: Tracker,
        stmts: ClientStatements,
    }

    impl Client {
        fn new() -> Self {
            Self {
                t: Tracker::new(true, None, "t1.pgs.test".into(), BTreeMap::new()),
                stmts: ClientStatements::default(),
            }
        }

        /// Sends `msgs`; returns (to server, to client).
        fn send(&mut self, server: &mut ServerSession, msgs: Vec<Message>) -> (Vec<u8>, Vec<u8>) {
            let (mut up, mut down) = (Vec::new(), Vec::new());
            for msg in msgs {
                self.t.client_message(msg, &mut self.stmts, server, &mut up, &mut down).unwrap();
            }
            (up, down)
        }

        /// The server answers `tags` (bodies empty but Z's 'I').
        fn answer(&mut self, server: &mut ServerSession, replies: &str) -> Vec<u8> {
            let mut down = Vec::new();
            for tag in replies.bytes() {
                let body: &[u8] = if tag == b'Z' { b"I" } else { b"" };
                self.t.server_message(m(tag, body), server, &mut down);
            }
            down
        }
    }

    #[test]
    fn a_statement_is_prepared_once_per_server_connection_and_renamed() {
        let mut server = ServerSession::default();
        let mut a = Client::new();
        let (up, down) =
            a.send(&mut server, vec![parse("s1", "SELECT 1"), bind("s1"), m(b'E', b"\0\0\0\0\0"), m(b'S', b"")]);
        assert_eq!(tags(&up), "PBES");
        let sent = split(&up);
        assert!(sent[0].1.starts_with(b"pgs_"), "renamed");
        assert_eq!(&sent[1].1[1..37], &sent[0].1[..36], "Bind names the renamed statement");
        assert!(down.is_empty());
        assert_eq!(tags(&a.answer(&mut server, "12DCZ")), "12DCZ");
        assert!(a.t.settled());

        // Another client, same text, same server connection: no Parse reaches the server, the
        // client still gets its ParseComplete in order.
        let mut b = Client::new();
        let (up, down) =
            b.send(&mut server, vec![parse("other", "SELECT 1"), bind("other"), m(b'E', b"\0\0\0\0\0"), m(b'S', b"")]);
        assert_eq!(tags(&up), "BES");
        assert_eq!(tags(&down), "1");
        assert_eq!(tags(&b.answer(&mut server, "2CZ")), "2CZ");

        // The first client on a fresh server connection: its Bind gets the Parse injected, and
        // the injected ParseComplete is not passed on.
        let mut fresh = ServerSession::default();
        let (up, _) = a.send(&mut fresh, vec![bind("s1"), m(b'E', b"\0\0\0\0\0"), m(b'S', b"")]);
        assert_eq!(tags(&up), "PBES");
        assert_eq!(tags(&a.answer(&mut fresh, "12CZ")), "2CZ");
        assert!(a.t.settled());
    }

    #[test]
    fn own_replies_wait_for_their_turn() {
        let mut server = ServerSession::default();
        let mut a = Client::new();
        a.send(&mut server, vec![parse("s1", "SELECT 1"), m(b'S', b"")]);
        a.answer(&mut server, "1Z");
        // Bind (to the server), then Parse of a known statement (answered by us): our
        // ParseComplete must come after the server's BindComplete.
        let (up, down) = a.send(&mut server, vec![bind("s1"), parse("s2", "SELECT 1"), m(b'S', b"")]);
        assert_eq!(tags(&up), "BS");
        assert!(down.is_empty());
        assert_eq!(tags(&a.answer(&mut server, "2Z")), "21Z");
        // Close of a named statement is answered by us; the server keeps it.
        let (up, down) = a.send(&mut server, vec![m(b'C', b"Ss1\0"), m(b'S', b"")]);
        assert_eq!((tags(&up), tags(&down)), ("S".into(), "3".into()));
        assert!(server.names.len() == 1);
    }

    #[test]
    fn an_error_skips_to_sync_and_unprepares_what_failed() {
        let mut server = ServerSession::default();
        let mut a = Client::new();
        let (up, _) = a.send(&mut server, vec![parse("bad", "SELEC 1"), bind("bad"), m(b'S', b"")]);
        assert_eq!(tags(&up), "PBS");
        assert_eq!(tags(&a.answer(&mut server, "EZ")), "EZ");
        assert!(server.names.is_empty(), "a failed Parse leaves nothing prepared");
        assert!(a.t.settled());
        // The name is still the client's (PostgreSQL would not have it); the next Bind
        // injects the Parse again.
        let (up, _) = a.send(&mut server, vec![bind("bad"), m(b'S', b"")]);
        assert_eq!(tags(&up), "PBS");
    }

    #[test]
    fn refused_statements_get_a_clear_error_in_order() {
        let mut server = ServerSession::default();
        let mut a = Client::new();
        let (up, down) = a.send(&mut server, vec![m(b'Q', b"LISTEN jobs\0")]);
        assert!(up.is_empty());
        let replies = split(&down);
        assert_eq!(tags(&down), "EZ");
        let text = String::from_utf8_lossy(&replies[0].1);
        assert!(text.contains("C0A000") && text.contains("LISTEN") && text.contains("t1.pgs.test"), "{text}");
        // Extended protocol: the error, then nothing until Sync, whose ReadyForQuery comes from
        // the server.
        let (up, down) =
            a.send(&mut server, vec![parse("", "LISTEN jobs"), bind(""), m(b'E', b"\0\0\0\0\0"), m(b'S', b"")]);
        assert_eq!((tags(&up), tags(&down)), ("S".into(), "E".into()));
        assert_eq!(tags(&a.answer(&mut server, "Z")), "Z");
        // In session mode nothing is refused.
        let mut s = Client::new();
        s.t.guarded = false;
        let (up, _) = s.send(&mut server, vec![m(b'Q', b"LISTEN jobs\0")]);
        assert_eq!(tags(&up), "Q");
    }

    #[test]
    fn in_session_mode_statements_keep_their_names_and_close_reaches_the_server() {
        let mut server = ServerSession::default();
        let mut s = Client::new();
        s.t.guarded = false;
        let (up, down) = s.send(&mut server, vec![parse("s1", "SELECT 1"), bind("s1"), m(b'S', b"")]);
        assert_eq!((tags(&up), down.len()), ("PBS".into(), 0));
        assert!(split(&up)[0].1.starts_with(b"s1\0"), "not renamed");
        assert_eq!(tags(&s.answer(&mut server, "12Z")), "12Z");
        let (up, down) = s.send(&mut server, vec![m(b'C', b"Ss1\0"), m(b'S', b"")]);
        assert_eq!((tags(&up), down.len()), ("CS".into(), 0));
        assert_eq!(tags(&s.answer(&mut server, "3Z")), "3Z");
        assert!(s.t.settled());
    }

    #[test]
    fn in_auto_mode_what_outlives_a_transaction_reserves_up_to_the_limit() {
        let pool =
            Arc::new(Pool::new(super::super::Key { tenant: "t1".into(), user: "u".into(), database: "d".into() }));
        let auto = || Client {
            t: Tracker::new(
                true,
                Some(Reserving { pool: pool.clone(), limit: 1 }),
                "t1.pgs.test".into(),
                BTreeMap::new(),
            ),
            stmts: ClientStatements::default(),
        };
        let mut server = ServerSession::default();
        let (mut a, mut b) = (auto(), auto());
        assert!(a.t.needs_server(&m(b'Q', b"LISTEN jobs\0")), "sent, not answered by the pooler");
        let (up, down) = a.send(&mut server, vec![m(b'Q', b"SELECT 1; LISTEN jobs\0")]);
        assert_eq!((tags(&up), down.len()), ("Q".into(), 0));
        assert_eq!(a.t.reserved(), Some(Reason::Listen));
        // Once reserved, everything passes.
        let (up, _) = a.send(&mut server, vec![parse("", "PREPARE p AS SELECT 1")]);
        assert_eq!(tags(&up), "P");
        // The pool's one reservation is taken: another client is told so, with the direct endpoint.
        let (up, down) = b.send(&mut server, vec![m(b'Q', b"SELECT pg_advisory_lock(1)\0")]);
        assert!(up.is_empty());
        let text = String::from_utf8_lossy(&down);
        assert!(text.contains("C53300") && text.contains("advisory lock") && text.contains("t1.pgs.test"), "{text}");
        assert_eq!(b.t.reserved(), None);
        // Plain statements of that client are shared as in transaction mode.
        let (up, _) = b.send(&mut server, vec![m(b'Q', b"SELECT 1\0")]);
        assert_eq!(tags(&up), "Q");
        assert_eq!(pool.reserved_by[Reason::Listen.index()].load(std::sync::atomic::Ordering::Relaxed), 1);
        // The first client leaves: its reservation goes with it.
        drop(a);
        assert_eq!(pool.reserved.load(std::sync::atomic::Ordering::Relaxed), 0);
        let (up, _) = b.send(&mut server, vec![m(b'Q', b"LISTEN x\0")]);
        assert_eq!(tags(&up), "Q");
        assert_eq!(b.t.reserved(), Some(Reason::Listen));
        // What may end the state makes the pooler ask the server; its answer decides.
        assert!(!b.t.needs_check());
        b.send(&mut server, vec![m(b'Q', b"UNLISTEN *\0")]);
        assert!(b.t.needs_check());
        b.t.checked(true);
        assert!(!b.t.needs_check() && b.t.reserved().is_some(), "the server said state is left");
        b.send(&mut server, vec![m(b'Q', b"RESET ROLE\0")]);
        b.t.checked(false);
        assert_eq!((b.t.reserved(), pool.reserved.load(std::sync::atomic::Ordering::Relaxed)), (None, 0));
        // A session SET inside a transaction block cannot be checked: reserved until the end.
        let mut c = auto();
        c.send(&mut server, vec![m(b'Q', b"BEGIN; SET work_mem = '8MB'\0")]);
        assert_eq!(c.t.reserved(), Some(Reason::Set));
        c.send(&mut server, vec![m(b'Q', b"RESET work_mem\0")]);
        assert!(!c.t.needs_check());
        // A DO block is code the parser cannot see into: the server is asked after it, and
        // state left behind reserves the connection, over the limit (it is there already).
        let mut d = auto();
        d.send(&mut server, vec![m(b'Q', b"DO $$BEGIN EXECUTE 'LISTEN x'; END$$\0")]);
        assert!(d.t.needs_check() && d.t.reserved().is_none());
        d.t.checked(true);
        assert_eq!(d.t.reserved(), Some(Reason::Routine));
        assert_eq!(pool.reserved.load(std::sync::atomic::Ordering::Relaxed), 2);
        // In transaction mode the connection is closed instead of shared.
        let mut e = Client::new();
        e.send(&mut server, vec![parse("", "CALL make_temp_table()")]);
        assert!(e.t.needs_check());
        e.t.checked(true);
        assert!(e.t.take_tainted() && !e.t.take_tainted());
        e.send(&mut server, vec![m(b'Q', b"CALL p()\0")]);
        e.t.checked(false);
        assert!(!e.t.take_tainted() && !e.t.needs_check());
    }

    #[test]
    fn a_clients_own_notifications_carry_the_pid_it_was_told() {
        let mut note = m(b'A', b"\0\0\x30\x39jobs\0hi\0");
        as_told(&mut note, 12345, 7);
        assert_eq!(&note.body[..4], &7u32.to_be_bytes());
        let mut other = m(b'A', b"\0\0\x30\x3ajobs\0hi\0");
        as_told(&mut other, 12345, 7);
        assert_eq!(&other.body[..4], &12346u32.to_be_bytes(), "another backend's notification is left alone");
    }

    #[test]
    fn a_session_set_becomes_the_clients_setting_once_the_server_confirms_it() {
        let mut server = ServerSession::default();
        let mut a = Client::new();
        let (up, _) = a.send(&mut server, vec![m(b'Q', b"SET extra_float_digits = 3\0")]);
        assert_eq!(tags(&up), "Q");
        let mut down = Vec::new();
        a.t.server_message(m(b'C', b"SET\0"), &mut server, &mut down);
        a.t.server_message(m(b'Z', b"I"), &mut server, &mut down);
        assert_eq!(a.t.settings().get("extra_float_digits").map(String::as_str), Some("3"));
        assert_eq!(server.applied.get("extra_float_digits").map(String::as_str), Some("3"));
        // A failed SET records nothing.
        a.send(&mut server, vec![m(b'Q', b"SET work_mem = 'lots'\0")]);
        a.t.server_message(m(b'E', b""), &mut server, &mut down);
        a.t.server_message(m(b'Z', b"I"), &mut server, &mut down);
        assert!(!a.t.settings().contains_key("work_mem"));
        // RESET goes back to nothing (no startup value).
        a.send(&mut server, vec![m(b'Q', b"RESET extra_float_digits\0")]);
        a.t.server_message(m(b'C', b"RESET\0"), &mut server, &mut down);
        assert!(a.t.settings().is_empty() && server.applied.is_empty());
        // Inside a transaction block it is refused: it would outlive the transaction.
        a.t.server_message(m(b'Z', b"T"), &mut server, &mut down);
        let (up, down) = a.send(&mut server, vec![m(b'Q', b"SET work_mem = '8MB'\0")]);
        assert!(up.is_empty());
        assert_eq!(tags(&down), "EZ");
    }

    #[test]
    fn statements_per_client_are_bounded() {
        let mut server = ServerSession::default();
        let mut a = Client::new();
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for i in 0..MAX_CLIENT_STATEMENTS {
            a.t.client_message(parse(&format!("s{i}"), "SELECT 1"), &mut a.stmts, &mut server, &mut up, &mut down)
                .unwrap();
        }
        let more = a.t.client_message(parse("one-more", "SELECT 1"), &mut a.stmts, &mut server, &mut up, &mut down);
        assert_eq!(more, Err(TrackError::TooManyStatements));
        // Redefining a name is not one more.
        a.t.client_message(parse("s1", "SELECT 2"), &mut a.stmts, &mut server, &mut up, &mut down).unwrap();
    }

    proptest::proptest! {
        #[test]
        fn any_messages_either_way_never_panic(
            client in proptest::collection::vec((proptest::sample::select(b"QFPBDCESHdcfX?".to_vec()), proptest::collection::vec(proptest::num::u8::ANY, 0..40)), 0..30),
            server in proptest::collection::vec((proptest::sample::select(b"123TnCIsZEtDN".to_vec()), proptest::collection::vec(proptest::num::u8::ANY, 0..8)), 0..30),
        ) {
            let mut statements = ServerSession::default();
            let mut a = Client::new();
            let (mut up, mut down) = (Vec::new(), Vec::new());
            for (tag, body) in client {
                let _ = a.t.client_message(m(tag, &body), &mut a.stmts, &mut statements, &mut up, &mut down);
            }
            for (tag, body) in server {
                a.t.server_message(m(tag, &body), &mut statements, &mut down);
            }
            proptest::prop_assert!(a.stmts.by_name.len() <= MAX_CLIENT_STATEMENTS);
        }
    }
}
