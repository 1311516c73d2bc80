//! Query cancellation across tenants.
//!
//! Backend process ids repeat across tenants (each container counts from 1), so clients never
//! see a backend's key: the gateway hands out keys of its own (random process id, random secret
//! as long as the backend's, so protocol 3.2's longer keys work too) and maps them back. A
//! CancelRequest with an unknown or wrong key cancels nothing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::io::AsyncWriteExt;

use super::frame::CANCEL_REQUEST;

/// Where a cancel for one session goes.
#[derive(Debug, Clone)]
pub struct Target {
    /// The backend's address.
    pub backend: SocketAddr,
    /// The backend's process id.
    pub pid: u32,
    /// The backend's secret.
    pub secret: Vec<u8>,
    /// Tenant (for logs).
    pub tenant: String,
}

struct Entry {
    secret: Vec<u8>,
    target: Target,
}

/// The map from the keys clients hold to the backends' keys.
#[derive(Default)]
pub struct CancelMap {
    entries: Mutex<HashMap<u32, Entry>>,
}

/// A key handed to a client; the mapping is dropped with it when the session ends.
pub struct ClientKey {
    map: Arc<CancelMap>,
    /// Process id the client sees.
    pub pid: u32,
    /// Secret the client sees.
    pub secret: Vec<u8>,
}

impl Drop for ClientKey {
    fn drop(&mut self) {
        if let Ok(mut e) = self.map.entries.lock() {
            e.remove(&self.pid);
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl CancelMap {
    /// Registers a backend key and returns the client's key for it.
    pub fn register(self: &Arc<Self>, target: Target) -> ClientKey {
        let mut rng = rand::rng();
        let secret: Vec<u8> = (0..target.secret.len().max(4)).map(|_| rng.random()).collect();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let pid = loop {
            // Positive, non-zero, unused: some clients treat the pid as a signed int.
            let pid = rng.random_range(1..=i32::MAX as u32);
            if !entries.contains_key(&pid) {
                break pid;
            }
        };
        entries.insert(pid, Entry { secret: secret.clone(), target });
        ClientKey { map: self.clone(), pid, secret }
    }

    /// The backend a client key belongs to, if the key is valid.
    pub fn lookup(&self, pid: u32, secret: &[u8]) -> Option<Target> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&pid).filter(|e| constant_time_eq(&e.secret, secret)).map(|e| e.target.clone())
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

/// Sends a CancelRequest for `target` to its backend (plain TCP, private side).
pub async fn forward(target: &Target) -> std::io::Result<()> {
    let mut msg = Vec::with_capacity(12 + target.secret.len());
    msg.extend(((12 + target.secret.len()) as u32).to_be_bytes());
    msg.extend(CANCEL_REQUEST.to_be_bytes());
    msg.extend(target.pid.to_be_bytes());
    msg.extend(&target.secret);
    let send = async {
        let mut s = tokio::net::TcpStream::connect(target.backend).await?;
        s.write_all(&msg).await?;
        s.shutdown().await
    };
    tokio::time::timeout(Duration::from_secs(5), send).await.map_err(|_| std::io::ErrorKind::TimedOut)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_back_only_when_exact() {
        let map = Arc::new(CancelMap::default());
        let target = Target { backend: "10.0.0.2:5432".parse().unwrap(), pid: 7, secret: vec![1, 2, 3, 4], tenant: "t1".into() };
        let key = map.register(target);
        assert_ne!(key.secret, vec![1, 2, 3, 4]);
        assert_eq!(map.lookup(key.pid, &key.secret).unwrap().pid, 7);
        let mut wrong = key.secret.clone();
        wrong[0] ^= 1;
        assert!(map.lookup(key.pid, &wrong).is_none());
        assert!(map.lookup(key.pid.wrapping_add(1), &key.secret).is_none());
        let pid = key.pid;
        drop(key);
        assert!(map.is_empty());
        assert!(map.lookup(pid, &[0; 4]).is_none());
    }

    #[test]
    fn long_keys_keep_their_length() {
        let map = Arc::new(CancelMap::default());
        let target = Target { backend: "10.0.0.2:5432".parse().unwrap(), pid: 7, secret: vec![5; 32], tenant: "t1".into() };
        assert_eq!(map.register(target).secret.len(), 32);
    }
}
