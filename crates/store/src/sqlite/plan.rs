//! Query plans, for the tests that pin the statements the store runs to its indexes.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

/// An empty store's schema, in memory.
pub(super) fn empty_store() -> Connection {
    let conn = Connection::open_in_memory().unwrap();
    super::plan_once(&conn).unwrap();
    super::migrate(&conn, None).unwrap();
    super::correlation::attach_in_memory(&conn).unwrap();
    conn
}

/// SQLite's plan for `sql`, its steps joined with ` | `. The statement's parameters
/// take the first values of `params` (their values do not change the plan's indexes).
pub(super) fn of(conn: &Connection, sql: &str, params: &[Value]) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let count = stmt.parameter_count();
    let rows = stmt
        .query_map(params_from_iter(&params[..count]), |r| {
            r.get::<_, String>(3)
        })
        .unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join(" | ")
}
