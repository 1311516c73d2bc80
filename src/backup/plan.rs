//! Choosing how to recover to a target, from what the repository holds: the restorable window,
//! the timeline that was current at the target time, the backup to start from, and the end of
//! the archived WAL that a recovery to "the end" must reach.
//!
//! - **Window.** From just after the end of the oldest backup to "now" when the running tenant's
//!   newest WAL was just archived, otherwise to when the newest archived segment reached the
//!   repository (a stopped tenant's last one, archived at its shutdown). A target outside it is
//!   refused with one line naming the window, before anything is stopped.
//! - **Timeline.** Every restore and every failover starts a timeline; its history file reaches
//!   the repository right after the promotion, so the file's time there is when the timeline
//!   began. The timeline current at T is the newest one that began at or before T. A recovery
//!   follows it, or a later timeline that went on from its end (a failover's, or a restore's to
//!   the latest state, whose history says "no recovery target specified") when that one began
//!   after T: such a timeline holds its parent's WAL up to where it branched, after T, and its
//!   first segment holds the last stretch of it, which the parent itself only has as a
//!   `.partial` segment that recovery never reads.
//! - **Backup.** The newest backup that finished before T and lies on that timeline's history:
//!   on the timeline itself, or on an ancestor before the point where the history left it.
//! - **The end of the WAL.** Nothing committed after T means the state at T is the end of the
//!   archived WAL on that timeline: PostgreSQL stops there with "recovery ended before configured
//!   recovery target was reached", and the recovery goes on without the time target. A recovery to
//!   the end must then reach the newest archived segment of the timeline; one that stops earlier
//!   met a damaged or missing segment, and is refused rather than taken for the state at T.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Repository, Target, utc};

/// A position in the WAL (`X/Y` in PostgreSQL's notation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

impl Serialize for Lsn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Lsn {
    /// Parses `X/Y` (hexadecimal halves).
    pub fn parse(s: &str) -> Option<Self> {
        let (hi, lo) = s.trim().split_once('/')?;
        let hi = u32::from_str_radix(hi, 16).ok()?;
        let lo = u32::from_str_radix(lo, 16).ok()?;
        Some(Lsn((u64::from(hi) << 32) | u64::from(lo)))
    }
}

impl std::fmt::Display for Lsn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// The timeline of a WAL segment or history file name (its first eight hex digits).
pub fn timeline_of(name: &str) -> Option<u32> {
    name.get(..8).and_then(|t| u32::from_str_radix(t, 16).ok())
}

/// One timeline the repository knows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Timeline {
    /// When its history file reached the repository (Unix time); `None` for a timeline without
    /// one (the first, or the first of a clone's repository): it began before everything else.
    pub began: Option<i64>,
    /// Its ancestors, oldest first: (timeline, the LSN where this history left it).
    pub ancestors: Vec<(u32, Lsn)>,
    /// Whether it went on from the end of its parent's WAL (a failover's promotion, or a
    /// recovery to the end): its history's last reason is "no recovery target specified".
    pub continued: bool,
    /// The newest archived segment on it (its 24-digit name) and when it was archived.
    pub newest_segment: Option<(String, i64)>,
}

/// What the repository holds beyond `pgbackrest info`: timelines and archived segments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Archive {
    /// Timelines by id.
    pub timelines: BTreeMap<u32, Timeline>,
    /// Compressed bytes of all archived WAL.
    pub bytes: u64,
    /// How many WAL segments are archived.
    pub segments: u64,
}

