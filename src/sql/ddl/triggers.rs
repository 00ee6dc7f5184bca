//! DDL of triggers, from `pg_get_triggerdef`.

use super::comment_on;
use crate::model::Trigger;
use crate::sql::quote_ident;

/// `CREATE TRIGGER ...`, then its enabled state when that is not the default.
pub fn create(trigger: &Trigger) -> String {
    let mut sql = format!("{};", trigger.definition.trim_end_matches(';'));
    if let Some(state) = enable(trigger) {
        sql.push('\n');
        sql.push_str(&state);
    }
    sql
}

/// `ALTER TABLE ... {ENABLE|DISABLE} TRIGGER`, `None` for the default (`O`).
pub fn enable(trigger: &Trigger) -> Option<String> {
    let clause = match trigger.enabled.as_str() {
        "D" => "DISABLE TRIGGER",
        "R" => "ENABLE REPLICA TRIGGER",
        "A" => "ENABLE ALWAYS TRIGGER",
        _ => return None,
    };
    Some(format!(
        "ALTER TABLE {} {clause} {};",
        trigger.table,
        quote_ident(&trigger.name)
    ))
}

/// Back to the default state (after a trigger was disabled, say).
pub fn set_enabled(trigger: &Trigger) -> String {
    enable(trigger).unwrap_or_else(|| {
        format!(
            "ALTER TABLE {} ENABLE TRIGGER {};",
            trigger.table,
            quote_ident(&trigger.name)
        )
    })
}

pub fn drop(trigger: &Trigger) -> String {
    format!("DROP {};", trigger.id.sql())
}

pub fn comments(trigger: &Trigger) -> Vec<String> {
    trigger
        .comment
        .iter()
        .map(|c| comment_on(&trigger.id.sql(), Some(c)))
        .collect()
}

pub fn definition(trigger: &Trigger) -> String {
    let mut lines = vec![create(trigger)];
    lines.extend(comments(trigger));
    lines.join("\n")
}

/// `CREATE OR REPLACE TRIGGER` (PostgreSQL 14+) from [`create`]'s text, `None` when that
/// text is not a plain `CREATE TRIGGER` (a constraint trigger cannot be replaced).
pub fn replace(trigger: &Trigger) -> Option<String> {
    create(trigger)
        .strip_prefix("CREATE TRIGGER ")
        .map(|rest| format!("CREATE OR REPLACE TRIGGER {rest}"))
}

/// Rename a trigger only when it is there (a rehearsal's copy of the live schema has none
/// of zdm's triggers): a `DO` block that checks the catalog first.
pub fn rename_if_exists(table: &crate::model::QualifiedName, from: &str, to: &str) -> String {
    let alter = format!(
        "ALTER TRIGGER {} ON {table} RENAME TO {}",
        quote_ident(from),
        quote_ident(to)
    );
    format!(
        "DO $zdm$ BEGIN\n\
         \x20 IF EXISTS (SELECT FROM pg_catalog.pg_trigger WHERE tgrelid = {}::pg_catalog.regclass AND tgname = {}) THEN\n\
         \x20   EXECUTE {};\n\
         \x20 END IF;\nEND $zdm$;",
        crate::sql::quote_literal(&table.to_string()),
        crate::sql::quote_literal(from),
        crate::sql::quote_literal(&alter),
    )
}
