//! What Citus refuses on its distributed tables, refused here before anything runs.
//!
//! Citus propagates most DDL on a distributed table to its shards (columns, defaults, NOT
//! NULL, CHECK, indexes built `CONCURRENTLY`), but refuses what would move data between
//! workers or need a lookup across them: altering the distribution column, a primary key or
//! unique constraint without it, and foreign keys other than between co-located distributed
//! tables on the distribution column, or from a distributed table to a reference table. A
//! table zdm would re-create (a new table, rows copied, names swapped) would come out as a
//! local table. Each is a `PlanError` naming the table and why, so nothing in the database
//! changes when such a plan cannot be made.

use super::{Context, PlanError};
use crate::diff::Change;
use crate::model::{Constraint, ConstraintKind, Distribution, QualifiedName, Table};
use crate::sql::quote_ident;

/// Refuse the changes Citus would refuse on the live database's distributed tables.
pub(crate) fn refuse_what_citus_refuses(
    ctx: &Context,
    changes: &[Change],
) -> Result<(), PlanError> {
    if ctx.from.distributed.is_empty() {
        return Ok(());
    }
    for change in changes {
        if let Change::RecreateTable { from, .. } = change {
            if ctx.from.distributed.contains_key(&from.name) {
                return Err(refusal(
                    &from.name,
                    "zdm would re-create it as a new table (its partitioning changes), which Citus would not distribute; \
                     change it with Citus's own functions (e.g. alter_distributed_table) instead",
                ));
            }
        }
    }
    for (name, distribution) in &ctx.from.distributed {
        let (Some(live), Some(desired)) = (ctx.from.tables.get(name), ctx.to.tables.get(name))
        else {
            continue;
        };
        distribution_column_kept(name, distribution, live, desired)?;
        keys_include_distribution_column(name, distribution, live, desired)?;
        foreign_keys_colocated(ctx, name, distribution, live, desired)?;
    }
    local_tables_reference_no_distributed_table(ctx)
}

/// A table zdm creates or keeps is local (zdm never distributes one): its new foreign keys
/// may not reference a distributed table (a reference table is fine).
fn local_tables_reference_no_distributed_table(ctx: &Context) -> Result<(), PlanError> {
    let local = ctx
        .to
        .tables
        .values()
        .filter(|t| !ctx.from.distributed.contains_key(&t.name));
    for table in local {
        let live = ctx.from.tables.get(&table.name);
        for constraint in table.constraints.values() {
            let Some(fk) = &constraint.foreign_key else {
                continue;
            };
            let distributed = ctx
                .from
                .distributed
                .get(&fk.referenced_table)
                .is_some_and(|d| !d.reference);
            if added(live, constraint) && distributed {
                return Err(refusal(
                    &fk.referenced_table,
                    &format!(
                        "local table {} would reference it by foreign key {}; Citus allows foreign keys to a distributed table only from a co-located distributed table",
                        table.name, constraint.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A constraint of the desired table that the live one (if any) lacks or has otherwise: what
/// the plan adds, where Citus's rules apply.
fn added(live: Option<&Table>, constraint: &Constraint) -> bool {
    live.and_then(|t| t.constraints.get(&constraint.name)) != Some(constraint)
}

fn refusal(table: &QualifiedName, reason: &str) -> PlanError {
    PlanError::Unsupported {
        what: format!("the change to Citus distributed table {table}"),
        reason: reason.to_string(),
    }
}

/// The distribution column stays, with its type (Citus: "cannot execute ALTER TABLE command
/// involving partition column"). A rename by annotation drops the old column in contract.
fn distribution_column_kept(
    name: &QualifiedName,
    distribution: &Distribution,
    live: &Table,
    desired: &Table,
) -> Result<(), PlanError> {
    let Some(column) = &distribution.column else {
        return Ok(());
    };
    let Some(kept) = desired.column(column) else {
        return Err(refusal(
            name,
            &format!(
                "its distribution column {} would be dropped or renamed",
                quote_ident(column)
            ),
        ));
    };
    if live
        .column(column)
        .is_some_and(|c| c.data_type != kept.data_type)
    {
        return Err(refusal(
            name,
            &format!(
                "the type of its distribution column {} would change; Citus cannot alter it",
                quote_ident(column)
            ),
        ));
    }
    Ok(())
}

/// New primary keys, unique constraints and unique indexes include the distribution column:
/// Citus checks uniqueness within a shard only.
fn keys_include_distribution_column(
    name: &QualifiedName,
    distribution: &Distribution,
    live: &Table,
    desired: &Table,
) -> Result<(), PlanError> {
    let Some(column) = &distribution.column else {
        return Ok(());
    };
    for constraint in desired.constraints.values() {
        let unique = matches!(
            constraint.kind,
            ConstraintKind::PrimaryKey | ConstraintKind::Unique
        );
        if unique && added(Some(live), constraint) && !constraint.columns.contains(column) {
            return Err(refusal(
                name,
                &format!(
                    "{} would not include its distribution column {}; Citus enforces uniqueness within a shard only",
                    constraint.name,
                    quote_ident(column)
                ),
            ));
        }
    }
    let quoted = quote_ident(column);
    for index in desired.indexes.values().filter(|i| i.unique) {
        let new = live.indexes.get(&index.name) != Some(index);
        let covers = index
            .key_expressions
            .iter()
            .any(|k| k == &quoted || k.starts_with(&format!("{quoted} ")));
        if new && !covers {
            return Err(refusal(
                name,
                &format!(
                    "unique index {} would not include its distribution column {quoted}",
                    index.name
                ),
            ));
        }
    }
    Ok(())
}

/// New foreign keys of a distributed table reference a reference table, or a distributed table
/// on both distribution columns; a reference table references no distributed table.
fn foreign_keys_colocated(
    ctx: &Context,
    name: &QualifiedName,
    distribution: &Distribution,
    live: &Table,
    desired: &Table,
) -> Result<(), PlanError> {
    for constraint in desired.constraints.values() {
        let Some(fk) = &constraint.foreign_key else {
            continue;
        };
        if !added(Some(live), constraint) {
            continue;
        }
        let Some(target) = ctx.from.distributed.get(&fk.referenced_table) else {
            continue;
        };
        if target.reference {
            continue;
        }
        let on_both_columns = match (&distribution.column, &target.column) {
            (Some(own), Some(theirs)) => constraint
                .columns
                .iter()
                .zip(&fk.referenced_columns)
                .any(|(c, r)| c == own && r == theirs),
            _ => false,
        };
        if !on_both_columns {
            return Err(refusal(
                name,
                &format!(
                    "foreign key {} to distributed table {} would not pair the two distribution columns",
                    constraint.name, fk.referenced_table
                ),
            ));
        }
    }
    Ok(())
}
