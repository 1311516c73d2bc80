//! What a statement does to its session, as PostgreSQL's own parser reads it (libpg_query,
//! through the `pg_query` crate). [`super::guard`] calls it for the statements whose words may
//! make state that outlives a transaction; everything else never reaches the parser.

use pg_query::NodeEnum;
use pg_query::protobuf::{OnCommitAction, RangeVar, VariableSetKind};

use super::guard::Reason;

/// Texts longer than this are not parsed (the caller falls back to its word check, which errs on
/// the side of reserving).
pub const MAX_PARSED: usize = 256 * 1024;

/// `CURSOR_OPT_HOLD` in PostgreSQL's `parsenodes.h`: `DECLARE ... WITH HOLD`.
const CURSOR_OPT_HOLD: i32 = 0x0020;

/// Functions whose call makes state that outlives the transaction, by name (lowercase, without
/// schema): the session advisory locks, and what changes the backend for the rest of the
/// session (a setting that is not local, a named dblink connection, a replication origin).
pub const SESSION_FUNCTIONS: [(&str, Reason); 8] = [
    ("pg_advisory_lock", Reason::AdvisoryLock),
    ("pg_advisory_lock_shared", Reason::AdvisoryLock),
    ("pg_try_advisory_lock", Reason::AdvisoryLock),
    ("pg_try_advisory_lock_shared", Reason::AdvisoryLock),
    ("set_config", Reason::Backend),
    ("dblink_connect", Reason::Backend),
    ("dblink_connect_u", Reason::Backend),
    ("pg_replication_origin_session_setup", Reason::Backend),
];

/// What the parser says of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effects {
    /// The first statement's reason to keep the server connection for the client, if any.
    pub reason: Option<Reason>,
    /// A `DO` block or `CALL`: code the parser cannot see into, so the server is asked after the
    /// transaction ([`super::guard::STATE_CHECK`]) whether it left state behind.
    pub opaque: bool,
    /// Statements in the text.
    pub statements: usize,
}

/// Parses `text`; `None` when the parser cannot (a syntax error, which the server will report,
/// or a text too long to parse here). Function calls are looked for only with `calls` (the text
/// names one of [`SESSION_FUNCTIONS`]: finding them walks the whole tree).
pub fn effects(text: &str, calls: bool) -> Option<Effects> {
    if text.len() > MAX_PARSED {
        return None;
    }
    let parsed = pg_query::parse(text, pg_query::ParserOptions::DEFAULT).ok()?;
    let mut effects = Effects { reason: None, opaque: false, statements: parsed.protobuf.stmts.len() };
    for raw in &parsed.protobuf.stmts {
        let Some(node) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) else { continue };
        let reason = statement(node, &mut effects.opaque).or_else(|| calls.then(|| functions(node)).flatten());
        if effects.reason.is_none() {
            effects.reason = reason;
        }
    }
    Some(effects)
}

/// The reason a statement itself gives (not counting the functions it calls); sets `opaque`
/// for `DO` and `CALL`.
fn statement(node: &NodeEnum, opaque: &mut bool) -> Option<Reason> {
    match node {
        NodeEnum::ListenStmt(_) => Some(Reason::Listen),
        NodeEnum::VariableSetStmt(s) if !s.is_local => set(&s.name, s.kind),
        NodeEnum::DeclareCursorStmt(s) if s.options & CURSOR_OPT_HOLD != 0 => Some(Reason::HoldCursor),
        NodeEnum::CreateStmt(s) => temporary(s.relation.as_ref(), s.oncommit),
        NodeEnum::CreateTableAsStmt(s) => s.into.as_ref().and_then(|i| temporary(i.rel.as_ref(), i.on_commit)),
        NodeEnum::SelectStmt(s) => s.into_clause.as_ref().and_then(|i| temporary(i.rel.as_ref(), i.on_commit)),
        NodeEnum::ViewStmt(s) => temporary(s.view.as_ref(), OnCommitAction::OncommitNoop as i32),
        NodeEnum::CreateSeqStmt(s) => temporary(s.sequence.as_ref(), OnCommitAction::OncommitNoop as i32),
        NodeEnum::CreateFunctionStmt(s) => in_temp_schema(&s.funcname).then_some(Reason::TempTable),
        NodeEnum::PrepareStmt(_) => Some(Reason::Prepare),
        NodeEnum::LoadStmt(_) => Some(Reason::Backend),
        NodeEnum::ExplainStmt(s) => s.query.as_ref().and_then(|q| q.node.as_ref()).and_then(|q| statement(q, opaque)),
        NodeEnum::DoStmt(_) | NodeEnum::CallStmt(_) => {
            *opaque = true;
            None
        }
        _ => None,
    }
}

