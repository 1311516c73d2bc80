//! Query cancellation across tenants.
//!
//! A client cancels by opening a new connection and sending the process id and secret it got in
//! BackendKeyData. Such a CancelRequest names no tenant (libpq before 17 sends it in plaintext,
//! without SNI), so the gateway must know which backend issued the key.
//!
//! Clients see the backend's **real process id**: they compare it with `pg_backend_pid()`, with
//! the pid in NotificationResponse and pass it to `pg_terminate_backend`, so an invented pid
//! breaks them. Only the **secret** is the gateway's own, and it is the routing key: pids repeat
//! across tenants (each container counts from 1), secrets do not. A gateway secret is
//!
//! ```text
//! [ instance id: 1 byte ][ random: 3 bytes (protocol 3.0) or as long as the backend's secret - 1 ]
//! ```
//!
//! unique among live sessions, and looked up together with the pid. The instance id is 0 for a
//! single gateway; it leaves room for several gateway instances (a replacement overlapping its
//! predecessor, or one gateway per host) to recognise a key that another instance issued and pass
//! the cancel on. A forged, stale or foreign key cancels nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::AsyncWriteExt;

use super::backend::BackendAddr;
use super::frame::CANCEL_REQUEST;

/// Shortest secret the gateway hands out: protocol 3.0's four bytes.
const MIN_SECRET: usize = 4;

/// Where a cancel for one session goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The backend's address.
    pub backend: BackendAddr,
    /// The backend's process id (also the one the client sees).
    pub pid: u32,
    /// The backend's secret.
    pub secret: Vec<u8>,
    /// Tenant (for logs).
    pub tenant: String,
}

/// The server connection a pooled client is using right now (none between transactions):
/// where its cancels go.
pub type Current = Arc<Mutex<Option<Target>>>;

/// What a CancelRequest's key leads to.
#[derive(Debug)]
pub enum Lookup {
    /// A live session of this instance.
    Found(Target),
    /// A pooled client of tenant (the string) that runs nothing at the moment: nothing to cancel.
    Idle(String),
    /// A key of the format another gateway instance issues (`instance` is its id).
    OtherInstance(u8),
    /// No live session has this key.
    Unknown,
}

struct Entry {
    pid: u32,
    dest: Dest,
}

/// Where an entry's cancels go.
enum Dest {
    /// A direct session: one backend for its lifetime.
    Fixed(Target),
    /// A pooled client: whichever server connection serves it at the time.
    Pooled { tenant: String, current: Current },
}

/// The map from the secrets clients hold to the backends' keys.
pub struct CancelMap {
    instance: u8,
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
}

impl Default for CancelMap {
    fn default() -> Self {
        Self::new(0)
    }
}

/// A key handed to a client; the mapping is dropped with it when the session ends.
pub struct ClientKey {
    map: Arc<CancelMap>,
    /// Process id the client sees: the backend's own.
    pub pid: u32,
    /// Secret the client sees: the gateway's routing key.
    pub secret: Vec<u8>,
}

impl ClientKey {
    /// The BackendKeyData message that carries this key to the client.
    pub fn backend_key_data(&self) -> Vec<u8> {
        let mut msg = Vec::with_capacity(13 + self.secret.len());
        msg.push(b'K');
        msg.extend(((8 + self.secret.len()) as u32).to_be_bytes());
        msg.extend(self.pid.to_be_bytes());
        msg.extend(&self.secret);
        msg
    }
}

impl Drop for ClientKey {
    fn drop(&mut self) {
        if let Ok(mut e) = self.map.entries.lock() {
            e.remove(&self.secret);
        }
    }
}

