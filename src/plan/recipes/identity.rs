//! A `serial` column that becomes an identity column keeps its numbering. `ADD GENERATED ...
//! AS IDENTITY` alone would start a new sequence at 1 under rows that already hold those
//! numbers, so the next inserts would collide. It would also be named `<table>_<column>_seq1`,
//! because the serial's sequence still holds the name. One short transaction moves the old
//! sequence aside, adds the identity, carries the position over and drops the old sequence.

use crate::model::{Column, IdentitySequence, QualifiedName, Sequence};
use crate::plan::Context;
use crate::sql::ddl::columns::clause;
use crate::sql::{ddl, quote_ident};

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
        ddl::columns::drop_default(table, column),
        // No longer the column's: `pg_get_serial_sequence` below must find the identity's.
        ddl::sequences::owned_by_none(&sequence.name),
        ddl::sequences::rename(&sequence.name, &aside.name),
        alter.to_string(),
        ddl::sequences::set_column_position_from(table, column, &aside),
        ddl::sequences::drop(&aside),
    ]
    .join("\n")
}

/// The `ALTER COLUMN` clause that gives an identity column its desired kind and sequence
/// options in place (`SET GENERATED ...`, `SET INCREMENT BY ...`, ...), or adds the identity,
/// plus the statements the clause cannot express (a renamed or moved sequence).
pub fn identity_clauses(has_rows: bool, from: &Column, to: &Column) -> (Vec<String>, Vec<String>) {
    let (Some(kind), Some(before)) = (to.identity, from.identity) else {
        let clause = to
            .identity
            .filter(|_| from.identity.is_none())
            .map(|kind| clause::add_identity(&to.name, kind, to.identity_sequence.as_ref()));
        return (clause.into_iter().collect(), Vec::new());
    };
    let sequences = from
        .identity_sequence
        .as_ref()
        .zip(to.identity_sequence.as_ref());
    // START only says where a RESTART goes; an empty table restarts there so that its first
    // row gets the desired number. (A table with rows keeps its position: restarting would
    // hand out numbers its rows already hold.)
    let restart = sequences.is_some_and(|(old, new)| {
        let bounds_moved = old.start != new.start
            || old.min_value != new.min_value
            || old.max_value != new.max_value;
        bounds_moved && !has_rows
    });
    let options = clause::identity_changes(before, kind, sequences, restart);
    let after = sequences
        .map(|(old, new)| rename_sequence(old, new))
        .unwrap_or_default();
    let clauses = if options.is_empty() {
        Vec::new()
    } else {
        vec![clause::alter_identity(&to.name, &options)]
    };
    (clauses, after)
}

/// `SEQUENCE NAME` cannot be altered through the column; the sequence itself can be renamed
/// (it stays the column's identity sequence, and PostgreSQL keeps it in the table's schema).
fn rename_sequence(old: &IdentitySequence, new: &IdentitySequence) -> Vec<String> {
    if old.name.name == new.name.name {
        return Vec::new();
    }
    vec![ddl::sequences::rename(&old.name, &new.name.name)]
}

/// Why an identity change on a table with rows may fail now or collide later: narrowed bounds
/// (`ALTER` fails when the sequence's position lies outside them), `CYCLE` (numbering wraps
/// into values rows hold), a reversed increment (counts back over them), a moved `START`
/// (where any later `RESTART` goes, possibly under existing rows).
pub fn conflict_hazard(has_rows: bool, from: &Column, to: &Column) -> Option<String> {
    let (Some(old), Some(new)) = (&from.identity_sequence, &to.identity_sequence) else {
        return None;
    };
    if !has_rows || from.identity.is_none() {
        return None;
    }
    let mut reasons = Vec::new();
    if new.min_value > old.min_value || new.max_value < old.max_value {
        reasons
            .push("its bounds narrow: the change fails if the sequence already lies outside them");
    }
    if new.cycle && !old.cycle {
        reasons.push("it cycles: once past its bound it hands out values existing rows hold");
    }
    if (new.increment > 0) != (old.increment > 0) {
        reasons.push("its increment reverses: it counts back over values existing rows hold");
    }
    if new.start != old.start {
        reasons.push("its START moves: the sequence keeps its position, and a later RESTART goes to a START that existing rows may hold");
    }
    if reasons.is_empty() {
        return None;
    }
    Some(format!(
        "identity column {} holds values already: {}",
        quote_ident(&to.name),
        reasons.join("; ")
    ))
}
