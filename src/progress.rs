//! Progress of long operations, reported by the layers that do the work (`platform`, `docker`,
//! `certs`) to whoever drives them, without knowing whether that is a terminal.
//!
//! The CLI installs a [`Sink`] that draws spinners and bars (`cli::progress`); any other caller
//! (a timer, the gateway, a test) installs its own or keeps the default, which logs through
//! `tracing`. A server running many operations at once (the API's jobs) gives each its own sink
//! with [`scoped`]. Lower layers only call [`note`], [`step`] and [`transfer`].

use std::sync::{Arc, OnceLock};

/// A running step; it ends when dropped.
pub trait Step: Send {
    /// For a transfer: the total, when known.
    fn set_total(&self, _total: u64) {}
    /// For a transfer: how much is done.
    fn set_done(&self, _done: u64) {}
}

/// Where progress goes.
pub trait Sink: Send + Sync {
    /// A one-line note for the operator.
    fn note(&self, msg: &str);
    /// A step that may take a while (a spinner in a terminal).
    fn step(&self, msg: &str) -> Box<dyn Step>;
    /// A byte transfer (a bar in a terminal).
    fn transfer(&self, msg: &str) -> Box<dyn Step>;
}

/// The default sink: progress as `tracing` events.
struct Log;

/// A step that shows nothing of its own (its start was reported; its end is not).
pub struct Quiet;

impl Step for Quiet {}

impl Sink for Log {
    fn note(&self, msg: &str) {
        tracing::info!("{msg}");
    }
    fn step(&self, msg: &str) -> Box<dyn Step> {
        tracing::info!("{msg}");
        Box::new(Quiet)
    }
    fn transfer(&self, msg: &str) -> Box<dyn Step> {
        self.step(msg)
    }
}

static SINK: OnceLock<Box<dyn Sink>> = OnceLock::new();

tokio::task_local! {
    /// The sink of the operation this task runs, over the process's ([`scoped`]).
    static SCOPED: Arc<dyn Sink>;
}

/// Installs the process's sink (once; later calls are ignored).
pub fn install(sink: Box<dyn Sink>) {
    let _ = SINK.set(sink);
}

/// Runs `f` with its progress going to `sink` instead of the process's (tasks that `f` spawns
/// report to the process's).
pub async fn scoped<F: std::future::Future>(sink: Arc<dyn Sink>, f: F) -> F::Output {
    SCOPED.scope(sink, f).await
}

/// Calls `f` with the sink in force for this task.
fn with_sink<R>(f: impl FnOnce(&dyn Sink) -> R) -> R {
    match SCOPED.try_with(Arc::clone) {
        Ok(sink) => f(sink.as_ref()),
        Err(_) => f(SINK.get().map_or(&Log, |s| s.as_ref())),
    }
}

/// Reports a one-line note.
pub fn note(msg: &str) {
    with_sink(|s| s.note(msg));
}

/// Starts a step; it ends when the returned handle is dropped.
pub fn step(msg: &str) -> Box<dyn Step> {
    with_sink(|s| s.step(msg))
}

/// Starts a byte transfer; it ends when the returned handle is dropped.
pub fn transfer(msg: &str) -> Box<dyn Step> {
    with_sink(|s| s.transfer(msg))
}
