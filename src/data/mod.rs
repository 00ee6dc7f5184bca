//! Reference data: the rows of tables the files mark `-- zdm:data` (lookup tables, an
//! application's seed rows), managed by primary key like the schema is.
//!
//! The files' `INSERT`s are loaded into the shadow database with the schema, so PostgreSQL
//! itself evaluates defaults, casts and expressions; then the rows of each marked table are
//! read from the shadow and from the live database as text, keyed by the primary key, and
//! compared. Missing and changed rows are upserted in expand (in batches), rows the files no
//! longer declare are deleted in contract, with a data-loss hazard.

mod steps;

pub use steps::steps;

use std::collections::BTreeMap;

use thiserror::Error;
use tokio_postgres::Client;

use crate::model::{ConstraintKind, Model, QualifiedName};
use crate::parse::{AnnotationKind, DesiredSchema};
use crate::source::Diagnostic;
use crate::sql::{quote_ident, quote_ident_list, quote_literal};

#[derive(Debug, Error)]
pub enum DataError {
    #[error("{0}")]
    Declaration(Diagnostic),
    #[error("reading the rows of {table}: {source}")]
    Read {
        table: QualifiedName,
        #[source]
        source: tokio_postgres::Error,
    },
}

/// A table whose rows are managed, as the desired schema declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataTable {
    pub table: QualifiedName,
    /// The primary key's columns, in key order.
    pub key: Vec<String>,
    /// Every column a row is compared and written by: all but generated ones.
    pub columns: Vec<String>,
    /// Columns of type json or jsonb: their text is JSON, written as JSON (not as a string).
    pub json_columns: Vec<String>,
}

impl DataTable {
    /// The table's rows as zdm manages them: by primary key (`None` without one).
    pub fn of(table: &crate::model::Table) -> Option<DataTable> {
        let pk = table
            .constraints
            .values()
            .find(|c| c.kind == ConstraintKind::PrimaryKey)?;
        let writable = table.columns.iter().filter(|c| c.generated.is_none());
        Some(DataTable {
            table: table.name.clone(),
            key: pk.columns.clone(),
            columns: writable.clone().map(|c| c.name.clone()).collect(),
            json_columns: writable
                .filter(|c| matches!(c.data_type.as_str(), "json" | "jsonb"))
                .map(|c| c.name.clone())
                .collect(),
        })
    }
}

/// `INSERT INTO t (...) VALUES (...), ...;` of `rows` in key order, one row a line: what
/// `zdm dump --data` writes under the table, and loads back the same rows. `None` when empty.
pub fn insert_statement(table: &DataTable, rows: &Rows) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let values: Vec<String> = rows
        .values()
        .map(|row| {
            let literals: Vec<String> = table
                .columns
                .iter()
                .map(|c| match row.get(c).cloned().flatten() {
                    Some(text) => quote_literal(&text),
                    None => "NULL".to_string(),
                })
                .collect();
            format!("    ({})", literals.join(", "))
        })
        .collect();
    Some(format!(
        "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES\n{};",
        table.table,
        quote_ident_list(&table.columns),
        values.join(",\n")
    ))
}

/// One row: each column's value as PostgreSQL prints it (`None` for NULL).
pub type Row = BTreeMap<String, Option<String>>;

/// Rows by primary key (the key columns' text, in key order).
pub type Rows = BTreeMap<Vec<Option<String>>, Row>;

/// How the live rows of one table differ from the declared ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowChanges {
    pub insert: Vec<Row>,
    pub update: Vec<Row>,
    /// Rows only the live table has; only their key columns are kept.
    pub delete: Vec<Row>,
}

impl RowChanges {
    pub fn is_empty(&self) -> bool {
        self.insert.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }

    /// `2 rows to insert, 1 to update, 1 to delete`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.insert.is_empty() {
            parts.push(format!("{} to insert", self.insert.len()));
        }
        if !self.update.is_empty() {
            parts.push(format!("{} to update", self.update.len()));
        }
        if !self.delete.is_empty() {
            parts.push(format!("{} to delete", self.delete.len()));
        }
        format!("rows: {}", parts.join(", "))
    }
}

/// The tables the files mark `-- zdm:data`, from the desired model; each needs a primary key
/// (rows are matched by it), else an error at the annotation.
pub fn data_tables(desired: &DesiredSchema, model: &Model) -> Result<Vec<DataTable>, DataError> {
    let mut out: Vec<DataTable> = Vec::new();
    for a in desired
        .annotations
        .iter()
        .filter(|a| a.kind == AnnotationKind::Data)
    {
        let at = |message: String, help: &str| {
            DataError::Declaration(
                desired
                    .sources
                    .diagnostic((a.span.file, a.span.start), message)
                    .with_help(help.to_string()),
            )
        };
        let Some(table) = model.tables.get(&a.table) else {
            return Err(at(
                format!("`zdm:data` on {}, which the files do not create", a.table),
                "put it on the line above the table's CREATE TABLE",
            ));
        };
        let Some(data_table) = DataTable::of(table) else {
            return Err(at(
                format!("`zdm:data` on {}, which has no primary key", a.table),
                "reference rows are matched by primary key: declare one",
            ));
        };
        if !out.contains(&data_table) {
            out.push(data_table);
        }
    }
    Ok(out)
}

