//! Thread-per-core serving: the sessions run on single-threaded runtimes (by default half as
//! many as cores: [`default_threads`]), each on a thread of its own, and every task of a session
//! (its handshake, its pump both ways, the watcher that ends it) stays on the thread it was
//! handed to.
//!
//! A relay's work per message is small, so what it costs is mostly the kernel's: system calls,
//! and the scheduler when a task woken on one thread runs on another. A work-stealing runtime
//! wakes idle threads to steal freshly woken tasks; here a session's readiness is seen, and its
//! task run, by the one thread whose epoll holds its sockets, and no other thread is woken for
//! it. The accept loop, the admin endpoint and the reloader stay on the process's main runtime,
//! which hands each accepted connection over ([`Workers::spawn`]) to the thread with the fewest
//! sessions.
//!
//! Resources that outlive a session (the pooled endpoint's server connections) may be used
//! from another worker later: tokio's sockets work from any runtime, their readiness still
//! comes through the runtime that made them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// How many serving threads a gateway runs unless told: half the cores, at least one. The
/// gateway shares its host with the tenants' PostgreSQL, and one thread that finds several
/// sessions ready at each wake makes fewer system calls per transaction than two that each
/// find one (`bench/gateway.sh`, syscalls section).
pub fn default_threads() -> usize {
    (std::thread::available_parallelism().map_or(1, std::num::NonZero::get) / 2).max(1)
}

/// The serving threads.
pub struct Workers {
    threads: Vec<Worker>,
}

/// One serving thread: its runtime's handle, and how many sessions it holds.
struct Worker {
    handle: tokio::runtime::Handle,
    sessions: Arc<AtomicUsize>,
}

impl Workers {
    /// Starts `n` serving threads (at least one), each running a single-threaded runtime until
    /// the process exits.
    pub fn start(n: usize) -> std::io::Result<Self> {
        let mut threads = Vec::with_capacity(n.max(1));
        for i in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let handle = runtime.handle().clone();
            std::thread::Builder::new()
                .name(format!("pgs-serve-{i}"))
                .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
            threads.push(Worker { handle, sessions: Arc::default() });
        }
        Ok(Self { threads })
    }

    /// How many serving threads there are.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// Whether there are none (never: [`Workers::start`] makes at least one).
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }

    /// Runs `session` to its end on the thread with the fewest sessions.
    pub fn spawn<F>(&self, session: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Some(worker) = self.threads.iter().min_by_key(|w| w.sessions.load(Relaxed)) else { return };
        let sessions = worker.sessions.clone();
        sessions.fetch_add(1, Relaxed);
        worker.handle.spawn(async move {
            session.await;
            sessions.fetch_sub(1, Relaxed);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_spread_over_the_threads_and_each_stays_on_one() {
        let workers = Workers::start(2).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = tokio::sync::watch::channel(false);
        for _ in 0..4 {
            let (tx, mut release) = (tx.clone(), release_rx.clone());
            workers.spawn(async move {
                let first = std::thread::current().id();
                // A task of the session lands on the same thread.
                let inner = tokio::spawn(async { std::thread::current().id() }).await.unwrap();
                tx.send((first, inner)).unwrap();
                let _ = release.wait_for(|r| *r).await;
            });
        }
        let seen: Vec<_> = (0..4).map(|_| rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap()).collect();
        assert!(seen.iter().all(|(a, b)| a == b), "{seen:?}");
        let threads: std::collections::HashSet<_> = seen.iter().map(|(a, _)| *a).collect();
        assert_eq!(threads.len(), 2, "held sessions go to the less busy thread");
        release_tx.send(true).unwrap();
    }
}
