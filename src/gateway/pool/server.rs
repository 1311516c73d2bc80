//! One server connection of a pool: a session of the gateway's own with the tenant's
//! PostgreSQL, logged in as the pooled clients' role with their SCRAM ClientKey.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio_util::either::Either;

use super::msg::{self, Fields, Message, Reader};
use super::track::ServerSession;
use crate::gateway::backend::{BackendAddr, BackendStream};
use crate::gateway::cancel::Target;
use crate::gateway::scram::{ClientKeyLogin, SCRAM_SHA_256, Verifier};

/// How long a login may take.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a server connection could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// PostgreSQL refused: its ErrorResponse, to pass on to the client.
    #[error("the server refused the login")]
    Refused(Message),
    /// The server answered something the protocol does not allow here.
    #[error("unexpected reply from the server: {0}")]
    Protocol(&'static str),
    /// The server's verifier is not the one the client authenticated against (the password
    /// changed meanwhile).
    #[error("the role's password changed")]
    Stale,
    /// No answer in time.
    #[error("the server did not answer in time")]
    Timeout,
}

impl From<msg::ReadError> for ServerError {
    fn from(e: msg::ReadError) -> Self {
        match e {
            msg::ReadError::Io(e) => Self::Io(e),
            msg::ReadError::Length(_) => Self::Protocol("message length"),
        }
    }
}

/// A logged-in server connection.
pub struct ServerConn {
    /// The socket.
    pub stream: BackendStream,
    /// Messages read from it.
    pub reader: Reader,
    /// Where cancels for it go.
    pub target: Target,
    /// Statements prepared on it and settings applied to it.
    pub session: ServerSession,
    /// When it was last returned to the pool.
    pub idle_since: Instant,
    /// The thread whose runtime it was opened on, where its readiness arrives
    /// ([`crate::gateway::workers`]): a client served by that thread is given it first.
    pub home: std::thread::ThreadId,
}

/// What a login reports besides the connection: the server's ParameterStatus values.
pub type Parameters = Vec<(String, String)>;

/// Opens a connection to `addr` and logs in as the pool's role to its database with
/// `client_key`, the ClientKey of `verifier`.
pub async fn connect(
    addr: &BackendAddr,
    pool: &super::Key,
    client_key: [u8; 32],
    verifier: &Verifier,
) -> Result<(ServerConn, Parameters), ServerError> {
    tokio::time::timeout(LOGIN_TIMEOUT, login(addr, pool, client_key, verifier))
        .await
        .map_err(|_| ServerError::Timeout)?
}

