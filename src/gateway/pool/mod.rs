//! The pooled endpoint `TENANT-pooler`: many clients share a few server connections per
//! tenant, role and database, inside the gateway (no process per tenant).
//!
//! - [`auth`]: the gateway authenticates pooled clients itself (SCRAM-SHA-256, with channel
//!   binding over TLS), against the verifier in the tenant's `pg_authid`.
//! - [`server`]: server connections log in with the client's SCRAM ClientKey (the password
//!   never reaches the gateway) and are handed out per transaction or per session.
//! - [`track`]: named prepared statements are renamed and prepared on whichever server
//!   connection serves them; the replies owed to a client are kept in order.
//! - [`guard`]: what transaction pooling cannot do is refused with a clear error (or, in
//!   `auto` mode, reserves the connection for the client).
//! - [`client`]: one pooled client's session, top to bottom.
//! - [`msg`]: the messages after startup, read whole and bounded.

pub mod auth;
pub mod client;
pub mod guard;
pub mod msg;
pub mod parsed;
pub mod server;
pub mod track;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::gateway::backend::BackendAddr;
use crate::gateway::scram::Verifier;
use crate::state::PoolSettings;
use server::{Parameters, ServerConn, ServerError};

/// How often unused server connections are looked at.
const REAP_EVERY: Duration = Duration::from_secs(10);

/// Which clients share a pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Tenant id.
    pub tenant: String,
    /// Role.
    pub user: String,
    /// Database.
    pub database: String,
}

/// Every pool of the gateway, and the verifier lookups.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<Key, Arc<Pool>>>,
    /// Pooled clients per tenant.
    clients: Mutex<HashMap<String, Arc<AtomicUsize>>>,
    /// Verifier lookups.
    pub verifiers: auth::Verifiers,
}

/// A pooled client's place, given back when it leaves.
pub struct ClientSlot(Arc<AtomicUsize>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pools {
    /// The pool of `key`, made on first use.
    pub fn get(&self, key: &Key) -> Arc<Pool> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.entry(key.clone()).or_insert_with(|| Arc::new(Pool::new(key.clone()))).clone()
    }

    /// A place for one more pooled client of `tenant`, unless it has `max` already.
    pub fn admit_client(&self, tenant: &str, max: u32) -> Option<ClientSlot> {
        let count = {
            let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
            clients.entry(tenant.to_string()).or_default().clone()
        };
        if count.fetch_add(1, Ordering::Relaxed) >= max as usize {
            count.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        Some(ClientSlot(count))
    }

    /// Clients holding a reserved connection, by tenant and reason label (only those with any).
    pub fn reserved_by_tenant(
        &self,
    ) -> std::collections::BTreeMap<String, std::collections::BTreeMap<&'static str, usize>> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let mut by = std::collections::BTreeMap::<String, std::collections::BTreeMap<&'static str, usize>>::new();
        for (key, pool) in pools.iter() {
            for (reason, count) in guard::Reason::ALL.iter().zip(&pool.reserved_by) {
                let n = count.load(Ordering::Relaxed);
                if n > 0 {
                    *by.entry(key.tenant.clone()).or_default().entry(reason.label()).or_default() += n;
                }
            }
        }
        by
    }

    /// Server connections in use and the pools' sizes, by tenant (over its roles and databases).
    pub fn usage_by_tenant(&self) -> std::collections::BTreeMap<String, (u32, u32)> {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        let mut by = std::collections::BTreeMap::<String, (u32, u32)>::new();
        for (key, pool) in pools.iter() {
            let entry = by.entry(key.tenant.clone()).or_default();
            entry.0 += pool.in_use.load(Ordering::Relaxed);
            entry.1 += pool.size.load(Ordering::Relaxed);
        }
        by
    }

    /// Server connections open, in use and idle, over all pools.
    pub fn server_connections(&self) -> (usize, usize) {
        let pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.values().fold((0, 0), |(used, idle), p| {
            (used + p.in_use.load(Ordering::Relaxed) as usize, idle + p.idle.lock().map(|i| i.len()).unwrap_or(0))
        })
    }

    /// Closes server connections unused for longer than their pool's idle timeout, drops pools
    /// and client counters nobody uses, and closes idle lookup connections: the gateway's one
    /// pool timer.
    pub async fn reap_forever(self: Arc<Self>, timeout_of: impl Fn(&str) -> Duration) {
        let mut tick = tokio::time::interval(REAP_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.reap(&timeout_of);
            self.verifiers.close_idle();
        }
    }

    /// One round of [`Pools::reap_forever`], but for the lookup connections.
    fn reap(&self, timeout_of: &impl Fn(&str) -> Duration) {
        let now = Instant::now();
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.retain(|key, pool| {
            let timeout = timeout_of(&key.tenant);
            let mut idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner());
            idle.retain(|c| now.duration_since(c.idle_since) < timeout);
            !idle.is_empty() || pool.in_use.load(Ordering::Relaxed) > 0 || Arc::strong_count(pool) > 1
        });
        // A tenant's client counter with no client holding it (a removed tenant, say).
        self.clients.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, count| Arc::strong_count(count) > 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_counters_go_with_their_last_client() {
        let pools = Pools::default();
        let a = pools.admit_client("a", 1).unwrap();
        assert!(pools.admit_client("a", 1).is_none(), "over the limit");
        let b = pools.admit_client("b", 5).unwrap();
        drop(b);
        pools.reap(&|_| Duration::from_secs(60));
        let left: Vec<String> = pools.clients.lock().unwrap().keys().cloned().collect();
        assert_eq!(left, ["a"]);
        drop(a);
        pools.reap(&|_| Duration::from_secs(60));
        assert!(pools.clients.lock().unwrap().is_empty());
        assert!(pools.admit_client("a", 1).is_some());
    }
}

