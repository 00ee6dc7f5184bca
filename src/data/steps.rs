//! The steps that bring a table's rows to the declared ones: upserts in expand, deletes in
//! contract, each batch one short statement whose rows travel as a JSON literal
//! (`json_populate_recordset` turns them into the live table's row type, so every value goes
//! through its column type's own input function, exactly as the files' `INSERT` did).

use serde_json::{Map, Value};

use super::{DataTable, Row, RowChanges};
use crate::plan::{HazardKind, LockMode, Phase, Step};
use crate::sql::{quote_ident, quote_ident_list, quote_literal};

/// Rows per statement: short transactions, few round trips.
const BATCH: usize = 500;

/// Expand's upserts and contract's deletes for one table.
pub fn steps(table: &DataTable, changes: &RowChanges) -> Vec<Step> {
    let writes: Vec<&Row> = changes.insert.iter().chain(&changes.update).collect();
    let deletes: Vec<&Row> = changes.delete.iter().collect();
    let upserts = writes.chunks(BATCH).map(|batch| {
        Step::new(
            Phase::Expand,
            format!(
                "write {} declared row(s) of {} (reference data)",
                batch.len(),
                table.table
            ),
            upsert_sql(table, batch),
        )
        .lock(LockMode::RowExclusive, &table.table)
    });
    let removals = deletes.chunks(BATCH).map(|batch| {
        Step::new(
            Phase::Contract,
            format!(
                "delete {} row(s) of {} that the files no longer declare (reference data)",
                batch.len(),
                table.table
            ),
            delete_sql(table, batch),
        )
        .lock(LockMode::RowExclusive, &table.table)
        .hazard(
            HazardKind::DataLoss,
            format!(
                "deletes {} row(s) of {} (keys {}); rows other tables reference make the step fail",
                batch.len(),
                table.table,
                keys_shown(table, batch)
            ),
        )
    });
    upserts.chain(removals).collect()
}

fn upsert_sql(table: &DataTable, rows: &[&Row]) -> String {
    let list = quote_ident_list(&table.columns);
    let set: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !table.key.contains(c))
        .map(|c| format!("{0} = EXCLUDED.{0}", quote_ident(c)))
        .collect();
    let conflict = if set.is_empty() {
        "DO NOTHING".to_string()
    } else {
        format!("DO UPDATE SET {}", set.join(", "))
    };
    format!(
        "INSERT INTO {t} ({list}) OVERRIDING SYSTEM VALUE\nSELECT {list} FROM pg_catalog.json_populate_recordset(NULL::{t}, {rows}::pg_catalog.json)\nON CONFLICT ({key}) {conflict};",
        t = table.table,
        rows = rows_json(table, rows, &table.columns),
        key = quote_ident_list(&table.key),
    )
}

fn delete_sql(table: &DataTable, rows: &[&Row]) -> String {
    let list = quote_ident_list(&table.key);
    format!(
        "DELETE FROM {t} WHERE ({list}) IN (SELECT {list} FROM pg_catalog.json_populate_recordset(NULL::{t}, {rows}::pg_catalog.json));",
        t = table.table,
        rows = rows_json(table, rows, &table.key),
    )
}

/// The rows' `columns` as a quoted JSON array of objects: each value its column's text (JSON
/// itself for json and jsonb columns), NULL as null.
fn rows_json(table: &DataTable, rows: &[&Row], columns: &[String]) -> String {
    let array: Vec<Value> = rows
        .iter()
        .map(|row| {
            let object: Map<String, Value> = columns
                .iter()
                .map(|c| {
                    let value = match row.get(c).cloned().flatten() {
                        None => Value::Null,
                        Some(text) if table.json_columns.contains(c) => {
                            serde_json::from_str(&text).unwrap_or(Value::String(text))
                        }
                        Some(text) => Value::String(text),
                    };
                    (c.clone(), value)
                })
                .collect();
            Value::Object(object)
        })
        .collect();
    quote_literal(&Value::Array(array).to_string())
}

/// The first few keys of `rows`, for a hazard message.
fn keys_shown(table: &DataTable, rows: &[&Row]) -> String {
    let mut shown: Vec<String> = rows
        .iter()
        .take(5)
        .map(|row| {
            let parts: Vec<String> = table
                .key
                .iter()
                .map(|k| {
                    row.get(k)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "NULL".into())
                })
                .collect();
            format!("({})", parts.join(", "))
        })
        .collect();
    if rows.len() > 5 {
        shown.push("...".into());
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QualifiedName;

    #[test]
    fn upserts_in_expand_and_deletes_in_contract_with_a_hazard() {
        let table = DataTable {
            table: QualifiedName::new("public", "countries"),
            key: vec!["code".into()],
            columns: vec!["code".into(), "name".into(), "meta".into()],
            json_columns: vec!["meta".into()],
        };
        let mut row = Row::new();
        row.insert("code".into(), Some("fr".into()));
        row.insert("name".into(), Some("France's".into()));
        row.insert("meta".into(), Some("{\"eu\": true}".into()));
        let changes = RowChanges {
            insert: vec![row.clone()],
            update: Vec::new(),
            delete: vec![row],
        };
        let steps = steps(&table, &changes);
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].phase, Phase::Expand);
        assert!(steps[0].hazards.is_empty());
        assert!(
            steps[0].sql.contains(
                "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, meta = EXCLUDED.meta"
            ),
            "{}",
            steps[0].sql
        );
        // Quotes doubled inside the literal; JSON columns stay JSON.
        assert!(steps[0].sql.contains("France''s"), "{}", steps[0].sql);
        assert!(
            steps[0].sql.contains("\"meta\":{\"eu\":true}"),
            "{}",
            steps[0].sql
        );
        assert_eq!(steps[1].phase, Phase::Contract);
        assert_eq!(steps[1].hazards[0].kind, HazardKind::DataLoss);
        assert!(steps[1]
            .sql
            .starts_with("DELETE FROM public.countries WHERE (code) IN"));
    }
}