/// The rows of `table` in the database `client` is connected to; `existing` is the columns the
/// table has there (a live table may not have them all yet, or may not exist: no rows).
pub async fn read_rows(
    client: &Client,
    table: &DataTable,
    existing: Option<&[String]>,
) -> Result<Rows, DataError> {
    let Some(existing) = existing else {
        return Ok(Rows::new());
    };
    let read: Vec<&String> = table
        .columns
        .iter()
        .filter(|c| existing.contains(c))
        .collect();
    let list: Vec<String> = read
        .iter()
        .map(|c| format!("{}::text", quote_ident(c)))
        .collect();
    // The same text on both sides, whatever the sessions' settings.
    let sql = format!(
        "SELECT {} FROM {}",
        if list.is_empty() {
            "NULL".to_string()
        } else {
            list.join(", ")
        },
        table.table
    );
    let failed = |source| DataError::Read {
        table: table.table.clone(),
        source,
    };
    client
        .batch_execute(&format!(
            "BEGIN READ ONLY; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; \
             SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; \
             SET LOCAL bytea_output = 'hex'; SET LOCAL search_path = {}",
            quote_literal("pg_catalog")
        ))
        .await
        .map_err(failed)?;
    let result = client.query(sql.as_str(), &[]).await;
    let _ = client.batch_execute("COMMIT").await;
    let mut rows = Rows::new();
    for r in result.map_err(failed)? {
        let mut row = Row::new();
        for column in &table.columns {
            // A column the live table lacks yet reads as unknown: see `compare`.
            let value = read
                .iter()
                .position(|c| *c == column)
                .and_then(|i| r.get::<_, Option<String>>(i));
            row.insert(column.clone(), value);
        }
        let key = table
            .key
            .iter()
            .map(|k| row.get(k).cloned().flatten())
            .collect();
        rows.insert(key, row);
    }
    Ok(rows)
}

/// What to do to the live rows to get the declared ones. `live_complete` is false when the
/// live table lacks some of the declared columns: then every declared row is written.
pub fn compare(declared: &Rows, live: &Rows, live_complete: bool) -> RowChanges {
    let mut changes = RowChanges::default();
    for (key, row) in declared {
        match live.get(key) {
            None => changes.insert.push(row.clone()),
            Some(current) if !live_complete || current != row => changes.update.push(row.clone()),
            Some(_) => {}
        }
    }
    for (key, row) in live {
        if !declared.contains_key(key) {
            changes.delete.push(row.clone());
        }
    }
    changes
}

/// Read both sides of every data table and compare them.
pub async fn changes(
    tables: &[DataTable],
    shadow: &Client,
    live: &Client,
    live_model: &Model,
) -> Result<Vec<(DataTable, RowChanges)>, DataError> {
    let mut out = Vec::new();
    for table in tables {
        let declared = read_rows(shadow, table, Some(&table.columns)).await?;
        let live_columns: Option<Vec<String>> = live_model
            .tables
            .get(&table.table)
            .map(|t| t.columns.iter().map(|c| c.name.clone()).collect());
        let complete = live_columns
            .as_ref()
            .is_some_and(|have| table.columns.iter().all(|c| have.contains(c)));
        let current = read_rows(live, table, live_columns.as_deref()).await?;
        let changes = compare(&declared, &current, complete);
        if !changes.is_empty() {
            out.push((table.clone(), changes));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, name: Option<&str>) -> (Vec<Option<String>>, Row) {
        let mut r = Row::new();
        r.insert("id".into(), Some(id.into()));
        r.insert("name".into(), name.map(str::to_string));
        (vec![Some(id.into())], r)
    }

    #[test]
    fn rows_are_matched_by_key_and_compared_by_value() {
        let declared: Rows = [row("1", Some("a")), row("2", Some("bee")), row("4", None)]
            .into_iter()
            .collect();
        let live: Rows = [
            row("1", Some("a")),
            row("2", Some("b")),
            row("3", Some("c")),
        ]
        .into_iter()
        .collect();
        let changes = compare(&declared, &live, true);
        assert_eq!(changes.insert, vec![row("4", None).1]);
        assert_eq!(changes.update, vec![row("2", Some("bee")).1]);
        assert_eq!(changes.delete, vec![row("3", Some("c")).1]);
        assert_eq!(
            changes.summary(),
            "rows: 1 to insert, 1 to update, 1 to delete"
        );
        // Equal rows are left alone, unless the live table lacks a declared column.
        assert!(compare(&declared, &declared, true).is_empty());
        assert_eq!(compare(&declared, &declared, false).update.len(), 3);
    }
}
