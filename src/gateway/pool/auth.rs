//! Authentication of pooled clients: the gateway is their server. It looks up the role's SCRAM
//! verifier in the tenant's own `pg_authid` (as pgbouncer's `auth_query` does), over one
//! connection per tenant as its superuser, which pgs created and whose password it keeps. A
//! verifier found is reused for [`VERIFIER_TTL`] (a burst of logins costs the tenant one lookup)
//! and forgotten when a login fails, so a changed password applies at the next login after
//! that, or at the retry of one that failed. The exchange offers SCRAM-SHA-256-PLUS (channel
//! binding to the gateway's certificate) over TLS.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::msg::{self, Fields, Reader};
use crate::gateway::backend::BackendAddr;
use crate::gateway::scram::{SCRAM_SHA_256, SCRAM_SHA_256_PLUS, ServerExchange, Verifier};
use crate::state::{StateDir, TenantId};

/// How long a lookup connection is kept unused.
const LOOKUP_IDLE: Duration = Duration::from_secs(60);
/// How long a verifier looked up is reused.
pub const VERIFIER_TTL: Duration = Duration::from_millis(500);
/// Verifiers kept at most (all are dropped past that).
const MAX_CACHED: usize = 10_000;

/// How long one lookup may take.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to authenticate.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(30);

/// The query that finds a role's verifier (none for a role that may not log in now).
const VERIFIER_QUERY: &str = "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1 AND rolcanlogin \
    AND (rolvaliduntil IS NULL OR rolvaliduntil > now())";

/// One lookup connection per tenant, opened on demand, closed when unused. Each tenant's is
/// locked on its own: a slow tenant delays only its own clients' logins.
#[derive(Default)]
pub struct Verifiers {
    conns: std::sync::Mutex<HashMap<String, Arc<Slot>>>,
    /// Recent answers, by tenant and role.
    recent: std::sync::Mutex<HashMap<(String, String), Answer>>,
}

/// A verifier looked up (`None`: no such login role) and when.
type Answer = (Option<Verifier>, Instant);

/// A tenant's lookup connection, its prepared lookup, and when it was last used.
type Slot = tokio::sync::Mutex<Option<(tokio_postgres::Client, tokio_postgres::Statement, Instant)>>;

/// Why a verifier could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// pgs has no superuser password for the tenant (an adopted tenant).
    #[error("no superuser password is stored for the tenant")]
    NoSecret,
    /// The tenant's database did not answer.
    #[error("{0}")]
    Database(String),
}

impl Verifiers {
    /// The verifier of `role` in `tenant`'s database (`None`: no such role, it may not log
    /// in, or its password is not a SCRAM verifier).
    pub async fn lookup(
        &self,
        state: &StateDir,
        tenant: &str,
        addr: &BackendAddr,
        role: &str,
    ) -> Result<Option<Verifier>, LookupError> {
        let key = (tenant.to_string(), role.to_string());
        if let Some((verifier, at)) = self.recent.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && at.elapsed() < VERIFIER_TTL
        {
            return Ok(verifier.clone());
        }
        let found = async {
            let slot =
                self.conns.lock().unwrap_or_else(|e| e.into_inner()).entry(tenant.to_string()).or_default().clone();
            let mut conn = slot.lock().await;
            let now = Instant::now();
            if conn.as_ref().is_none_or(|(c, _, _)| c.is_closed()) {
                let opened = tokio::time::timeout(LOOKUP_TIMEOUT, async {
                    let client = open(state, tenant, addr).await?;
                    // Prepared once per connection: a login costs the tenant one execution.
                    let statement =
                        client.prepare(VERIFIER_QUERY).await.map_err(|e| LookupError::Database(e.to_string()))?;
                    Ok::<_, LookupError>((client, statement))
                })
                .await
                .map_err(|_| LookupError::Database("timed out".into()))??;
                *conn = Some((opened.0, opened.1, now));
            }
            let Some((client, statement, used)) = conn.as_mut() else {
                return Err(LookupError::Database("no lookup connection".into()));
            };
            *used = now;
            let rows = tokio::time::timeout(LOOKUP_TIMEOUT, client.query(&*statement, &[&role]))
                .await
                .map_err(|_| LookupError::Database("timed out".into()))
                .and_then(|r| r.map_err(|e| LookupError::Database(e.to_string())));
            match rows {
                Ok(rows) => {
                    Ok(rows.first().and_then(|r| r.get::<_, Option<String>>(0)).and_then(|v| Verifier::parse(&v)))
                }
                Err(e) => {
                    *conn = None;
                    Err(e)
                }
            }
        }
        .await?;
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if recent.len() >= MAX_CACHED {
            recent.clear();
        }
        recent.insert(key, (found.clone(), Instant::now()));
        Ok(found)
    }

