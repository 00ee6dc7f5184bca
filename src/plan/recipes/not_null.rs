//! NOT NULL on a live column without a long scan: the helper-check recipe.

use crate::diff::Change;
use crate::model::{Constraint, QualifiedName};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, LockMode, Phase, Step, TableWork};
use crate::sql::{ddl, quote_ident};

use super::{helper_name, is_not_null_helper};

/// NOT NULL without a long scan under ACCESS EXCLUSIVE: a `CHECK (c IS NOT NULL) NOT VALID`,
/// validated under SHARE UPDATE EXCLUSIVE, lets `SET NOT NULL` skip its scan (PostgreSQL 12+);
/// then the helper check goes. Picks up a helper check left by an interrupted run.
pub fn not_null_recipe(
    ctx: &Context,
    table: &QualifiedName,
    column: &str,
    has_value_for_existing_rows: bool,
    column_is_new: bool,
) -> Vec<Step> {
    let helper = helper_name("nn", column);
    let col = quote_ident(column);
    let check = quote_ident(&helper);
    let existing = ctx
        .live_table(table)
        .and_then(|t| t.constraints.get(&helper));
    let mut steps = Vec::new();
    if existing.is_none() {
        steps.push(
            Step::new(
                Phase::Validate,
                format!("add helper check {check} ({col} IS NOT NULL) without validating"),
                format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({col} IS NOT NULL) NOT VALID;"
                ),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses([Resource::Column(table.clone(), column.to_string())])
            .creates([Resource::Constraint(table.clone(), helper.clone())]),
        );
    }
    if !existing.is_some_and(|c| c.validated) {
        let mut validate = Step::new(
            Phase::Validate,
            format!("validate helper check {check}"),
            ddl::tables::validate_constraint(table, &helper),
        )
        .lock(LockMode::ShareUpdateExclusive, table)
        .work(TableWork::Scan)
        .uses([Resource::Constraint(table.clone(), helper.clone())]);
        if column_is_new && !has_value_for_existing_rows {
            validate = validate.hazard(
                HazardKind::NotOnline,
                format!(
                    "existing rows of {table} get no value for the new NOT NULL column {col}: validation fails unless it is filled; annotate the column with `-- zdm:backfill <expression>` or give it a default"
                ),
            );
        } else if !has_value_for_existing_rows {
            validate = validate.hazard(
                HazardKind::MayFail,
                format!("fails if {table}.{col} holds NULLs"),
            );
        }
        steps.push(validate);
    }
    steps.push(
        Step::new(
            Phase::Validate,
            format!("set {table}.{col} NOT NULL (proven by the check, no scan)"),
            ddl::tables::set_not_null(table, column),
        )
        .lock(LockMode::AccessExclusive, table)
        .uses([Resource::Constraint(table.clone(), helper.clone())])
        .creates([Resource::NotNull(table.clone(), column.to_string())]),
    );
    steps.push(drop_helper(table, column));
    steps
}

/// The helper check's drop, once its column is NOT NULL.
fn drop_helper(table: &QualifiedName, column: &str) -> Step {
    let helper = helper_name("nn", column);
    let check = quote_ident(&helper);
    Step::new(
        Phase::Validate,
        format!("drop helper check {check}"),
        ddl::tables::drop_constraint(table, &helper),
    )
    .lock(LockMode::AccessExclusive, table)
    .drops([Resource::Constraint(table.clone(), helper)])
}

/// The drop of a helper check that a run interrupted after `SET NOT NULL` left on a column
/// whose recipe claims it (an online type change's shadow column): nothing else drops it.
pub fn leftover_helper(ctx: &Context, table: &QualifiedName, column: &str) -> Option<Step> {
    let helper = helper_name("nn", column);
    ctx.live_table(table)?.constraints.get(&helper)?;
    Some(drop_helper(table, column))
}

/// A helper check of an interrupted NOT NULL recipe, which the column's recipe will finish.
pub fn check_awaits_not_null(
    changes: &[Change],
    table: &QualifiedName,
    constraint: &Constraint,
) -> bool {
    is_not_null_helper(constraint)
        && changes.iter().any(|c| match c {
            Change::AlterColumn {
                table: t, from, to, ..
            } => {
                t == table
                    && to.not_null
                    && !from.not_null
                    && helper_name("nn", &to.name) == constraint.name
            }
            _ => false,
        })
}
