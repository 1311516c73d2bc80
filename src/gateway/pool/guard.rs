//! What transaction pooling cannot do. A pooled client's statements run on whichever server
//! connection is free, so whatever outlives a transaction on the server would reach other
//! clients or be lost: LISTEN, session-level advisory locks, `WITH HOLD` cursors, temporary
//! objects that outlive the transaction, SQL-level PREPARE, SET ROLE, a setting changed by a
//! function. In transaction mode such statements get a clear error instead of silent
//! misbehaviour; in `auto` mode they reserve the server connection for the client ([`Reason`]
//! says why).
//!
//! A session `SET name = value` (or `RESET`) on its own, outside a transaction block, is not
//! refused but carried: [`session_command`] reads it, and the pooler applies it to every server
//! connection that serves the client afterwards, as it does the startup parameters (drivers
//! send such SETs when they connect: pgJDBC's `SET extra_float_digits = 3`).
//!
//! Two steps: a scan of the words of each statement (outside quotes and comments) picks the
//! texts that may make such state ([`may_hold_state`]: most statements stop there), and
//! PostgreSQL's own parser reads those ([`super::parsed`]). A text the parser cannot read falls
//! back to a check of the first words, which errs on the side of refusing (or reserving).

/// Why a statement makes a backend's state the client's own (it would outlive the transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// `LISTEN`.
    Listen,
    /// `pg_advisory_lock` and `pg_try_advisory_lock` (session level).
    AdvisoryLock,
    /// `SET ROLE`, `SET SESSION AUTHORIZATION`.
    SetRole,
    /// `SET SESSION CHARACTERISTICS`.
    SessionCharacteristics,
    /// A session SET or RESET among other statements (the pooler carries only one sent on its
    /// own).
    Set,
    /// A session SET or RESET inside a transaction block.
    SetInTransaction,
    /// `DECLARE ... WITH HOLD`.
    HoldCursor,
    /// `CREATE TEMP TABLE` (or other temporary object) without `ON COMMIT DROP`.
    TempTable,
    /// SQL `PREPARE` (protocol-level prepared statements are renamed and shared instead).
    Prepare,
    /// `LOAD`, `set_config(..., false)`, a named dblink connection, a replication origin
    /// session: the backend changed for the rest of the session.
    Backend,
    /// A `DO` block or `CALL` after which the server said session state was left behind.
    Routine,
}

impl Reason {
    /// Every reason, in the order of [`Reason::index`].
    pub const ALL: [Reason; 11] = [
        Reason::Listen,
        Reason::AdvisoryLock,
        Reason::SetRole,
        Reason::SessionCharacteristics,
        Reason::Set,
        Reason::SetInTransaction,
        Reason::HoldCursor,
        Reason::TempTable,
        Reason::Prepare,
        Reason::Backend,
        Reason::Routine,
    ];

    /// Its place in [`Reason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether the server can tell when this state is gone ([`STATE_CHECK`]): a reservation
    /// that has only such reasons ends when the client has ended them; one for another reason
    /// lasts until the client leaves.
    pub fn checkable(self) -> bool {
        matches!(
            self,
            Reason::Listen
                | Reason::AdvisoryLock
                | Reason::SetRole
                | Reason::HoldCursor
                | Reason::TempTable
                | Reason::Prepare
                | Reason::Routine
        )
    }

    /// A short name, for metrics labels and log lines.
    pub fn label(self) -> &'static str {
        match self {
            Reason::Listen => "listen",
            Reason::AdvisoryLock => "advisory_lock",
            Reason::SetRole => "set_role",
            Reason::SessionCharacteristics => "session_characteristics",
            Reason::Set => "set",
            Reason::SetInTransaction => "set_in_transaction",
            Reason::HoldCursor => "hold_cursor",
            Reason::TempTable => "temp_table",
            Reason::Prepare => "prepare",
            Reason::Backend => "backend",
            Reason::Routine => "routine",
        }
    }

    /// What the client did, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Listen => "LISTEN",
            Reason::AdvisoryLock => "a session-level advisory lock (use pg_advisory_xact_lock)",
            Reason::SetRole => "SET ROLE and SET SESSION AUTHORIZATION",
            Reason::SessionCharacteristics => "SET SESSION CHARACTERISTICS",
            Reason::Set => "SET or RESET of a session setting together with other statements (send it on its own)",
            Reason::SetInTransaction => {
                "SET or RESET of a session setting inside a transaction block (use SET LOCAL, or SET outside the transaction)"
            }
            Reason::HoldCursor => "a WITH HOLD cursor",
            Reason::TempTable => "a temporary table that outlives its transaction (use ON COMMIT DROP)",
            Reason::Prepare => "SQL PREPARE (protocol-level prepared statements work)",
            Reason::Backend => {
                "LOAD, set_config(..., false) or a named dblink connection (they change the backend for the rest of the session)"
            }
            Reason::Routine => "a DO block or procedure that left session state behind",
        }
    }
}