async fn login(
    addr: &BackendAddr,
    pool: &super::Key,
    client_key: [u8; 32],
    verifier: &Verifier,
) -> Result<(ServerConn, Parameters), ServerError> {
    let super::Key { tenant, user, database } = pool;
    let mut stream = addr.connect().await?;
    let startup = crate::gateway::frame::Startup {
        version: crate::gateway::frame::PROTOCOL_3_0,
        params: vec![
            ("user".into(), user.clone()),
            ("database".into(), database.clone()),
            ("application_name".into(), "pgs-pooler".into()),
        ],
    };
    stream.write_all(&startup.encode()).await?;
    let mut reader = Reader::new(msg::MAX_SERVER_MESSAGE);
    let mut scram: Option<ClientKeyLogin> = None;
    let mut params = Vec::new();
    let mut key = None;
    loop {
        let m = reader.next(&mut stream).await?.ok_or(ServerError::Protocol("closed during login"))?;
        match m.tag {
            b'R' => {
                let mut f = Fields::new(&m.body);
                let code = f.i32().ok_or(ServerError::Protocol("authentication request"))?;
                let mut out = Vec::new();
                match code {
                    0 => {}
                    10 => {
                        let mut offered = false;
                        while let Some(mech) = f.cstr().filter(|m| !m.is_empty()) {
                            offered |= mech == SCRAM_SHA_256.as_bytes();
                        }
                        if !offered {
                            return Err(ServerError::Protocol("SCRAM-SHA-256 not offered"));
                        }
                        let (login, first) = ClientKeyLogin::new(client_key, verifier);
                        scram = Some(login);
                        let mut body = msg::with_name(SCRAM_SHA_256.as_bytes(), &(first.len() as i32).to_be_bytes());
                        body.extend_from_slice(first.as_bytes());
                        msg::encode(b'p', &body, &mut out);
                    }
                    11 => {
                        let login = scram.as_mut().ok_or(ServerError::Protocol("SASL continue first"))?;
                        let last = login.update(f.rest()).map_err(|_| ServerError::Stale)?;
                        msg::encode(b'p', last.as_bytes(), &mut out);
                    }
                    12 => {
                        let login = scram.take().ok_or(ServerError::Protocol("SASL final first"))?;
                        login.finish(f.rest()).map_err(|_| ServerError::Stale)?;
                    }
                    _ => return Err(ServerError::Protocol("the role does not use SCRAM-SHA-256")),
                }
                if !out.is_empty() {
                    stream.write_all(&out).await?;
                }
            }
            b'S' => {
                let mut f = Fields::new(&m.body);
                if let (Some(k), Some(v)) = (f.cstr(), f.cstr()) {
                    params.push((String::from_utf8_lossy(k).into_owned(), String::from_utf8_lossy(v).into_owned()));
                }
            }
            b'K' => {
                let mut f = Fields::new(&m.body);
                let pid = f.i32().ok_or(ServerError::Protocol("BackendKeyData"))? as u32;
                key = Some((pid, f.rest().to_vec()));
            }
            b'N' => {}
            b'E' => {
                // A wrong proof from a stale verifier reads as a failed password.
                let code = sqlstate(&m.body);
                return Err(if code.as_deref() == Some("28P01") {
                    ServerError::Stale
                } else {
                    ServerError::Refused(m)
                });
            }
            b'Z' => break,
            _ => return Err(ServerError::Protocol("unexpected message during login")),
        }
    }
    let (pid, secret) = key.ok_or(ServerError::Protocol("no BackendKeyData"))?;
    let target = Target { backend: addr.clone(), pid, secret, tenant: tenant.clone() };
    let conn = ServerConn {
        stream,
        reader,
        target,
        session: ServerSession::new(pid),
        idle_since: Instant::now(),
        home: std::thread::current().id(),
    };
    Ok((conn, params))
}

