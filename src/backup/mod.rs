//! Backups and point-in-time recovery, engine-neutral on the outside.
//!
//! The engine is pgBackRest ([`pgbackrest`]): checksummed full/diff/incr backups, asynchronous WAL
//! archiving, retention, restores to a point in time. Everything pgs knows about it (the image it
//! needs, the tenant container's settings, its commands and its JSON) stays in that file, so that
//! another engine (WAL-G, barman) could take its place behind the same types.

mod error;
pub mod pgbackrest;
pub mod plan;

pub use error::BackupError;

use serde::Serialize;

/// What a backup copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Everything.
    Full,
    /// What changed since the last full backup.
    Diff,
    /// What changed since the last backup of any kind.
    Incr,
}

impl Kind {
    /// The engine's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Full => "full",
            Kind::Diff => "diff",
            Kind::Incr => "incr",
        }
    }
}

/// Where a restore recovers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The end of the archived WAL: everything committed and archived.
    Latest,
    /// Everything committed before this time ([`parse_time`]).
    Time {
        /// As PostgreSQL reads it, in UTC.
        at: String,
        /// The same as a Unix time (whole seconds).
        unix: i64,
    },
    /// The consistent point of one backup, by label.
    Backup(String),
}

impl Target {
    /// The target `--at TIME` or `--backup LABEL` names; the latest state without either.
    pub fn named(at: Option<&str>, backup: Option<&str>) -> Result<Self, BackupError> {
        Ok(match (at, backup) {
            (Some(at), _) => parse_time(at)?,
            (None, Some(label)) => Target::Backup(label.to_string()),
            (None, None) => Target::Latest,
        })
    }
}

/// One backup in a tenant's repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Backup {
    /// The engine's label (`20261126-101010F`).
    pub label: String,
    /// full, diff or incr.
    pub kind: String,
    /// Unix time it started.
    pub started: i64,
    /// Unix time it finished.
    pub finished: i64,
    /// Size of the database it copied, in bytes.
    pub database_bytes: u64,
    /// Size in the repository (compressed, deduplicated), in bytes.
    pub repository_bytes: u64,
    /// The backup this one depends on (diff/incr), if any.
    pub prior: Option<String>,
    /// The first and last WAL segment the backup needs to be consistent.
    pub wal: Option<(String, String)>,
    /// The WAL position where it is consistent.
    #[schema(value_type = Option<String>)]
    pub lsn_stop: Option<plan::Lsn>,
}

/// A tenant's repository as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Repository {
    /// The engine's status ("ok" or what is wrong).
    pub status: String,
    /// Backups, oldest first.
    pub backups: Vec<Backup>,
    /// Oldest and newest archived WAL segment, if any.
    pub wal: Option<(String, String)>,
    /// The engine's id of the current archive (`15-1`: PostgreSQL 15, the first one).
    #[serde(skip)]
    pub archive_id: Option<String>,
    /// The earliest time a restore can reach (UTC): just after the oldest backup ended.
    pub earliest_restorable: Option<String>,
    /// The latest (UTC): now for a running tenant whose archiving works (a restore first
    /// archives what is not archived yet); otherwise when the newest WAL segment reached the
    /// repository (a stopped tenant's last one, archived when it stopped).
    pub latest_restorable: Option<String>,
}

/// How WAL archiving is doing, from PostgreSQL's own `pg_stat_archiver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Archiving {
    /// False when the last attempt failed (the repository unwritable or full, say).
    pub ok: bool,
    /// Segments archived since the statistics were reset.
    pub archived_count: u64,
    /// Failed attempts since the statistics were reset.
    pub failed_count: u64,
    /// When the last segment was archived (UTC), if ever.
    pub last_archived_at: Option<String>,
    /// When the last attempt failed (UTC), if ever.
    pub last_failed_at: Option<String>,
    /// The segment that failed last.
    pub last_failed_wal: Option<String>,
}

/// The query [`parse_archiver`] reads (one line, fields separated by `|`).
pub const ARCHIVER_SQL: &str = "SELECT archived_count, failed_count, \
     coalesce(to_char(last_archived_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''), \
     coalesce(to_char(last_failed_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''), \
     coalesce(last_failed_wal, ''), \
     coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) FROM pg_stat_archiver";

/// Reads the output of [`ARCHIVER_SQL`] (`psql -At -F '|'`).
pub fn parse_archiver(line: &str) -> Result<Archiving, BackupError> {
    let f: Vec<&str> = line.trim().split('|').collect();
    let [archived, failed, last_ok, last_failed, wal, failing] = f[..] else {
        return Err(BackupError::UnexpectedArchiverRow(line.to_string()));
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    Ok(Archiving {
        ok: failing != "t",
        archived_count: archived.parse().unwrap_or(0),
        failed_count: failed.parse().unwrap_or(0),
        last_archived_at: some(last_ok),
        last_failed_at: some(last_failed),
        last_failed_wal: some(wal),
    })
}

/// Parses a point in time given by the operator: RFC 3339 (`2026-11-26T21:00:00Z`,
/// `2026-11-26 21:00:00.123+01:00`) or PostgreSQL's own `2026-11-26 21:00:00+00`, into a target
/// in UTC as PostgreSQL reads it (`2026-11-26 20:00:00.123000+00`).
pub fn parse_time(s: &str) -> Result<Target, BackupError> {
    let mut t = s.trim().replacen(' ', "T", 1);
    // `+00` / `-05` (PostgreSQL's output) → `+00:00`.
    let short_offset = t.len().checked_sub(3).filter(|&i| {
        t.is_char_boundary(i)
            && matches!(&t[i..i + 1], "+" | "-")
            && t[i + 1..].bytes().all(|b| b.is_ascii_digit())
            && t[..i].contains('T')
    });
    if short_offset.is_some() {
        t.push_str(":00");
    }
    let at = time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339)
        .map_err(|_| BackupError::InvalidTime(s.to_string()))?
        .to_offset(time::UtcOffset::UTC);
    let at_text = format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.microsecond()
    );
    Ok(Target::Time { at: at_text, unix: at.unix_timestamp() })
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn utc(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs).map_or_else(
        |_| secs.to_string(),
        |t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archiver_rows() {
        let failing =
            parse_archiver("12|3|2026-11-26 21:00:00|2026-11-26 21:05:00|00000001000000000000000D|t\n").unwrap();
        assert!(!failing.ok);
        assert_eq!(failing.failed_count, 3);
        assert_eq!(failing.last_failed_wal.as_deref(), Some("00000001000000000000000D"));
        let fine = parse_archiver("12|0|2026-11-26 21:00:00|||f").unwrap();
        assert!(fine.ok && fine.last_failed_at.is_none());
        assert!(parse_archiver("garbage").is_err());
    }

    #[test]
    fn times_in_every_usual_spelling() {
        let at = |s: &str| match parse_time(s).unwrap() {
            Target::Time { at, unix } => (at, unix),
            other => panic!("{other:?}"),
        };
        assert_eq!(at("2026-11-26T21:00:00Z"), ("2026-11-26 21:00:00.000000+00".to_string(), 1_795_726_800));
        assert_eq!(at("2026-11-26 22:00:00.5+01:00").0, "2026-11-26 21:00:00.500000+00");
        assert_eq!(at("2026-11-26 21:00:00.123456+00").0, "2026-11-26 21:00:00.123456+00");
        assert_eq!(at("2026-11-26 16:00:00-05").0, "2026-11-26 21:00:00.000000+00");
        assert!(parse_time("yesterday").is_err());
        assert!(parse_time("2026-11-26").is_err());
    }
}
