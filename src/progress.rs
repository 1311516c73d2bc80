//! Progress of long operations, reported by the layers that do the work (`platform`, `docker`,
//! `certs`) to whoever drives them, without knowing whether that is a terminal.
//!
//! The CLI installs a [`Sink`] that draws spinners and bars (`cli::progress`); any other caller
//! (a timer, the gateway, a test) installs its own or keeps the default, which logs through
//! `tracing`. Lower layers only call [`note`], [`step`] and [`transfer`].

use std::sync::OnceLock;

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

struct Quiet;

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

/// Installs the process's sink (once; later calls are ignored).
pub fn install(sink: Box<dyn Sink>) {
    let _ = SINK.set(sink);
}

fn sink() -> &'static dyn Sink {
    SINK.get().map_or(&Log, |s| s.as_ref())
}

/// Reports a one-line note.
pub fn note(msg: &str) {
    sink().note(msg);
}

/// Starts a step; it ends when the returned handle is dropped.
pub fn step(msg: &str) -> Box<dyn Step> {
    sink().step(msg)
}

/// Starts a byte transfer; it ends when the returned handle is dropped.
pub fn transfer(msg: &str) -> Box<dyn Step> {
    sink().transfer(msg)
}
