//! When is a tenant idle enough to suspend? The decision, apart from the I/O that feeds it.
//!
//! A tenant with `suspend_after` S is suspended when (1) no gateway reported a client for it for
//! S, and (2) its own database agrees: no client session of any kind (a `docker exec psql`, a
//! backup) and a WAL position that did not move between two checks at least S/2 apart (jobs of
//! its own that write). The database is asked only once the gateways have been quiet for S/2,
//! so an idle host costs two short queries per tenant per suspension, not a probe per interval.

use std::time::{Duration, Instant};

/// What the controller remembers about one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Since when no client or activity was seen.
    pub quiet_since: Instant,
    /// The last database check: when, and the WAL position it saw.
    pub checked: Option<(Instant, String)>,
}

/// What to do about a tenant now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing yet.
    Wait,
    /// Ask the database (and then [`Watch::observe`]).
    Check,
}

/// What a database check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Activity seen: the quiet period starts again.
    Busy,
    /// Quiet so far: check again later.
    Quiet,
    /// Quiet for long enough: suspend.
    Suspend,
}

impl Watch {
    /// A tenant first seen (or seen active) at `now`.
    pub fn new(now: Instant) -> Self {
        Watch { quiet_since: now, checked: None }
    }

    /// Records activity at `now` (a gateway's report, a wake).
    pub fn touch(&mut self, now: Instant) {
        if now > self.quiet_since {
            self.quiet_since = now;
        }
        self.checked = None;
    }

    /// Whether the database should be asked now, for a policy of `after`.
    pub fn next(&self, now: Instant, after: Duration) -> Next {
        let quiet = now.saturating_duration_since(self.quiet_since);
        let half = after / 2;
        match &self.checked {
            _ if quiet < half => Next::Wait,
            None => Next::Check,
            Some((at, _)) if quiet >= after && now.saturating_duration_since(*at) >= half => Next::Check,
            Some(_) => Next::Wait,
        }
    }

    /// Takes in what a check at `now` saw: other sessions and the WAL position.
    pub fn observe(&mut self, now: Instant, after: Duration, sessions: i64, lsn: &str) -> Verdict {
        if sessions > 0 {
            self.touch(now);
            return Verdict::Busy;
        }
        match &self.checked {
            Some((_, seen)) if seen != lsn => {
                self.quiet_since = now;
                self.checked = Some((now, lsn.to_string()));
                Verdict::Busy
            }
            Some((at, _)) => {
                let window = now.saturating_duration_since(*at) >= after / 2;
                if window && now.saturating_duration_since(self.quiet_since) >= after {
                    Verdict::Suspend
                } else {
                    Verdict::Quiet
                }
            }
            None => {
                self.checked = Some((now, lsn.to_string()));
                Verdict::Quiet
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(60);

    #[test]
    fn quiet_tenant_is_suspended_after_two_checks() {
        let t0 = Instant::now();
        let mut w = Watch::new(t0);
        assert_eq!(w.next(t0 + Duration::from_secs(10), S), Next::Wait);
        assert_eq!(w.next(t0 + Duration::from_secs(30), S), Next::Check);
        assert_eq!(w.observe(t0 + Duration::from_secs(30), S, 0, "0/1"), Verdict::Quiet);
        assert_eq!(w.next(t0 + Duration::from_secs(45), S), Next::Wait);
        assert_eq!(w.next(t0 + Duration::from_secs(60), S), Next::Check);
        assert_eq!(w.observe(t0 + Duration::from_secs(60), S, 0, "0/1"), Verdict::Suspend);
    }

    #[test]
    fn sessions_reports_and_writes_restart_the_clock() {
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        let mut w = Watch::new(t0);
        assert_eq!(w.observe(at(30), S, 1, "0/1"), Verdict::Busy);
        assert_eq!(w.next(at(59), S), Next::Wait, "quiet only since the session was seen");
        assert_eq!(w.observe(at(60), S, 0, "0/1"), Verdict::Quiet);
        assert_eq!(w.observe(at(90), S, 0, "0/2"), Verdict::Busy, "the WAL moved");
        assert_eq!(w.next(at(100), S), Next::Wait);
        w.touch(at(110));
        assert_eq!(w.checked, None);
        assert_eq!(w.next(at(139), S), Next::Wait);
        assert_eq!(w.next(at(140), S), Next::Check);
    }
}
