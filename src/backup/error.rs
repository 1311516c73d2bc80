//! How reading the backup engine's output, or an operator's time, fails.

/// What could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// A time given by the operator is not one pgs reads.
    #[error("invalid time {0:?}: expected e.g. 2026-11-26T21:00:00Z or \"2026-11-26 21:00:00+00\"")]
    InvalidTime(String),
    /// `pgbackrest info` printed something that is not its JSON.
    #[error("unreadable pgbackrest info: {0}")]
    UnreadableInfo(String),
    /// The repository has no stanza of pgs's name.
    #[error("pgbackrest info has no stanza {0}")]
    NoStanza(&'static str),
    /// `pgbackrest repo-ls` printed something that is not its JSON.
    #[error("unreadable pgbackrest repo-ls: {0}")]
    UnreadableListing(String),
    /// `pg_stat_archiver` answered in an unexpected shape.
    #[error("unexpected pg_stat_archiver row {0:?}")]
    UnexpectedArchiverRow(String),
}
