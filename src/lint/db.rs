//! What `--db` tells the rules: table sizes (`pg_class.reltuples`/`relpages`) and whether a
//! column type change is binary-coercible (`pg_cast.castmethod = 'b'`, or the same type with
//! a wider length/precision), gathered once for the tables and columns the files name.

use std::collections::BTreeMap;

use thiserror::Error;
use tokio_postgres::Client;

use super::coercion::{known_in_place, written};
use super::summary::{AlterAction, StatementKind, StatementSummary};

#[derive(Debug, Error)]
#[error("cannot read table sizes and casts from the live database: {0}")]
pub struct DbError(#[from] tokio_postgres::Error);

#[derive(Debug, Clone, Default)]
pub struct DbFacts {
    /// Table as written -> estimated rows (None: not in the database, e.g. created by the file).
    rows: BTreeMap<String, f64>,
    /// (table, column, new type as written) -> in place?
    type_changes: BTreeMap<(String, String, String), bool>,
}

impl DbFacts {
    pub fn rows(&self, table: &str) -> Option<f64> {
        self.rows.get(table).copied()
    }

    pub fn type_change(&self, table: &str, column: &str, to: &str) -> Option<bool> {
        self.type_changes
            .get(&(table.to_string(), column.to_string(), to.to_string()))
            .copied()
    }
}

const ROWS: &str = "SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::float8 \
     WHEN c.relpages = 0 THEN 0::float8 ELSE NULL END \
     FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)";

/// The old type (name and modifiers as `format_type` spells them), and whether a binary
/// coercion cast exists from it to the new one.
const TYPE_CHANGE: &str = "SELECT t.typname::text, a.atttypmod, \
       a.atttypid = n.oid OR EXISTS (SELECT 1 FROM pg_catalog.pg_cast k \
         WHERE k.castsource = a.atttypid AND k.casttarget = n.oid AND k.castmethod = 'b'), \
       n.oid IS NOT NULL \
     FROM pg_catalog.pg_attribute a \
     JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
     LEFT JOIN (SELECT pg_catalog.to_regtype($3) AS oid) n ON true \
     WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped";

pub async fn gather(client: &Client, statements: &[StatementSummary]) -> Result<DbFacts, DbError> {
    let mut facts = DbFacts::default();
    for s in statements {
        let Some(table) = &s.table else { continue };
        if !facts.rows.contains_key(table) {
            if let Some(row) = client.query_opt(ROWS, &[table]).await? {
                if let Some(rows) = row.get::<_, Option<f64>>(0) {
                    facts.rows.insert(table.clone(), rows);
                }
            }
        }
        let StatementKind::AlterTable { actions } = &s.kind else {
            continue;
        };
        for action in actions {
            let AlterAction::AlterType {
                column,
                to: Some(to),
                ..
            } = action
            else {
                continue;
            };
            let to_text = written(to);
            let Some(row) = client
                .query_opt(TYPE_CHANGE, &[table, column, &to_text])
                .await?
            else {
                continue;
            };
            let (old, typmod, coercible, known): (String, i32, bool, bool) =
                (row.get(0), row.get(1), row.get(2), row.get(3));
            if !known {
                continue;
            }
            let in_place = if old == to.name {
                known_in_place(&old, &modifiers(&old, typmod), to)
            } else {
                coercible
                    && (to.modifiers.is_empty()
                        || known_in_place(&old, &modifiers(&old, typmod), to))
            };
            facts
                .type_changes
                .insert((table.clone(), column.clone(), to_text), in_place);
        }
    }
    Ok(facts)
}

/// A column's type modifiers back from `atttypmod` (length for varchar/bpchar/varbit,
/// precision and scale for numeric), as they are written.
fn modifiers(type_name: &str, typmod: i32) -> Vec<i64> {
    if typmod < 0 {
        return Vec::new();
    }
    let m = i64::from(typmod);
    match type_name {
        "varchar" | "bpchar" => vec![m - 4],
        "numeric" => vec![((m - 4) >> 16) & 0xffff, (m - 4) & 0xffff],
        _ => vec![m],
    }
}