/// What a statement text does to its session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Assessment {
    /// What in it would outlive its transaction on the server; `None` if all of it can be
    /// pooled.
    pub reason: Option<Reason>,
    /// It runs code the parser cannot see into (`DO`, `CALL`): the server is asked after the
    /// transaction whether it left state behind ([`STATE_CHECK`]).
    pub opaque: bool,
}

/// What `text` (a simple Query's or a Parse's) does to its session: the word scan, then the
/// parser for the texts the scan picks.
pub fn assess(text: &[u8]) -> Assessment {
    let lower = text.to_ascii_lowercase();
    if !may_hold_state(&lower) {
        return Assessment::default();
    }
    let calls = CALLS.iter().any(|w| contains(&lower, w));
    let parsed =
        std::str::from_utf8(text).ok().filter(|t| !t.contains('\0')).and_then(|t| super::parsed::effects(t, calls));
    let Some(effects) = parsed else {
        return Assessment { reason: by_words(&lower, text), opaque: false };
    };
    // A session SET sent on its own is carried, not reserved for.
    let carried = effects.statements == 1 && session_command(text).is_some();
    Assessment { reason: effects.reason.filter(|r| !(carried && *r == Reason::Set)), opaque: effects.opaque }
}

/// What in `text` would outlive its transaction on the server ([`assess`]).
pub fn refused(text: &[u8]) -> Option<Reason> {
    assess(text).reason
}

/// Words in the names of the functions whose calls make session state
/// ([`super::parsed::SESSION_FUNCTIONS`]).
const CALLS: [&[u8]; 4] = [b"advisory", b"set_config", b"dblink", b"origin_session"];

/// Whether a text (lowercase) may make state that outlives its transaction: a statement that
/// starts with a word that can, or a word anywhere that names such a thing. A superset: the
/// parser decides.
pub fn may_hold_state(lower: &[u8]) -> bool {
    CALLS.iter().chain(&[&b"temp"[..], b"hold"]).any(|w| contains(lower, w))
        || statements(lower).any(|s| {
            matches!(
                words(s).next(),
                Some(b"listen" | b"set" | b"reset" | b"prepare" | b"do" | b"call" | b"load" | b"explain")
            )
        })
}

/// The first-words check, for texts the parser cannot read (`lower` is `text` in lowercase).
fn by_words(lower: &[u8], text: &[u8]) -> Option<Reason> {
    if contains(lower, b"pg_advisory_lock") || contains(lower, b"pg_try_advisory_lock") {
        return Some(Reason::AdvisoryLock);
    }
    let parts: Vec<&[u8]> = statements(lower).filter(|s| words(s).next().is_some()).collect();
    let carried = parts.len() == 1 && session_command(text).is_some();
    for statement in parts {
        let words: Vec<&[u8]> = words(statement).take(4).collect();
        let refusal = match words.as_slice() {
            [b"listen", ..] => Some(Reason::Listen),
            [b"set", b"local" | b"transaction" | b"constraints", ..] => None,
            [b"set", b"session", b"characteristics", ..] => Some(Reason::SessionCharacteristics),
            [b"set" | b"reset", b"role", ..] | [b"set" | b"reset", b"session", b"authorization", ..] => {
                Some(Reason::SetRole)
            }
            [b"set" | b"reset", ..] if !carried => Some(Reason::Set),
            [b"declare", ..] if contains(statement, b"with hold") => Some(Reason::HoldCursor),
            [b"create", b"temp" | b"temporary", ..] | [b"create", b"local" | b"global", b"temp" | b"temporary", ..]
                if !contains(statement, b"on commit drop") =>
            {
                Some(Reason::TempTable)
            }
            [b"prepare", b"transaction", ..] => None,
            [b"prepare", ..] => Some(Reason::Prepare),
            [b"load", ..] => Some(Reason::Backend),
            _ => None,
        };
        if refusal.is_some() {
            return refusal;
        }
    }
    None
}