/// A session `SET` or `RESET` of setting `name` (as the parser names it).
fn set(name: &str, kind: i32) -> Option<Reason> {
    match name {
        "role" | "session_authorization" => Some(Reason::SetRole),
        "SESSION CHARACTERISTICS" => Some(Reason::SessionCharacteristics),
        // SET TRANSACTION ... and SET TRANSACTION SNAPSHOT: this transaction only.
        "TRANSACTION" | "TRANSACTION SNAPSHOT" if kind == VariableSetKind::VarSetMulti as i32 => None,
        _ => Some(Reason::Set),
    }
}

/// A relation made temporary (`TEMP`, or in schema `pg_temp`) that outlives its transaction.
fn temporary(relation: Option<&RangeVar>, on_commit: i32) -> Option<Reason> {
    let r = relation?;
    let temp = r.relpersistence == "t" || r.schemaname.starts_with("pg_temp");
    (temp && on_commit != OnCommitAction::OncommitDrop as i32).then_some(Reason::TempTable)
}

/// Whether a qualified name (a list of String nodes) is in the temporary schema.
fn in_temp_schema(name: &[pg_query::Node]) -> bool {
    name.len() > 1
        && matches!(name.first().and_then(|n| n.node.as_ref()), Some(NodeEnum::String(s)) if s.sval.starts_with("pg_temp"))
}

/// The reason the first session-changing function called anywhere in the statement gives
/// ([`SESSION_FUNCTIONS`]); `set_config(name, value, true)` (local) gives none.
fn functions(node: &NodeEnum) -> Option<Reason> {
    // The tree as JSON: every node kind is reached, whatever the statement nests it in.
    let tree = serde_json::to_value(node).ok()?;
    let mut found = None;
    walk(&tree, &mut |call| {
        if found.is_some() {
            return;
        }
        let name =
            call["funcname"].as_array().and_then(|n| n.last()).and_then(|n| n["node"]["String"]["sval"].as_str());
        let Some((_, reason)) = name.and_then(|n| SESSION_FUNCTIONS.iter().find(|(f, _)| *f == n)) else { return };
        if name == Some("set_config") && local_literal(&call["args"]) {
            return;
        }
        found = Some(*reason);
    });
    found
}

/// Whether `set_config`'s third argument is the literal `true` (a setting local to the
/// transaction).
fn local_literal(args: &serde_json::Value) -> bool {
    let third = &args[2]["node"];
    let constant = |c: &serde_json::Value| {
        c["val"]["Boolval"]["boolval"].as_bool() == Some(true)
            || c["val"]["Sval"]["sval"]
                .as_str()
                .is_some_and(|s| matches!(s.to_ascii_lowercase().as_str(), "t" | "true" | "on" | "yes" | "y" | "1"))
    };
    constant(&third["AConst"]) || constant(&third["TypeCast"]["arg"]["node"]["AConst"])
}

