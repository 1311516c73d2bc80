//! Progress on stderr: spinners and bars in a terminal, plain lines otherwise (logs, CI). This is
//! the CLI's [`crate::progress::Sink`].

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{Sink, Step};

fn interactive() -> bool {
    std::io::stderr().is_terminal()
}

/// Prints a one-line note to stderr.
pub fn note(msg: &str) {
    eprintln!("pgs: {msg}");
}

/// A spinner with `msg`; in a non-terminal the message is printed once instead.
pub fn spinner(msg: &str) -> ProgressBar {
    if !interactive() {
        note(msg);
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(msg.to_string());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// A byte-count progress bar with `msg` (length set later); printed once in a non-terminal.
pub fn bar(msg: &str) -> ProgressBar {
    if !interactive() {
        note(msg);
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(msg.to_string());
    bar
}

/// A spinner or bar that clears itself when the step ends.
struct Drawn(ProgressBar);

impl Step for Drawn {
    fn set_total(&self, total: u64) {
        self.0.set_length(total);
    }
    fn set_done(&self, done: u64) {
        self.0.set_position(done);
    }
}

impl Drop for Drawn {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// The terminal sink the CLI installs.
pub struct Terminal;

impl Sink for Terminal {
    fn note(&self, msg: &str) {
        note(msg);
    }
    fn step(&self, msg: &str) -> Box<dyn Step> {
        Box::new(Drawn(spinner(msg)))
    }
    fn transfer(&self, msg: &str) -> Box<dyn Step> {
        Box::new(Drawn(bar(msg)))
    }
}