/// Asks a server connection, between transactions, whether its backend still holds state that
/// is its client's own (`t` or `f`): channels listened to, session advisory locks, holdable
/// cursors, SQL prepared statements, temporary objects, a role other than the login role (`$1`
/// is replaced by the login role as an SQL literal).
pub const STATE_CHECK: &str = "SELECT EXISTS (SELECT FROM pg_listening_channels()) \
     OR EXISTS (SELECT FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) \
     OR EXISTS (SELECT FROM pg_cursors WHERE is_holdable) \
     OR EXISTS (SELECT FROM pg_prepared_statements WHERE from_sql) \
     OR EXISTS (SELECT FROM pg_class WHERE relnamespace = pg_my_temp_schema()) \
     OR EXISTS (SELECT FROM pg_proc WHERE pronamespace = pg_my_temp_schema()) \
     OR current_user <> session_user OR session_user <> $1";

/// Whether `text` may end session state (UNLISTEN, an advisory unlock, CLOSE, DEALLOCATE,
/// DROP, DISCARD, RESET, SET ROLE NONE, ROLLBACK): after such a transaction the pooler asks the
/// server ([`STATE_CHECK`]) whether the client's reserved connection can be shared again.
pub fn may_release(text: &[u8]) -> bool {
    let lower = text.to_ascii_lowercase();
    contains(&lower, b"advisory_unlock")
        || statements(&lower).any(|s| {
            matches!(
                words(s).next(),
                Some(
                    b"unlisten"
                        | b"close"
                        | b"deallocate"
                        | b"drop"
                        | b"discard"
                        | b"reset"
                        | b"set"
                        | b"rollback"
                        | b"abort"
                )
            )
        })
}

/// A session-level SET or RESET that the pooler carries from connection to connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    /// `SET name = value` (`value` as SQL text, as the client wrote it).
    Set {
        /// Setting name, lowercase.
        name: String,
        /// The value, as SQL.
        value: String,
    },
    /// `RESET name` (or `SET name = DEFAULT`).
    Reset(String),
    /// `RESET ALL`.
    ResetAll,
}

/// The session SET or RESET that `text` is, if it is one statement of that kind and of a form
/// the pooler can carry: `SET [SESSION] name {=|TO} value`, `SET TIME ZONE`, `SET NAMES`,
/// `SET SCHEMA`, `RESET name`, `RESET ALL`. `SET LOCAL`, `SET TRANSACTION` and the like are
/// not session commands.
pub fn session_command(text: &[u8]) -> Option<SessionCommand> {
    let parts: Vec<&[u8]> = statements(text).filter(|s| words(s).next().is_some()).collect();
    let [statement] = parts.as_slice() else { return None };
    let is = |w: &[u8], k: &str| w.eq_ignore_ascii_case(k.as_bytes());
    let (first, rest) = word_at(statement)?;
    let (mut second, mut rest) = word_at(rest)?;
    if is(first, "reset") {
        if is(second, "all") {
            return word_at(rest).is_none().then_some(SessionCommand::ResetAll);
        }
        let (name, rest) = setting_name(second, rest)?;
        return word_at(rest).is_none().then_some(SessionCommand::Reset(name));
    }
    if !is(first, "set") {
        return None;
    }
    if is(second, "session") {
        (second, rest) = word_at(rest)?;
    }
    let (name, value) = if is(second, "time") {
        let (zone, rest) = word_at(rest)?;
        is(zone, "zone").then_some(("timezone".to_string(), rest))?
    } else if is(second, "names") {
        ("client_encoding".to_string(), rest)
    } else if is(second, "schema") {
        ("search_path".to_string(), rest)
    } else {
        if ["local", "transaction", "constraints", "role", "session", "characteristics"].iter().any(|k| is(second, k)) {
            return None;
        }
        let (name, rest) = setting_name(second, rest)?;
        let (op, value) = word_at(rest)?;
        if !(op == b"=" || is(op, "to")) {
            return None;
        }
        (name, value)
    };
    let value = std::str::from_utf8(value).ok()?.trim().trim_end_matches(';').trim();
    if value.is_empty() || value.contains('\0') {
        return None;
    }
    if value.eq_ignore_ascii_case("default") {
        return Some(SessionCommand::Reset(name));
    }
    Some(SessionCommand::Set { name, value: value.to_string() })
}