/// Calls `each` with every `FuncCall` in the tree.
fn walk(value: &serde_json::Value, each: &mut impl FnMut(&serde_json::Value)) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if key == "FuncCall" {
                    each(v);
                }
                walk(v, each);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, each)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> Option<Reason> {
        effects(text, true).unwrap_or_else(|| panic!("{text} does not parse")).reason
    }

    #[test]
    fn what_makes_session_state_is_found_by_the_parser() {
        let cases = [
            ("LISTEN jobs", Some(Reason::Listen)),
            ("SELECT 1; LISTEN \"Jobs\"", Some(Reason::Listen)),
            ("SELECT pg_advisory_lock(1)", Some(Reason::AdvisoryLock)),
            (
                "WITH l AS (SELECT pg_catalog.pg_try_advisory_lock_shared(1, 2) AS ok) SELECT ok FROM l",
                Some(Reason::AdvisoryLock),
            ),
            ("SELECT CASE WHEN x THEN pg_advisory_lock(1) END FROM t", Some(Reason::AdvisoryLock)),
            ("SELECT pg_advisory_xact_lock(1)", None),
            ("SELECT 'pg_advisory_lock(1)', $$LISTEN x$$", None),
            ("SELECT pg_advisory_lock AS c FROM locks", None),
            ("SET ROLE admin", Some(Reason::SetRole)),
            ("RESET ROLE", Some(Reason::SetRole)),
            ("SET SESSION AUTHORIZATION admin", Some(Reason::SetRole)),
            ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", Some(Reason::SessionCharacteristics)),
            ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", None),
            ("SET LOCAL search_path = a", None),
            ("SET search_path = a", Some(Reason::Set)),
            ("SELECT set_config('search_path', 'a', false)", Some(Reason::Backend)),
            ("SELECT set_config('search_path', 'a', true)", None),
            ("SELECT set_config('search_path', 'a', 'on'::boolean)", None),
            ("SELECT set_config('search_path', 'a', $1)", Some(Reason::Backend)),
            ("LOAD 'auto_explain'", Some(Reason::Backend)),
            ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", Some(Reason::HoldCursor)),
            ("DECLARE c CURSOR FOR SELECT 1", None),
            ("CREATE TEMP TABLE t (x int)", Some(Reason::TempTable)),
            ("create local temporary table t (x int)", Some(Reason::TempTable)),
            ("CREATE TEMP TABLE t (x int) ON COMMIT DROP", None),
            ("CREATE TEMP TABLE t (x int) ON COMMIT DELETE ROWS", Some(Reason::TempTable)),
            ("CREATE TABLE pg_temp.t (x int)", Some(Reason::TempTable)),
            ("CREATE TEMP TABLE t AS SELECT 1", Some(Reason::TempTable)),
            ("SELECT 1 AS x INTO TEMP t", Some(Reason::TempTable)),
            ("SELECT 1 AS x INTO t", None),
            ("CREATE TEMP VIEW v AS SELECT 1", Some(Reason::TempTable)),
            ("CREATE TEMP SEQUENCE s", Some(Reason::TempTable)),
            ("CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'", Some(Reason::TempTable)),
            ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'", None),
            ("CREATE TABLE temperatures (x int)", None),
            ("PREPARE p AS SELECT 1", Some(Reason::Prepare)),
            ("PREPARE TRANSACTION 'x'", None),
            ("EXPLAIN ANALYZE SELECT pg_advisory_lock(1)", Some(Reason::AdvisoryLock)),
            ("UPDATE t SET x = 1 WHERE id = 2", None),
        ];
        for (text, expected) in cases {
            assert_eq!(reason(text), expected, "{text}");
        }
    }

    #[test]
    fn code_the_parser_cannot_see_into_is_marked_for_the_server_check() {
        let e = effects("DO $$BEGIN PERFORM pg_advisory_lock(1); END$$", true).unwrap();
        assert!(e.opaque && e.reason.is_none());
        assert!(effects("CALL p(1)", false).unwrap().opaque);
        assert!(!effects("SELECT f(1)", true).unwrap().opaque);
        assert_eq!(effects("SELECT 1; SELECT 2", false).unwrap().statements, 2);
    }

    #[test]
    fn what_does_not_parse_is_left_to_the_caller() {
        assert_eq!(effects("SELEC 1", true), None);
        assert_eq!(effects(&"x".repeat(MAX_PARSED + 1), true), None);
        // Deep nesting is an error, not a crash.
        let deep = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        let _ = effects(&deep, true);
    }
}
