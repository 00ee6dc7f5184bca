//! A `serial` column that becomes an identity column keeps its numbering. `ADD GENERATED ...
//! AS IDENTITY` alone would start a new sequence at 1 under rows that already hold those
//! numbers, so the next inserts would collide. It would also be named `<table>_<column>_seq1`,
//! because the serial's sequence still holds the name. One short transaction moves the old
//! sequence aside, adds the identity, carries the position over and drops the old sequence.

use crate::model::{Column, QualifiedName, Sequence};
use crate::plan::Context;
use crate::sql::{quote_ident, quote_literal};

use super::helper_name;

/// The live sequence that feeds `from` through its `nextval` default and is owned by it, when
/// `to` turns the column into an identity column and the desired schema drops the sequence.
pub fn replaced_serial_sequence<'a>(
    ctx: &'a Context,
    table: &QualifiedName,
    from: &Column,
    to: &Column,
) -> Option<&'a Sequence> {
    if from.identity.is_some() || to.identity.is_none() {
        return None;
    }
    let default = from.default.as_deref()?;
    ctx.from.sequences.values().find(|sequence| {
        sequence
            .owned_by
            .as_ref()
            .is_some_and(|o| &o.table == table && o.column == from.name)
            && default.contains("nextval(")
            && !ctx.to.sequences.contains_key(&sequence.name)
    })
}

/// Whether dropping `sequence` is part of its column becoming an identity column (see
/// [`replaced_serial_sequence`]): then that step drops it, not a step of its own.
pub fn is_replaced_by_identity(ctx: &Context, sequence: &Sequence) -> bool {
    let Some(owner) = &sequence.owned_by else {
        return false;
    };
    let live = ctx
        .live_table(&owner.table)
        .and_then(|t| t.column(&owner.column));
    let desired = ctx
        .desired_table(&owner.table)
        .and_then(|t| t.column(&owner.column));
    match (live, desired) {
        (Some(from), Some(to)) => replaced_serial_sequence(ctx, &owner.table, from, to)
            .is_some_and(|s| s.name == sequence.name),
        _ => false,
    }
}

/// The statements around `alter` (an `ALTER TABLE` that adds the identity, without the
/// column's `DROP DEFAULT`, which goes first here).
pub fn carry_over_sql(
    table: &QualifiedName,
    column: &str,
    sequence: &Sequence,
    alter: &str,
) -> String {
    let aside = QualifiedName::new(
        sequence.name.schema.clone(),
        helper_name("old", &sequence.name.name),
    );
    [
        format!(
            "ALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT;",
            quote_ident(column)
        ),
        // No longer the column's: `pg_get_serial_sequence` below must find the identity's.
        format!("ALTER SEQUENCE {} OWNED BY NONE;", sequence.name),
        format!(
            "ALTER SEQUENCE {} RENAME TO {};",
            sequence.name,
            quote_ident(&aside.name)
        ),
        alter.to_string(),
        format!(
            "SELECT setval(pg_get_serial_sequence({}, {}), last_value, is_called) FROM {aside};",
            quote_literal(&table.to_string()),
            quote_literal(column)
        ),
        format!("DROP SEQUENCE {aside};"),
    ]
    .join("\n")
}