/// Why no server connection could be had.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Every connection stayed busy for the queue timeout.
    #[error("the pool is exhausted: all {0} server connections stayed busy for {1:?}")]
    Exhausted(u32, Duration),
    /// No client has logged in yet to lend its key (cannot happen after authentication).
    #[error("no credentials for the pool yet")]
    NoLogin,
    /// Connecting or logging in failed.
    #[error(transparent)]
    Server(#[from] ServerError),
}

/// The server connections of one tenant, role and database.
pub struct Pool {
    key: Key,
    permits: Arc<Semaphore>,
    /// Permits the semaphore was sized to (the pool size).
    size: AtomicU32,
    /// Leases out.
    in_use: AtomicU32,
    idle: Mutex<Vec<ServerConn>>,
    /// The ClientKey and verifier server connections log in with.
    login: Mutex<Option<([u8; 32], Verifier)>>,
    /// What the server reported at its last login (shown to clients at theirs).
    params: Mutex<Option<Parameters>>,
    /// Connections reserved for one client each (`auto` mode), in all.
    reserved: AtomicUsize,
    /// The same, by the first reason of each ([`guard::Reason::index`]).
    reserved_by: [AtomicUsize; guard::Reason::ALL.len()],
}

/// A server connection kept for one client of an `auto` pool while it holds session state;
/// counted in its pool until dropped.
pub struct Reservation {
    pool: Arc<Pool>,
    /// Why (the first statement that made the connection the client's own).
    pub reason: guard::Reason,
}

