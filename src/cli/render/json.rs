//! `--format json` documents: each carries a `format_version`, so that a consumer can tell a
//! shape it knows from a newer one. Bumped only when a field is removed or changes meaning;
//! new fields may appear within a version. Schemas: `docs/plan.schema.json`,
//! `docs/diff.schema.json`.

use serde::Serialize;

use crate::diff::Change;
use crate::plan::Plan;

pub const FORMAT_VERSION: u32 = 1;

/// `{"format_version": 1, ...the fields of body...}`.
#[derive(Serialize)]
struct Versioned<'a, T: Serialize> {
    format_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// A plan as printed by `zdm plan --format json` and saved by `--out` (the same document, so
/// that either can be given to `zdm apply --plan`).
pub fn plan(plan: &Plan) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Versioned {
        format_version: FORMAT_VERSION,
        body: plan,
    })
}

#[derive(Serialize)]
struct Changes<'a> {
    changes: &'a [Change],
    /// Tables marked `-- zdm:data` whose rows differ; left out when none do.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rows: Vec<RowCounts>,
}

#[derive(Serialize)]
struct RowCounts {
    table: String,
    insert: usize,
    update: usize,
    delete: usize,
}

/// `{"format_version": 1, "changes": [...], "rows": [...]}`.
pub fn diff(
    changes: &[Change],
    rows: &[(crate::data::DataTable, crate::data::RowChanges)],
) -> serde_json::Result<String> {
    let rows = rows
        .iter()
        .map(|(t, c)| RowCounts {
            table: t.table.to_string(),
            insert: c.insert.len(),
            update: c.update.len(),
            delete: c.delete.len(),
        })
        .collect();
    serde_json::to_string_pretty(&Versioned {
        format_version: FORMAT_VERSION,
        body: &Changes { changes, rows },
    })
}

/// Any other versioned document (`zdm status --format json`).
pub fn document<T: Serialize>(body: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(&Versioned {
        format_version: FORMAT_VERSION,
        body,
    })
}