    /// Forgets what was looked up for `role` of `tenant` (its login failed: the password may
    /// have changed).
    pub fn forget(&self, tenant: &str, role: &str) {
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).remove(&(tenant.to_string(), role.to_string()));
    }

    /// Closes lookup connections unused for a while (called by the gateway's one pool timer).
    pub fn close_idle(&self) {
        let now = Instant::now();
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, (_, at)| at.elapsed() < VERIFIER_TTL);
        let mut conns = self.conns.lock().unwrap_or_else(|e| e.into_inner());
        conns.retain(|_, slot| match slot.try_lock() {
            Ok(mut conn) => {
                if conn.as_ref().is_some_and(|(c, _, used)| c.is_closed() || now.duration_since(*used) >= LOOKUP_IDLE) {
                    *conn = None;
                }
                conn.is_some()
            }
            // In use right now.
            Err(_) => true,
        });
    }
}

async fn open(state: &StateDir, tenant: &str, addr: &BackendAddr) -> Result<tokio_postgres::Client, LookupError> {
    let id = TenantId::parse(tenant).map_err(|e| LookupError::Database(e.to_string()))?;
    let secrets = state.secrets(&id).map_err(|e| LookupError::Database(e.to_string()))?;
    let password = secrets.map(|s| s.superuser_password).filter(|p| !p.is_empty()).ok_or(LookupError::NoSecret)?;
    let mut cfg = tokio_postgres::Config::new();
    cfg.user("postgres").dbname("postgres").password(password).application_name("pgs-pooler");
    let stream = addr.connect().await.map_err(|e| LookupError::Database(e.to_string()))?;
    let (client, conn) =
        cfg.connect_raw(stream, tokio_postgres::NoTls).await.map_err(|e| LookupError::Database(e.to_string()))?;
    tokio::spawn(conn);
    Ok(client)
}

/// Why a client's authentication failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong password, unknown role, or a failed channel binding check: 28P01.
    #[error("password authentication failed for user \"{0}\"")]
    Failed(String),
    /// The client broke the protocol: 08P01.
    #[error("{0}")]
    Protocol(String),
    /// The connection failed.
    #[error("connection closed during authentication")]
    Closed,
}

/// Runs the SCRAM exchange with a client as its server. `verifier` is `None` for an unknown
/// role: the exchange then runs against a made-up verifier and fails at the end, as for a
/// wrong password, so that role names cannot be probed. Returns the client's ClientKey.
pub async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut S,
    reader: &mut Reader,
    user: &str,
    verifier: Option<Verifier>,
    cert_hash: Option<&[u8]>,
) -> Result<([u8; 32], Verifier), AuthError> {
    let known = verifier.is_some();
    let verifier = verifier.unwrap_or_else(|| {
        let salt: [u8; 16] = rand::random();
        Verifier::from_password(&crate::state::generate_password(), &salt, 4096)
    });
    let mut mechanisms = Vec::new();
    if cert_hash.is_some() {
        mechanisms.extend_from_slice(SCRAM_SHA_256_PLUS.as_bytes());
        mechanisms.push(0);
    }
    mechanisms.extend_from_slice(SCRAM_SHA_256.as_bytes());
    mechanisms.extend([0, 0]);
    let mut out = Vec::new();
    msg::authentication(10, &mechanisms, &mut out);
    client.write_all(&out).await.map_err(|_| AuthError::Closed)?;

    let protocol = |what: &str| AuthError::Protocol(format!("invalid SASL message: {what}"));
    let m = next(client, reader).await?;
    if m.tag != b'p' {
        return Err(protocol("expected SASLInitialResponse"));
    }
    let mut f = Fields::new(&m.body);
    let mechanism = f.cstr().and_then(|m| std::str::from_utf8(m).ok()).ok_or_else(|| protocol("mechanism"))?;
    let len = f.i32().ok_or_else(|| protocol("length"))?;
    let data = f.rest();
    if len < 0 || len as usize != data.len() {
        return Err(protocol("length"));
    }
    let failed = || AuthError::Failed(user.to_string());
    let (exchange, server_first) = match ServerExchange::start(mechanism, data, verifier.clone(), cert_hash) {
        Ok(x) => x,
        Err(crate::gateway::scram::ScramError::Malformed(w)) => return Err(protocol(w)),
        Err(_) => return Err(failed()),
    };
    out.clear();
    msg::authentication(11, server_first.as_bytes(), &mut out);
    client.write_all(&out).await.map_err(|_| AuthError::Closed)?;
    let m = next(client, reader).await?;
    if m.tag != b'p' {
        return Err(protocol("expected SASLResponse"));
    }
    let (server_final, client_key) = match exchange.finish(&m.body) {
        Ok(x) if known => x,
        Ok(_)
        | Err(crate::gateway::scram::ScramError::WrongProof | crate::gateway::scram::ScramError::ChannelBinding) => {
            return Err(failed());
        }
        Err(e) => return Err(AuthError::Protocol(e.to_string())),
    };
    out.clear();
    msg::authentication(12, server_final.as_bytes(), &mut out);
    client.write_all(&out).await.map_err(|_| AuthError::Closed)?;
    Ok((client_key, verifier))
}

async fn next<S: AsyncRead + Unpin>(client: &mut S, reader: &mut Reader) -> Result<msg::Message, AuthError> {
    match reader.next(client).await {
        Ok(Some(m)) => Ok(m),
        Ok(None) | Err(msg::ReadError::Io(_)) => Err(AuthError::Closed),
        Err(e) => Err(AuthError::Protocol(e.to_string())),
    }
}