impl std::fmt::Debug for Reservation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reservation").field("reason", &self.reason).finish_non_exhaustive()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.pool.reserved.fetch_sub(1, Ordering::Relaxed);
        self.pool.reserved_by[self.reason.index()].fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pool {
    fn new(key: Key) -> Self {
        Self {
            key,
            permits: Arc::new(Semaphore::new(0)),
            size: AtomicU32::new(0),
            in_use: AtomicU32::new(0),
            idle: Mutex::default(),
            login: Mutex::default(),
            params: Mutex::default(),
            reserved: AtomicUsize::new(0),
            reserved_by: Default::default(),
        }
    }

    /// Reserves a connection for a client for `reason`, unless `limit` are reserved already.
    pub fn reserve(self: &Arc<Self>, reason: guard::Reason, limit: usize) -> Option<Reservation> {
        if self.reserved.fetch_add(1, Ordering::Relaxed) >= limit {
            self.reserved.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        self.reserved_by[reason.index()].fetch_add(1, Ordering::Relaxed);
        Some(Reservation { pool: self.clone(), reason })
    }

    /// Makes the pool `size` connections big (settings change while the gateway runs).
    fn resize(&self, size: u32) {
        let old = self.size.swap(size, Ordering::Relaxed);
        if size > old {
            self.permits.add_permits((size - old) as usize);
        } else if size < old {
            // Permits out now are not taken back; they are forgotten as they return.
            let mut owed = (old - size) as usize;
            owed -= self.permits.forget_permits(owed);
            if owed > 0 {
                let permits = self.permits.clone();
                tokio::spawn(async move {
                    if let Ok(p) = permits.acquire_many_owned(owed as u32).await {
                        p.forget();
                    }
                });
            }
        }
    }

    /// Records the credentials the latest client authenticated with.
    pub fn set_login(&self, client_key: [u8; 32], verifier: Verifier) {
        let mut login = self.login.lock().unwrap_or_else(|e| e.into_inner());
        if login.as_ref().is_some_and(|(_, v)| *v != verifier) {
            // The password changed: connections logged in with the old one stay valid, but
            // new ones must use the new key.
            self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        *login = Some((client_key, verifier));
    }

    /// The server's ParameterStatus values, once a connection has logged in.
    pub fn params(&self) -> Option<Parameters> {
        self.params.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A server connection: an idle one, or a new one while the pool has room, waiting up to
    /// the queue timeout for one to be returned.
    pub async fn acquire(self: &Arc<Self>, addr: &BackendAddr, settings: &PoolSettings) -> Result<Lease, PoolError> {
        if self.size.load(Ordering::Relaxed) != settings.size {
            self.resize(settings.size);
        }
        let wait = Duration::from_secs(settings.queue_timeout_secs);
        let permit = match tokio::time::timeout(wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => return Err(PoolError::Exhausted(settings.size, wait)),
        };
        let reused = loop {
            let conn = {
                // The newest idle connection made on this thread, else the newest of all.
                let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                let here = std::thread::current().id();
                match idle.iter().rposition(|c| c.home == here) {
                    Some(i) => Some(idle.remove(i)),
                    None => idle.pop(),
                }
            };
            match conn {
                Some(c) if c.alive() => break Some(c),
                Some(_) => continue,
                None => break None,
            }
        };
        let conn = match reused {
            Some(c) => c,
            None => {
                let (key, verifier) =
                    self.login.lock().unwrap_or_else(|e| e.into_inner()).clone().ok_or(PoolError::NoLogin)?;
                let (conn, params) = server::connect(addr, &self.key, key, &verifier).await?;
                *self.params.lock().unwrap_or_else(|e| e.into_inner()) = Some(params);
                conn
            }
        };
        self.in_use.fetch_add(1, Ordering::Relaxed);
        Ok(Lease { pool: self.clone(), conn: Some(conn), _permit: permit })
    }
}

/// A server connection lent to one client.
pub struct Lease {
    pool: Arc<Pool>,
    conn: Option<ServerConn>,
    _permit: OwnedSemaphorePermit,
}

impl Lease {
    /// The connection.
    pub fn conn(&mut self) -> &mut ServerConn {
        self.conn.as_mut().expect("a lease holds its connection until released")
    }

    /// Gives the connection back to the pool (`reusable`: it is idle and in a known state),
    /// or closes it.
    pub fn release(mut self, reusable: bool) {
        if let Some(mut conn) = self.conn.take()
            && reusable
            && !conn.session.full()
        {
            conn.idle_since = Instant::now();
            self.pool.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.pool.in_use.fetch_sub(1, Ordering::Relaxed);
    }
}
