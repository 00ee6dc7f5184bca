//! Table-level statements the recipes run: drop, `SET [UN]LOGGED`, and the NOT NULL
//! constraint steps (a column's NOT NULL proven by a validated helper check).

use crate::model::QualifiedName;
use crate::sql::quote_ident;

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