impl Archive {
    /// Reads `pgbackrest repo-ls --recurse --output=json` of the stanza's archive directory,
    /// restricted to `archive_id` (`15-1`), and the history files' contents by name.
    pub fn read(
        listing: &str,
        archive_id: &str,
        histories: &BTreeMap<String, String>,
    ) -> Result<Self, super::BackupError> {
        let from = listing.find('{').unwrap_or(0);
        let all: serde_json::Value = serde_json::Deserializer::from_str(&listing[from..])
            .into_iter::<serde_json::Value>()
            .next()
            .unwrap_or_else(|| serde_json::from_str("{}"))
            .map_err(|e| super::BackupError::UnreadableListing(e.to_string()))?;
        let mut archive = Archive::default();
        let Some(files) = all.as_object() else { return Ok(archive) };
        for (path, entry) in files {
            let Some(rest) = path.strip_prefix(archive_id).and_then(|r| r.strip_prefix('/')) else { continue };
            if entry["type"] != "file" {
                continue;
            }
            let name = rest.rsplit('/').next().unwrap_or(rest);
            let time = entry["time"].as_i64().unwrap_or(0);
            let Some(tli) = timeline_of(name) else { continue };
            if name.ends_with(".history") {
                let t = archive.timelines.entry(tli).or_default();
                t.began = Some(time);
                t.ancestors = histories.get(name).map(|h| parse_history(h)).unwrap_or_default();
                t.continued = histories.get(name).is_some_and(|h| {
                    h.lines()
                        .rfind(|l| !l.trim().is_empty() && !l.starts_with('#'))
                        .is_some_and(|l| l.contains("no recovery target specified"))
                });
            } else if name.len() >= 24
                && name[..24].bytes().all(|b| b.is_ascii_hexdigit())
                && !name.contains(".partial")
            {
                archive.bytes += entry["size"].as_u64().unwrap_or(0);
                archive.segments += 1;
                let t = archive.timelines.entry(tli).or_default();
                let segment = name[..24].to_string();
                if t.newest_segment.as_ref().is_none_or(|(newest, _)| *newest < segment) {
                    t.newest_segment = Some((segment, time));
                }
            }
        }
        Ok(archive)
    }

    /// The newest timeline (the one a recovery to the latest state follows).
    pub fn latest_timeline(&self) -> Option<u32> {
        self.timelines.keys().next_back().copied()
    }

    /// When the newest segment of the newest timeline was archived.
    pub fn last_archived(&self) -> Option<i64> {
        self.timelines.values().filter_map(|t| t.newest_segment.as_ref().map(|(_, at)| *at)).max()
    }
}

/// Reads a timeline history file: lines `PARENT<TAB>LSN<TAB>reason`.
pub fn parse_history(text: &str) -> Vec<(u32, Lsn)> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let tli = f.next()?.parse().ok()?;
            let lsn = Lsn::parse(f.next()?)?;
            Some((tli, lsn))
        })
        .collect()
}

/// The time span a restore can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Earliest Unix time: just after the oldest backup ended.
    pub earliest: i64,
    /// Latest Unix time.
    pub latest: i64,
    /// Whether `latest` is "now": the running tenant's newest WAL was just archived.
    pub up_to_now: bool,
}

impl Window {
    /// The window of `repo`: `fresh` is the time the running tenant's WAL was just switched and
    /// archived (everything committed until then is in the repository).
    pub fn of(repo: &Repository, archive: &Archive, fresh: Option<i64>) -> Option<Self> {
        let earliest = repo.backups.iter().map(|b| b.finished + 1).min()?;
        let newest_backup = repo.backups.iter().map(|b| b.finished).max().unwrap_or(earliest);
        let (latest, up_to_now) = match fresh {
            Some(now) => (now, true),
            None => (archive.last_archived().unwrap_or(newest_backup).max(newest_backup), false),
        };
        Some(Window { earliest, latest, up_to_now })
    }

    /// The window as one line: `2026-12-05 09:00:01 UTC .. now`.
    pub fn describe(&self) -> String {
        let latest = if self.up_to_now { "now".to_string() } else { format!("{} UTC", utc(self.latest)) };
        format!("{} UTC .. {latest}", utc(self.earliest))
    }
}

/// How a recovery is to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The backup to restore.
    pub set: String,
    /// Its database size, in bytes (for progress and the time allowed).
    pub database_bytes: u64,
    /// The timeline to recover along (`None`: the newest, PostgreSQL's default).
    pub timeline: Option<u32>,
    /// Whether the archive holds that timeline's history file. PostgreSQL follows a numbered
    /// timeline only with its history file; without one (the first timeline of a clone's own
    /// repository) the timeline is the backup's own, which PostgreSQL calls `current`.
    pub history: bool,
    /// The newest archived segment of that timeline: a recovery that runs to the end of the WAL
    /// must reach it (`None`: nothing to check against).
    pub end_segment: Option<String>,
    /// Why this timeline and backup, in words.
    pub why: String,
}

/// Why a target cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No backup at all.
    NoBackup,
    /// No backup with that label.
    UnknownLabel(String),
    /// The time is outside the window.
    Outside {
        /// The time asked for, as PostgreSQL reads it.
        at: String,
        /// Which side of the window it is on.
        side: Side,
        /// The window.
        window: Window,
    },
    /// No backup on the timeline current at the time had finished before it.
    NoUsableBackup(String),
}