/// The SQLSTATE of an ErrorResponse body.
pub fn sqlstate(body: &[u8]) -> Option<String> {
    field(body, b'C').map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The message of an ErrorResponse body.
pub fn message_text(body: &[u8]) -> String {
    field(body, b'M').map_or_else(|| "the server refused".to_string(), |v| String::from_utf8_lossy(v).into_owned())
}

/// Whether an ErrorResponse body is FATAL or PANIC: the server ends the session after it.
pub fn ends_session(body: &[u8]) -> bool {
    let severity = field(body, b'V').or_else(|| field(body, b'S'));
    matches!(severity, Some(b"FATAL" | b"PANIC"))
}

/// Field `code` of an ErrorResponse or NoticeResponse body.
fn field(body: &[u8], code: u8) -> Option<&[u8]> {
    let mut f = Fields::new(body);
    while let Some(c) = f.byte().filter(|&c| c != 0) {
        let value = f.cstr()?;
        if c == code {
            return Some(value);
        }
    }
    None
}

/// Quotes `s` as an SQL string literal.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Whether `name` is a plain setting name (letters, digits, `_` and `.`).
pub fn is_setting_name(name: &str) -> bool {
    !name.is_empty() && name.len() < 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

impl ServerConn {
    /// Whether the connection is still usable: open, with nothing unread (a server that shut
    /// down sends an error and closes).
    pub fn alive(&self) -> bool {
        if self.reader.has_partial() {
            return false;
        }
        let mut byte = [0u8; 1];
        let read = match &self.stream {
            Either::Left(tcp) => tcp.try_read(&mut byte),
            Either::Right(unix) => unix.try_read(&mut byte),
        };
        matches!(read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    /// Sends `sql` as a simple query and reads to its ReadyForQuery, discarding the replies;
    /// an ErrorResponse is returned.
    async fn run(&mut self, sql: &str) -> Result<(), ServerError> {
        self.exchange(sql, |_| {}).await
    }

    /// Sends `sql` as a simple query and reads to its ReadyForQuery, handing every other reply
    /// to `each`; an ErrorResponse is returned.
    async fn exchange(&mut self, sql: &str, mut each: impl FnMut(Message)) -> Result<(), ServerError> {
        let mut body = sql.as_bytes().to_vec();
        body.push(0);
        let mut out = Vec::new();
        msg::encode(b'Q', &body, &mut out);
        self.stream.write_all(&out).await?;
        let mut error = None;
        loop {
            let m = self.reader.next(&mut self.stream).await?.ok_or(ServerError::Protocol("closed"))?;
            match m.tag {
                b'E' => error = Some(m),
                b'Z' => return error.map_or(Ok(()), |e| Err(ServerError::Refused(e))),
                _ => each(m),
            }
        }
    }

    /// Makes the connection's settings the client's (`wanted`: setting name to an SQL value):
    /// SET what differs, RESET what the client did not ask for (one round trip, only when
    /// something differs).
    pub async fn apply(&mut self, wanted: &BTreeMap<String, String>) -> Result<(), ServerError> {
        if self.session.applied == *wanted {
            return Ok(());
        }
        let mut sql = String::new();
        for (name, value) in wanted {
            if self.session.applied.get(name) != Some(value) {
                sql.push_str(&format!("SET {name} = {value};"));
            }
        }
        for name in self.session.applied.keys().filter(|n| !wanted.contains_key(*n)) {
            sql.push_str(&format!("RESET {name};"));
        }
        self.session.applied.clear();
        tokio::time::timeout(LOGIN_TIMEOUT, self.run(&sql)).await.map_err(|_| ServerError::Timeout)??;
        self.session.applied = wanted.clone();
        Ok(())
    }

    /// Whether the backend still holds state of its client's own ([`super::guard::STATE_CHECK`]
    /// for login role `user`), asked between the client's transactions. What the server sends
    /// meanwhile that the client must get (a notification, a notice, a changed parameter) is
    /// appended to `for_client`. An error or an answer that is not `t` or `f` counts as state
    /// held.
    pub async fn holds_state(
        &mut self,
        user: &str,
        told_pid: u32,
        for_client: &mut Vec<u8>,
    ) -> Result<bool, ServerError> {
        let sql = super::guard::STATE_CHECK.replace("$1", &literal(user));
        let mut held = true;
        let real = self.session.pid;
        let ask = self.exchange(&sql, |mut m| match m.tag {
            // One row, one column: count 1, length 1, the value.
            b'D' => held = m.body.get(..7) != Some(&[0, 1, 0, 0, 0, 1, b'f'][..]),
            b'A' | b'N' | b'S' => {
                super::track::as_told(&mut m, real, told_pid);
                m.encode_into(for_client)
            }
            _ => {}
        });
        match tokio::time::timeout(LOGIN_TIMEOUT, ask).await.map_err(|_| ServerError::Timeout)? {
            // The server refused the question: count it as state held.
            Ok(()) | Err(ServerError::Refused(_)) => Ok(held),
            Err(e) => Err(e),
        }
    }

    /// Resets the session for its next client (session mode): `DISCARD ALL`.
    pub async fn discard(&mut self) -> Result<(), ServerError> {
        self.session.clear();
        tokio::time::timeout(LOGIN_TIMEOUT, self.run("DISCARD ALL")).await.map_err(|_| ServerError::Timeout)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_and_literals() {
        let e = crate::gateway::errors::error_response("FATAL", "28P01", "no", None);
        assert_eq!(sqlstate(&e[5..]).as_deref(), Some("28P01"));
        assert_eq!(sqlstate(b"\0"), None);
        assert_eq!(literal("it's"), "'it''s'");
        assert!(is_setting_name("search_path") && is_setting_name("myapp.user_id"));
        assert!(!is_setting_name("x; DROP") && !is_setting_name(""));
    }
}
