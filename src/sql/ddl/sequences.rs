//! Sequence statements the recipes run (a sequence's own definition is `ddl::sequence_definition`).

use crate::model::{QualifiedName, Sequence};
use crate::sql::{quote_ident, quote_literal};

/// `IF EXISTS`: a sequence owned by a column that the same plan drops goes with it.
pub fn drop_if_exists(sequence: &QualifiedName) -> String {
    format!("DROP SEQUENCE IF EXISTS {sequence};")
}

pub fn drop(sequence: &QualifiedName) -> String {
    format!("DROP SEQUENCE {sequence};")
}

/// Every option of `to`, set on the live sequence of the same name.
pub fn alter_options(to: &Sequence) -> String {
    format!(
        "ALTER SEQUENCE {} {};",
        to.name,
        super::sequence_options(to)
    )
}

pub fn owned_by_none(sequence: &QualifiedName) -> String {
    format!("ALTER SEQUENCE {sequence} OWNED BY NONE;")
}

/// `ALTER SEQUENCE name RENAME TO new_name` (a sequence stays in its schema).
pub fn rename(sequence: &QualifiedName, new_name: &str) -> String {
    format!(
        "ALTER SEQUENCE {sequence} RENAME TO {};",
        quote_ident(new_name)
    )
}

pub fn owned_by(sequence: &QualifiedName, table: &QualifiedName, column: &str) -> String {
    format!(
        "ALTER SEQUENCE {sequence} OWNED BY {table}.{};",
        quote_ident(column)
    )
}

/// The sequence behind `table.column` takes the position of the sequence `from`.
pub fn set_column_position_from(
    table: &QualifiedName,
    column: &str,
    from: &QualifiedName,
) -> String {
    format!(
        "SELECT setval(pg_get_serial_sequence({}, {}), last_value, is_called) FROM {from};",
        quote_literal(&table.to_string()),
        quote_literal(column)
    )
}

/// The sequence behind `table.column` goes past the largest value the column holds (rows
/// copied in with their values), and stays where it is for an empty table.
pub fn set_column_position_to_max(table: &QualifiedName, column: &str) -> String {
    let name = quote_ident(column);
    format!(
        "SELECT setval(pg_get_serial_sequence({}, {}), max({name})) FROM {table} HAVING max({name}) IS NOT NULL;",
        quote_literal(&table.to_string()),
        quote_literal(column),
    )
}