/// A setting name starting with `first` (`a` or `a.b`), lowercase, and what follows it.
fn setting_name<'a>(first: &'a [u8], rest: &'a [u8]) -> Option<(String, &'a [u8])> {
    let mut name = String::from_utf8(first.to_ascii_lowercase()).ok()?;
    let mut rest = rest;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let (second, tail) = word_at(after_dot)?;
        name.push('.');
        name.push_str(std::str::from_utf8(&second.to_ascii_lowercase()).ok()?);
        rest = tail;
    }
    let plain = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    (plain && !name.is_empty() && name.len() < 64).then_some((name, rest))
}

/// Whether a simple Query's text makes the server forget its prepared statements
/// (`DEALLOCATE ALL`, `DISCARD ALL`).
pub fn drops_statements(query_body: &[u8]) -> bool {
    let text = query_body.split(|&b| b == 0).next().unwrap_or_default().to_ascii_lowercase();
    statements(&text).any(|s| {
        let w: Vec<&[u8]> = words(s).take(3).collect();
        matches!(
            w.as_slice(),
            [b"deallocate", b"all", ..] | [b"deallocate", b"prepare", b"all", ..] | [b"discard", b"all", ..]
        )
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}

/// The statements of a text, split at semicolons outside quotes, dollar quotes and comments;
/// comments are blanked out.
fn statements(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < text.len() {
        match text[i] {
            b'\'' | b'"' => {
                let q = text[i];
                i += 1;
                while i < text.len() && text[i] != q {
                    i += 1;
                }
            }
            b'-' if text.get(i + 1) == Some(&b'-') => {
                while i < text.len() && text[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if text.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < text.len() && !(text[i] == b'*' && text[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b'$' => {
                // $tag$ ... $tag$
                let tag_end = text[i + 1..].iter().position(|&b| b == b'$').map(|p| i + 1 + p);
                if let Some(end) =
                    tag_end.filter(|&e| text[i + 1..e].iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_'))
                {
                    let tag = &text[i..=end];
                    let close = text[end + 1..].windows(tag.len()).position(|w| w == tag);
                    i = close.map_or(text.len(), |p| end + 1 + p + tag.len() - 1);
                }
            }
            b';' => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start.min(text.len())..]);
    parts.into_iter()
}

/// The first word of `text` (comments and white space skipped; a word is a run of letters,
/// digits and `_`, or one other character) and what follows it.
fn word_at(text: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut rest = text;
    loop {
        rest = rest.trim_ascii_start();
        if rest.starts_with(b"--") {
            rest = rest.iter().position(|&b| b == b'\n').map_or(&[][..], |p| &rest[p..]);
        } else if rest.starts_with(b"/*") {
            rest = rest.windows(2).position(|w| w == b"*/").map_or(&[][..], |p| &rest[p + 2..]);
        } else {
            break;
        }
    }
    if rest.is_empty() {
        return None;
    }
    let end = rest.iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'_')).unwrap_or(rest.len()).max(1);
    Some(rest.split_at(end))
}

/// The words of a statement, comments skipped.
fn words(statement: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = statement;
    std::iter::from_fn(move || {
        let (word, tail) = word_at(rest)?;
        rest = tail;
        Some(word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Option<Reason> {
        refused(s.as_bytes())
    }

    #[test]
    fn what_outlives_a_transaction_is_refused() {
        assert_eq!(r("LISTEN jobs"), Some(Reason::Listen));
        assert_eq!(r("  /* hi */ -- x\n listen \"Jobs\""), Some(Reason::Listen));
        assert_eq!(r("SELECT pg_advisory_lock(1)"), Some(Reason::AdvisoryLock));
        assert_eq!(r("SET search_path = a; SELECT 1"), Some(Reason::Set));
        for (i, reason) in Reason::ALL.iter().enumerate() {
            assert_eq!(reason.index(), i);
        }
        assert!(r("SELECT 1; LISTEN jobs").is_some());
        assert!(r("SET ROLE admin").is_some());
        assert!(r("SET SESSION AUTHORIZATION admin").is_some());
        assert!(r("SET search_path = a; SELECT 1").is_some(), "a SET among other statements");
        assert!(r("SELECT pg_advisory_lock(1)").is_some());
        assert!(r("select pg_try_advisory_lock($1)").is_some());
        assert!(r("DECLARE c CURSOR WITH HOLD FOR SELECT 1").is_some());
        assert!(r("CREATE TEMP TABLE t (x int)").is_some());
        assert!(r("create local temporary table t (x int)").is_some());
        assert!(r("PREPARE p AS SELECT 1").is_some());
    }

    #[test]
    fn what_ends_with_the_transaction_passes() {
        for ok in [
            "SELECT 1",
            "SET LOCAL statement_timeout = 5",
            "set search_path = a",
            "SET SESSION statement_timeout = 5",
            "RESET ALL",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SELECT pg_advisory_xact_lock(1)",
            "DECLARE c CURSOR FOR SELECT 1",
            "CREATE TEMP TABLE t (x int) ON COMMIT DROP",
            "SELECT 'LISTEN x; SET y'",
            "SELECT $$; listen x$$",
            "SELECT $f$ ; reset all $f$, 1",
            "-- listen\nSELECT 1",
            "UNLISTEN *",
            "PREPARE TRANSACTION 'x'",
            "INSERT INTO settings VALUES (1)",
            "",
        ] {
            assert_eq!(r(ok), None, "{ok}");
        }
    }

    #[test]
    fn session_commands_are_read_as_written() {
        let set = |n: &str, v: &str| Some(SessionCommand::Set { name: n.into(), value: v.into() });
        let c = |s: &str| session_command(s.as_bytes());
        assert_eq!(c("SET extra_float_digits = 3"), set("extra_float_digits", "3"));
        assert_eq!(c("set Search_Path TO 'My Schema', public;"), set("search_path", "'My Schema', public"));
        assert_eq!(c("SET SESSION myapp.user_id = '42'"), set("myapp.user_id", "'42'"));
        assert_eq!(c("SET TIME ZONE 'Europe/Berlin'"), set("timezone", "'Europe/Berlin'"));
        assert_eq!(c("SET NAMES 'UTF8'"), set("client_encoding", "'UTF8'"));
        assert_eq!(c("SET work_mem TO DEFAULT"), Some(SessionCommand::Reset("work_mem".into())));
        assert_eq!(c("RESET work_mem"), Some(SessionCommand::Reset("work_mem".into())));
        assert_eq!(c("RESET ALL"), Some(SessionCommand::ResetAll));
        for not in [
            "SET LOCAL work_mem = 1",
            "SET TRANSACTION READ ONLY",
            "SET ROLE x",
            "SELECT 1",
            "SET a = 1; SET b = 2",
            "SET x =",
        ] {
            assert_eq!(c(not), None, "{not}");
        }
    }

    #[test]
    fn what_may_end_session_state_is_seen() {
        for yes in [
            "UNLISTEN *",
            "select pg_advisory_unlock(1)",
            "SELECT pg_advisory_unlock_all()",
            "CLOSE c",
            "DEALLOCATE p",
            "DROP TABLE t",
            "DISCARD TEMP",
            "RESET ROLE",
            "SET ROLE NONE",
            "SELECT 1; ROLLBACK",
        ] {
            assert!(may_release(yes.as_bytes()), "{yes}");
        }
        for no in ["SELECT 1", "LISTEN x", "INSERT INTO t VALUES ('unlisten')", "-- drop\nSELECT 2"] {
            assert!(!may_release(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn statement_drops_are_seen() {
        assert!(drops_statements(b"DEALLOCATE ALL\0"));
        assert!(drops_statements(b"discard all\0"));
        assert!(!drops_statements(b"DEALLOCATE s1\0"));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_an_answer_not_a_panic(text in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = refused(&text);
            let _ = drops_statements(&text);
            let _ = session_command(&text);
        }
    }
}