/// Where a time outside the window lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// After now.
    Future,
    /// Before the end of the oldest backup.
    BeforeFirstBackup,
    /// After the newest archived WAL.
    AfterArchive,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Future => "it is in the future",
            Side::BeforeFirstBackup => "it is before the end of the first backup",
            Side::AfterArchive => "it is after the last archived WAL",
        })
    }
}

/// Chooses the backup and timeline for `target`, given the repository, its archive, the window
/// and the current Unix time.
pub fn plan(
    repo: &Repository,
    archive: &Archive,
    window: Option<Window>,
    target: &Target,
    now: i64,
) -> Result<Plan, Refusal> {
    let window = window.ok_or(Refusal::NoBackup)?;
    let timeline_of_backup = |b: &super::Backup| b.wal.as_ref().and_then(|(start, _)| timeline_of(start));
    // Whether backup `b` lies on the history of timeline `tli`.
    let on_history = |b: &super::Backup, tli: u32| -> bool {
        let Some(own) = timeline_of_backup(b) else { return true };
        if own == tli {
            return true;
        }
        let Some(t) = archive.timelines.get(&tli) else { return false };
        t.ancestors.iter().any(|(parent, left_at)| *parent == own && b.lsn_stop.is_none_or(|stop| stop <= *left_at))
    };
    let has_history = |tli: Option<u32>| tli.and_then(|t| archive.timelines.get(&t)).is_some_and(|t| t.began.is_some());
    let end_of = |tli: Option<u32>| {
        tli.and_then(|t| archive.timelines.get(&t)).and_then(|t| t.newest_segment.as_ref().map(|(s, _)| s.clone()))
    };
    match target {
        Target::Backup(label) => {
            let b =
                repo.backups.iter().find(|b| &b.label == label).ok_or_else(|| Refusal::UnknownLabel(label.clone()))?;
            Ok(Plan {
                set: b.label.clone(),
                database_bytes: b.database_bytes,
                timeline: None,
                history: false,
                end_segment: None,
                why: format!("backup {label}, to the point where it is consistent"),
            })
        }
        Target::Latest => {
            let tli = archive.latest_timeline();
            let b = repo
                .backups
                .iter()
                .rev()
                .find(|b| tli.is_none_or(|t| on_history(b, t)))
                .ok_or_else(|| Refusal::NoUsableBackup("no backup lies on the newest timeline".into()))?;
            Ok(Plan {
                set: b.label.clone(),
                database_bytes: b.database_bytes,
                timeline: tli,
                history: has_history(tli),
                end_segment: end_of(tli),
                why: format!(
                    "backup {}, then all archived WAL{}",
                    b.label,
                    tli.map(|t| format!(" along timeline {t}")).unwrap_or_default()
                ),
            })
        }
        Target::Time { at, unix } => {
            let t = *unix;
            let side = if t > now {
                Some(Side::Future)
            } else if t < window.earliest {
                Some(Side::BeforeFirstBackup)
            } else if t > window.latest {
                Some(Side::AfterArchive)
            } else {
                None
            };
            if let Some(side) = side {
                return Err(Refusal::Outside { at: at.clone(), side, window });
            }
            // The newest timeline that had begun by T (one without a history file began first),
            // then on through the timelines that went on from its end after T.
            let current =
                archive.timelines.iter().filter(|(_, tl)| tl.began.is_none_or(|b| b <= t)).map(|(id, _)| *id).max();
            let mut tli = current;
            while let Some(parent) = tli {
                let next = archive
                    .timelines
                    .iter()
                    .filter(|(_, tl)| {
                        tl.continued
                            && tl.began.is_some_and(|b| b > t)
                            && tl.ancestors.last().is_some_and(|(p, _)| *p == parent)
                    })
                    .map(|(id, _)| *id)
                    .min();
                match next {
                    Some(n) => tli = Some(n),
                    None => break,
                }
            }
            let b = repo
                .backups
                .iter()
                .rev()
                .find(|b| b.finished < t && tli.is_none_or(|tli| on_history(b, tli)))
                .ok_or_else(|| {
                    Refusal::NoUsableBackup(format!(
                        "no backup on the history of timeline {} had finished by {at}",
                        tli.unwrap_or(1)
                    ))
                })?;
            Ok(Plan {
                set: b.label.clone(),
                database_bytes: b.database_bytes,
                timeline: tli,
                history: has_history(tli),
                end_segment: end_of(tli),
                why: format!(
                    "backup {} (the newest that ended before {at}){}, then WAL up to the last commit at or before it",
                    b.label,
                    match (current, tli) {
                        (Some(c), Some(t)) if c != t => format!(
                            " on timeline {t}, which holds all of timeline {c} (the one current then) up to a failover after it"
                        ),
                        (_, Some(t)) => format!(" on timeline {t}, the one current then"),
                        _ => String::new(),
                    }
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::Backup;

    fn backup(label: &str, finished: i64, tli: u32, stop: u64) -> Backup {
        Backup {
            label: label.into(),
            kind: "full".into(),
            started: finished - 5,
            finished,
            database_bytes: 1000,
            repository_bytes: 100,
            prior: None,
            wal: Some((format!("{tli:08X}0000000000000002"), format!("{tli:08X}0000000000000002"))),
            lsn_stop: Some(Lsn(stop)),
        }
    }

    fn repo(backups: Vec<Backup>) -> Repository {
        Repository {
            status: "ok".into(),
            backups,
            wal: None,
            archive_id: Some("15-1".into()),
            earliest_restorable: None,
            latest_restorable: None,
        }
    }

    const LISTING: &str = r#"{".":{"type":"path"},"15-1":{"type":"path"},
        "15-1/0000000100000000":{"type":"path"},
        "15-1/0000000100000000/000000010000000000000002-aaaa.gz":{"type":"file","size":100,"time":1000},
        "15-1/0000000100000000/000000010000000000000005-bbbb.gz":{"type":"file","size":100,"time":1400},
        "15-1/00000002.history":{"type":"file","size":40,"time":1500},
        "15-1/0000000200000000/000000020000000000000004-cccc.gz":{"type":"file","size":100,"time":1600},
        "14-0/0000000100000000/000000010000000000000009-dddd.gz":{"type":"file","size":100,"time":9000}}"#;

    fn archive() -> Archive {
        let histories = BTreeMap::from([("00000002.history".to_string(), "1\t0/3000000\tbefore 2026\n".to_string())]);
        Archive::read(LISTING, "15-1", &histories).unwrap()
    }

    #[test]
    fn reads_the_archive() {
        let a = archive();
        assert_eq!(a.bytes, 300);
        assert_eq!(a.latest_timeline(), Some(2));
        assert_eq!(a.timelines[&1].newest_segment, Some(("000000010000000000000005".into(), 1400)));
        assert_eq!(a.timelines[&2].began, Some(1500));
        assert_eq!(a.timelines[&2].ancestors, vec![(1, Lsn(0x300_0000))]);
        assert_eq!(a.last_archived(), Some(1600));
        assert_eq!(Lsn::parse("1/5000A0"), Some(Lsn(0x1_0050_00A0)));
        assert_eq!(Lsn(0x1_0050_00A0).to_string(), "1/5000A0");
    }

    #[test]
    fn chooses_timeline_and_backup_by_time() {
        let a = archive();
        // One backup on timeline 1 before the branch point, one after it (not on timeline 2's history).
        let r = repo(vec![backup("A", 900, 1, 0x200_0000), backup("B", 1200, 1, 0x400_0000)]);
        let w = Window::of(&r, &a, None);
        assert_eq!(w, Some(Window { earliest: 901, latest: 1600, up_to_now: false }));
        let at = |unix: i64| Target::Time { at: utc(unix), unix };
        // Before the restore that began timeline 2: timeline 1, the newest backup before T.
        let p = plan(&r, &a, w, &at(1300), 2000).unwrap();
        assert_eq!((p.set.as_str(), p.timeline), ("B", Some(1)));
        assert_eq!(p.end_segment.as_deref(), Some("000000010000000000000005"));
        // After it: timeline 2, whose history left timeline 1 before B ended.
        let p = plan(&r, &a, w, &at(1550), 2000).unwrap();
        assert_eq!((p.set.as_str(), p.timeline, p.history), ("A", Some(2), true));
        assert_eq!(p.end_segment.as_deref(), Some("000000020000000000000004"));
        // The latest state follows timeline 2 too.
        assert_eq!(plan(&r, &a, w, &Target::Latest, 2000).unwrap().set, "A");
        // Outside the window: one line naming it.
        let side = |r: Refusal| match r {
            Refusal::Outside { side, window, .. } => (side, window.describe()),
            other => panic!("{other:?}"),
        };
        assert_eq!(side(plan(&r, &a, w, &at(901 - 1), 2000).unwrap_err()).0, Side::BeforeFirstBackup);
        let (late, window) = side(plan(&r, &a, w, &at(1700), 2000).unwrap_err());
        assert_eq!((late, window.as_str()), (Side::AfterArchive, "1970-01-01 00:15:01 UTC .. 1970-01-01 00:26:40 UTC"));
        let (future, window) = side(plan(&r, &a, Window::of(&r, &a, Some(2000)), &at(2100), 2000).unwrap_err());
        assert!(future == Side::Future && window.ends_with(".. now"), "{window}");
        // Up to now when the running tenant's WAL was just archived.
        assert!(plan(&r, &a, Window::of(&r, &a, Some(2000)), &at(1999), 2000).is_ok());
        assert_eq!(plan(&repo(vec![]), &a, None, &Target::Latest, 0), Err(Refusal::NoBackup));
        assert_eq!(plan(&r, &a, w, &Target::Backup("X".into()), 0), Err(Refusal::UnknownLabel("X".into())));
    }

    #[test]
    fn a_time_before_a_failover_follows_the_timeline_that_went_on() {
        // Timeline 1 until a failover at 1500 (timeline 2 went on from its end), a restore at
        // 1700 back to 1200 (timeline 3, from timeline 2's history), a failover at 1900
        // (timeline 4 went on from timeline 3's end).
        let listing = r#"{
            "15-1/0000000100000000/000000010000000000000003-a.gz":{"type":"file","size":1,"time":1300},
            "15-1/00000002.history":{"type":"file","size":1,"time":1500},
            "15-1/0000000200000000/000000020000000000000004-b.gz":{"type":"file","size":1,"time":1600},
            "15-1/00000003.history":{"type":"file","size":1,"time":1700},
            "15-1/0000000300000000/000000030000000000000005-c.gz":{"type":"file","size":1,"time":1800},
            "15-1/00000004.history":{"type":"file","size":1,"time":1900},
            "15-1/0000000400000000/000000040000000000000006-d.gz":{"type":"file","size":1,"time":2000}}"#;
        let failover = "no recovery target specified";
        let histories = BTreeMap::from([
            ("00000002.history".to_string(), format!("1\t0/4000100\t{failover}\n")),
            (
                "00000003.history".to_string(),
                format!("1\t0/4000100\t{failover}\n2\t0/4000200\tbefore 1970-01-01 00:20:00+00\n"),
            ),
            (
                "00000004.history".to_string(),
                format!(
                    "1\t0/4000100\t{failover}\n2\t0/4000200\tbefore 1970-01-01 00:20:00+00\n3\t0/5000300\t{failover}\n"
                ),
            ),
        ]);
        let a = Archive::read(listing, "15-1", &histories).unwrap();
        assert!(a.timelines[&2].continued && !a.timelines[&3].continued && a.timelines[&4].continued);
        let r = repo(vec![backup("A", 1000, 1, 0x200_0000)]);
        let w = Window::of(&r, &a, None);
        let at = |unix: i64| Target::Time { at: utc(unix), unix };
        // Before the first failover: timeline 2 holds timeline 1 up to it (its last stretch is
        // only in timeline 2's first segment); the restore's timeline 3 does not.
        let p = plan(&r, &a, w, &at(1400), 3000).unwrap();
        assert_eq!(p.timeline, Some(2), "{}", p.why);
        assert!(p.why.contains("timeline 1 (the one current then)"), "{}", p.why);
        // Between the restore and the second failover: on through timeline 4.
        assert_eq!(plan(&r, &a, w, &at(1750), 3000).unwrap().timeline, Some(4));
        // After the last failover: its own timeline.
        assert_eq!(plan(&r, &a, w, &at(1950), 3000).unwrap().timeline, Some(4));
    }

    #[test]
    fn a_repository_without_history_files() {
        let a = Archive::read(
            r#"{"15-1/0000000300000000/000000030000000000000007-ee.gz":{"type":"file","size":1,"time":50}}"#,
            "15-1",
            &BTreeMap::new(),
        )
        .unwrap();
        let r = repo(vec![backup("C", 10, 3, 0x700_0000)]);
        let p = plan(&r, &a, Window::of(&r, &a, None), &Target::Time { at: "t".into(), unix: 40 }, 100).unwrap();
        assert_eq!((p.set.as_str(), p.timeline, p.history), ("C", Some(3), false));
        assert!(Archive::read("", "15-1", &BTreeMap::new()).unwrap().timelines.is_empty());
    }
}
