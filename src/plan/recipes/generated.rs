//! A generated column whose expression or kind (stored, or virtual on PostgreSQL 18) changes.

use crate::model::{Column, QualifiedName};
use crate::plan::resource::{column_uses, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, Step, TableWork};
use crate::sql::{ddl, quote_ident};

/// What the generation change takes: `Done` when the column is dropped and added again (its
/// other attributes come with the new definition), `More` when the rest of the column's
/// changes still follow.
pub(super) enum Generated {
    Done(Vec<Step>),
    More(Vec<Step>),
}

/// `None` when the column's generation is unchanged.
pub(super) fn alter(
    ctx: &Context,
    table: &QualifiedName,
    from: &Column,
    to: &Column,
) -> Option<Generated> {
    if from.generated == to.generated && from.virtual_generated == to.virtual_generated {
        return None;
    }
    let col = quote_ident(&to.name);
    let uses = [Resource::Column(table.clone(), to.name.clone())];
    match (&from.generated, &to.generated) {
        // A stored column keeps its values as a plain one; a virtual one has none to keep.
        (Some(_), None) if !from.virtual_generated => Some(Generated::More(vec![Step::new(
            Phase::Expand,
            format!("stop generating {table}.{col} (values kept)"),
            ddl::columns::drop_expression(table, &to.name),
        )
        .lock(LockMode::AccessExclusive, table)
        .uses(uses)])),
        // Virtual to virtual: PostgreSQL 18 swaps the expression in the catalog, no rewrite
        // (nothing is stored), unless a NOT NULL makes it check every row.
        (Some(_), Some(expression)) if from.virtual_generated && to.virtual_generated => {
            let mut step = Step::new(
                Phase::Expand,
                format!("change the expression of virtual column {col} of {table}"),
                ddl::tables::set_expression(table, &to.name, expression),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses(column_uses(ctx.to, table, to));
            if to.not_null && ctx.has_rows(table) {
                step = step.work(TableWork::Scan).hazard(
                    HazardKind::MayFail,
                    format!("fails if the new expression of {table}.{col} yields NULL for a row"),
                );
            }
            Some(Generated::More(vec![step]))
        }
        _ => Some(Generated::Done(vec![recreate(ctx, table, from, to)])),
    }
}

/// Drop the column and add it again with its new definition.
fn recreate(ctx: &Context, table: &QualifiedName, from: &Column, to: &Column) -> Step {
    let col = quote_ident(&to.name);
    let mut step = Step::new(
        Phase::Expand,
        format!("recreate generated column {col} of {table}"),
        ddl::columns::recreate(table, to),
    )
    .lock(LockMode::AccessExclusive, table)
    .uses(column_uses(ctx.to, table, to));
    let has_rows = ctx.has_rows(table);
    // A virtual column is computed when read: adding one writes no row.
    if has_rows && (to.generated.is_none() || !to.virtual_generated || to.not_null) {
        step = step.work(TableWork::Rewrite).hazard(
            HazardKind::TableRewrite,
            format!("{table} is rewritten to compute {col} under ACCESS EXCLUSIVE"),
        );
    }
    if from.generated.is_none() {
        step = step.hazard(
            HazardKind::DataLoss,
            format!("the stored values of {table}.{col} are replaced by computed ones"),
        );
    } else if to.generated.is_none() {
        step = step.hazard(
            HazardKind::DataLoss,
            format!("{table}.{col} stops being virtual: the column is added again without the values it computed"),
        );
    }
    step
}