/// Compares without an early exit (the time taken says nothing about where they differ).
pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl CancelMap {
    /// A map for the gateway instance `instance` (0 when there is one gateway).
    pub fn new(instance: u8) -> Self {
        Self { instance, entries: Mutex::default() }
    }

    /// Registers a backend key and returns the client's key for it: the same pid, a secret of
    /// the gateway's own as long as the backend's (at least 4 bytes).
    pub fn register(self: &Arc<Self>, target: Target) -> ClientKey {
        let len = target.secret.len().max(MIN_SECRET);
        let pid = target.pid;
        self.insert(pid, len, Dest::Fixed(target))
    }

    /// Registers a pooled client of `tenant` and returns its key: the process id of the one
    /// backend that serves it for its whole session (`pid`, session mode), else one of the
    /// gateway's own, and a 4-byte secret. Its cancels go to whatever `current` holds when they
    /// arrive.
    pub fn register_pooled(self: &Arc<Self>, tenant: String, current: Current, pid: Option<u32>) -> ClientKey {
        let pid = pid.unwrap_or_else(|| rand::rng().random_range(1..=i32::MAX as u32));
        self.insert(pid, MIN_SECRET, Dest::Pooled { tenant, current })
    }

    /// Files `dest` under `pid` and a fresh secret of `len` bytes (instance id first) that no
    /// live key has.
    fn insert(self: &Arc<Self>, pid: u32, len: usize, dest: Dest) -> ClientKey {
        let mut rng = rand::rng();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let secret = loop {
            let mut secret = vec![self.instance; len];
            rng.fill(&mut secret[1..]);
            if !entries.contains_key(&secret) {
                break secret;
            }
        };
        entries.insert(secret.clone(), Entry { pid, dest });
        ClientKey { map: self.clone(), pid, secret }
    }

    /// Where the cancel for key (`pid`, `secret`) goes.
    pub fn lookup(&self, pid: u32, secret: &[u8]) -> Lookup {
        let Some(&instance) = secret.first() else { return Lookup::Unknown };
        if instance != self.instance {
            return Lookup::OtherInstance(instance);
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(secret) {
            Some(e) if constant_time_eq(&e.pid.to_be_bytes(), &pid.to_be_bytes()) => match &e.dest {
                Dest::Fixed(target) => Lookup::Found(target.clone()),
                Dest::Pooled { tenant, current } => match current.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                    Some(target) => Lookup::Found(target),
                    None => Lookup::Idle(tenant.clone()),
                },
            },
            _ => Lookup::Unknown,
        }
    }

    /// Number of live keys (sessions past startup).
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether there are no live keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sends a CancelRequest for `target` to its backend (private side; plaintext, as PostgreSQL
/// expects on its own network or socket).
pub async fn forward(target: &Target) -> std::io::Result<()> {
    let mut msg = Vec::with_capacity(12 + target.secret.len());
    msg.extend(((12 + target.secret.len()) as u32).to_be_bytes());
    msg.extend(CANCEL_REQUEST.to_be_bytes());
    msg.extend(target.pid.to_be_bytes());
    msg.extend(&target.secret);
    let send = async {
        let mut s = target.backend.connect().await?;
        s.write_all(&msg).await?;
        s.shutdown().await
    };
    tokio::time::timeout(Duration::from_secs(5), send).await.map_err(|_| std::io::ErrorKind::TimedOut)?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(pid: u32, secret: Vec<u8>) -> Target {
        Target { backend: BackendAddr::Tcp("10.0.0.2:5432".parse().unwrap()), pid, secret, tenant: "t1".into() }
    }

    fn found(l: Lookup) -> Option<Target> {
        match l {
            Lookup::Found(t) => Some(t),
            _ => None,
        }
    }

    #[test]
    fn clients_see_the_real_pid_and_a_secret_of_ours() {
        let map = Arc::new(CancelMap::default());
        let key = map.register(target(7, vec![1, 2, 3, 4]));
        assert_eq!(key.pid, 7, "the backend's pid is passed on unchanged");
        assert_ne!(key.secret, vec![1, 2, 3, 4]);
        assert_eq!(key.secret[0], 0, "instance id");
        let t = found(map.lookup(7, &key.secret)).unwrap();
        assert_eq!((t.pid, t.secret), (7, vec![1, 2, 3, 4]));
        let mut wrong = key.secret.clone();
        wrong[3] ^= 1;
        assert!(found(map.lookup(7, &wrong)).is_none());
        assert!(found(map.lookup(8, &key.secret)).is_none(), "the pid must match too");
        let secret = key.secret.clone();
        drop(key);
        assert!(map.is_empty());
        assert!(found(map.lookup(7, &secret)).is_none(), "a stale key cancels nothing");
    }

    #[test]
    fn equal_pids_of_two_tenants_get_distinct_keys() {
        let map = Arc::new(CancelMap::default());
        let mut t2 = target(42, vec![9; 4]);
        t2.tenant = "t2".into();
        let k1 = map.register(target(42, vec![9; 4]));
        let k2 = map.register(t2);
        assert_ne!(k1.secret, k2.secret);
        assert_eq!(found(map.lookup(42, &k1.secret)).unwrap().tenant, "t1");
        assert_eq!(found(map.lookup(42, &k2.secret)).unwrap().tenant, "t2");
    }

    #[test]
    fn long_keys_keep_their_length_and_instance() {
        let map = Arc::new(CancelMap::new(3));
        let key = map.register(target(7, vec![5; 32]));
        assert_eq!(key.secret.len(), 32);
        assert_eq!(key.secret[0], 3);
        assert!(matches!(CancelMap::new(1).lookup(7, &key.secret), Lookup::OtherInstance(3)));
        assert!(matches!(map.lookup(7, &[]), Lookup::Unknown));
        assert_eq!(key.backend_key_data().len(), 1 + 4 + 4 + 32);
    }

    #[test]
    fn many_keys_stay_unique() {
        let map = Arc::new(CancelMap::default());
        let keys: Vec<_> = (0..20_000).map(|i| map.register(target(i % 3, vec![0; 4]))).collect();
        assert_eq!(map.len(), keys.len());
    }
}
