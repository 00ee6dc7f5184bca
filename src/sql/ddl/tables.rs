//! Table-level statements the recipes run: drop, `SET [UN]LOGGED`, and the NOT NULL
//! constraint steps (a column's NOT NULL proven by a validated helper check).

use crate::model::QualifiedName;
use crate::sql::{quote_ident, quote_ident_list};

pub fn drop(table: &QualifiedName) -> String {
    format!("DROP TABLE {table};")
}

pub fn set_logged(table: &QualifiedName, unlogged: bool) -> String {
    let mode = if unlogged { "UNLOGGED" } else { "LOGGED" };
    format!("ALTER TABLE {table} SET {mode};")
}

pub fn validate_constraint(table: &QualifiedName, constraint: &str) -> String {
    format!(
        "ALTER TABLE {table} VALIDATE CONSTRAINT {};",
        quote_ident(constraint)
    )
}

pub fn drop_constraint(table: &QualifiedName, constraint: &str) -> String {
    format!(
        "ALTER TABLE {table} DROP CONSTRAINT {};",
        quote_ident(constraint)
    )
}

pub fn rename_constraint(table: &QualifiedName, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {table} RENAME CONSTRAINT {} TO {};",
        quote_ident(from),
        quote_ident(to)
    )
}

pub fn set_not_null(table: &QualifiedName, column: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL;",
        quote_ident(column)
    )
}

/// PostgreSQL 18+: a NOT NULL constraint that skips the scan of existing rows (checked from
/// now on, validated later by `VALIDATE CONSTRAINT`). Without a name PostgreSQL picks
/// `<table>_<column>_not_null`.
pub fn add_not_null_not_valid(table: &QualifiedName, name: Option<&str>, column: &str) -> String {
    let name = name
        .map(|n| format!("CONSTRAINT {} ", quote_ident(n)))
        .unwrap_or_default();
    format!(
        "ALTER TABLE {table} ADD {name}NOT NULL {} NOT VALID;",
        quote_ident(column)
    )
}

/// `SET EXPRESSION` of a generated column (PostgreSQL 17+ for stored, 18 for virtual ones).
pub fn set_expression(table: &QualifiedName, column: &str, expression: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} SET EXPRESSION AS ({expression});",
        quote_ident(column)
    )
}

/// `IF EXISTS`: a contract step run again after an interrupted run finds it gone.
pub fn drop_if_exists(table: &QualifiedName) -> String {
    format!("DROP TABLE IF EXISTS {table};")
}

/// `ALTER TABLE name RENAME TO new_name` (a table stays in its schema).
pub fn rename(table: &QualifiedName, new_name: &str) -> String {
    format!("ALTER TABLE {table} RENAME TO {};", quote_ident(new_name))
}

/// `LOCK TABLE ... IN ACCESS EXCLUSIVE MODE`: taken first, so that a transaction that
/// renames or drops several tables waits once, not halfway through.
pub fn lock_exclusive(tables: &[&QualifiedName]) -> String {
    let names: Vec<String> = tables.iter().map(|t| t.to_string()).collect();
    format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE;", names.join(", "))
}

pub fn inherit(table: &QualifiedName, parent: &QualifiedName) -> String {
    format!("ALTER TABLE {table} INHERIT {parent};")
}

pub fn no_inherit(table: &QualifiedName, parent: &QualifiedName) -> String {
    format!("ALTER TABLE {table} NO INHERIT {parent};")
}

/// `ADD CONSTRAINT name PRIMARY KEY | UNIQUE USING INDEX index`; `kind` is the constraint's
/// keyword, `deferral` empty or ` DEFERRABLE[ INITIALLY DEFERRED]`.
pub fn add_constraint_using_index(
    table: &QualifiedName,
    name: &str,
    kind: &str,
    index: &str,
    deferral: &str,
) -> String {
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} {kind} USING INDEX {}{deferral};",
        quote_ident(name),
        quote_ident(index)
    )
}

/// The helper check that proves a column NOT NULL without a long lock: checked for new rows
/// at once, validated for old ones later.
pub fn add_not_null_check(table: &QualifiedName, check: &str, column: &str) -> String {
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID;",
        quote_ident(check),
        quote_ident(column)
    )
}

/// `SELECT columns FROM table`: the rows a copy reads.
pub fn select_columns(table: &QualifiedName, columns: &[String]) -> String {
    format!("SELECT {} FROM {table}", quote_ident_list(columns))
}

/// Rows of `columns` set aside in a temporary table `saved` (unqualified) that goes when
/// the transaction commits.
pub fn save_rows(saved: &str, columns: &[String], from: &QualifiedName) -> String {
    format!(
        "CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {from};",
        quote_ident(saved),
        quote_ident_list(columns)
    )
}

/// Rows set aside by [`save_rows`] put back, identity values included.
pub fn restore_rows(table: &QualifiedName, columns: &[String], saved: &str) -> String {
    let columns = quote_ident_list(columns);
    format!(
        "INSERT INTO {table} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM {};",
        quote_ident(saved)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted() {
        let t = QualifiedName::new("public", "Odd t");
        assert_eq!(drop(&t), "DROP TABLE public.\"Odd t\";");
        assert_eq!(
            set_logged(&t, true),
            "ALTER TABLE public.\"Odd t\" SET UNLOGGED;"
        );
        assert_eq!(
            set_not_null(&t, "A"),
            "ALTER TABLE public.\"Odd t\" ALTER COLUMN \"A\" SET NOT NULL;"
        );
        assert_eq!(
            drop_constraint(&t, "c"),
            "ALTER TABLE public.\"Odd t\" DROP CONSTRAINT c;"
        );
    }
}
