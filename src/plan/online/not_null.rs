//! NOT NULL on a live column without a long scan: the helper-check recipe.

use crate::diff::Change;
use crate::model::{Column, Constraint, QualifiedName};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, LockMode, Phase, Step, TableWork};
use crate::sql::{ddl, quote_ident};

use crate::plan::recipes::{helper_name, is_not_null_helper};

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
    let existing = ctx
        .live_table(table)
        .and_then(|t| t.constraints.get(&helper));
    // A helper check left by an interrupted run is finished the way it was started.
    if existing.is_none() {
        if let Some(name) = named_constraint(ctx, table, column) {
            let values = Values {
                present: has_value_for_existing_rows,
                column_is_new,
            };
            return not_valid_constraint_recipe(ctx, table, column, &name, values);
        }
    }
    let col = quote_ident(column);
    let check = quote_ident(&helper);
    let mut steps = Vec::new();
    if existing.is_none() {
        steps.push(
            Step::new(
                Phase::Validate,
                format!("add helper check {check} ({col} IS NOT NULL) without validating"),
                ddl::tables::add_not_null_check(table, &helper, column),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses([Resource::Column(table.clone(), column.to_string())])
            .creates([Resource::Constraint(table.clone(), helper.clone())]),
        );
    }
    if !existing.is_some_and(|c| c.validated) {
        let validate = Step::new(
            Phase::Validate,
            format!("validate helper check {check}"),
            ddl::tables::validate_constraint(table, &helper),
        )
        .lock(LockMode::ShareUpdateExclusive, table)
        .work(TableWork::Scan)
        .uses([Resource::Constraint(table.clone(), helper.clone())]);
        let values = Values {
            present: has_value_for_existing_rows,
            column_is_new,
        };
        steps.push(validation_hazard(validate, table, column, values));
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

/// NOT NULL on a column zdm adds for a while under a helper name (an online type change's
/// shadow column), whose NOT NULL constraint on PostgreSQL 18+ is given `name` (the desired
/// schema has no such column to take one from) so that the swap can rename it to the
/// desired name. Before 18, or when an interrupted run left a helper check, as
/// [`not_null_recipe`] does.
pub fn not_null_recipe_named(
    ctx: &Context,
    table: &QualifiedName,
    column: &str,
    name: &str,
    has_value_for_existing_rows: bool,
) -> Vec<Step> {
    let helper_left = ctx
        .live_table(table)
        .is_some_and(|t| t.constraints.contains_key(&helper_name("nn", column)));
    if helper_left || ctx.from.server_version < NOT_NULL_NOT_VALID_SINCE {
        return not_null_recipe(ctx, table, column, has_value_for_existing_rows, false);
    }
    let pending = pending_name(ctx, table, column);
    let values = Values {
        present: has_value_for_existing_rows,
        column_is_new: false,
    };
    let name = pending.as_deref().unwrap_or(name);
    not_valid_constraint_recipe(ctx, table, column, name, values)
}

/// PostgreSQL 18+: the name of a column's NOT NULL constraint an interrupted run left
/// `NOT VALID`.
fn pending_name(ctx: &Context, table: &QualifiedName, column: &str) -> Option<String> {
    ctx.live_table(table)
        .and_then(|t| t.column(column))
        .filter(|c| !c.not_null)
        .and_then(|c| c.not_null_name.clone())
}

/// Whether the existing rows have a value for the column, and whether it is new.
#[derive(Clone, Copy)]
struct Values {
    present: bool,
    column_is_new: bool,
}

/// What the validating scan risks: a new column without a value for existing rows cannot
/// pass; an existing one fails on its NULLs.
fn validation_hazard(step: Step, table: &QualifiedName, column: &str, values: Values) -> Step {
    let col = quote_ident(column);
    if values.column_is_new && !values.present {
        step.hazard(
            HazardKind::NotOnline,
            format!(
                "existing rows of {table} get no value for the new NOT NULL column {col}: validation fails unless it is filled; annotate the column with `-- zdm:backfill <expression>` or give it a default"
            ),
        )
    } else if !values.present {
        step.hazard(
            HazardKind::MayFail,
            format!("fails if {table}.{col} holds NULLs"),
        )
    } else {
        step
    }
}

/// PostgreSQL 18+: the name the column's NOT NULL constraint gets, when zdm can use one. A
/// `NOT VALID` one left by an interrupted run first (validated, not added again), else the
/// desired side's. `None` before 18, or when the desired side was read from an older server
/// (no name to validate by): the helper-check recipe then.
fn named_constraint(ctx: &Context, table: &QualifiedName, column: &str) -> Option<String> {
    if ctx.from.server_version < NOT_NULL_NOT_VALID_SINCE {
        return None;
    }
    pending_name(ctx, table, column).or_else(|| {
        ctx.to
            .tables
            .get(table)
            .and_then(|t| t.column(column))
            .and_then(|c| c.not_null_name.clone())
    })
}

/// `ALTER TABLE ... ADD CONSTRAINT ... NOT NULL ... NOT VALID` exists since PostgreSQL 18.
const NOT_NULL_NOT_VALID_SINCE: i32 = 180_000;

/// NOT NULL on PostgreSQL 18+: the constraint itself, added `NOT VALID` (checked for new rows
/// at once, no scan) and validated under SHARE UPDATE EXCLUSIVE, which makes the column NOT
/// NULL. Two steps where the helper check takes four, and no helper to drop. Picks up a
/// `NOT VALID` constraint left by an interrupted run.
fn not_valid_constraint_recipe(
    ctx: &Context,
    table: &QualifiedName,
    column: &str,
    name: &str,
    values: Values,
) -> Vec<Step> {
    let col = quote_ident(column);
    let constraint = quote_ident(name);
    let pending = ctx
        .live_table(table)
        .and_then(|t| t.column(column))
        .is_some_and(|c| c.not_null_name.as_deref() == Some(name));
    let mut steps = Vec::new();
    if !pending {
        steps.push(
            Step::new(
                Phase::Validate,
                format!("add NOT NULL constraint {constraint} on {table}.{col} without validating"),
                ddl::tables::add_not_null_not_valid(table, Some(name), column),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses([Resource::Column(table.clone(), column.to_string())])
            .creates([Resource::Constraint(table.clone(), name.to_string())]),
        );
    }
    let validate = Step::new(
        Phase::Validate,
        format!("validate NOT NULL constraint {constraint} (sets {table}.{col} NOT NULL)"),
        ddl::tables::validate_constraint(table, name),
    )
    .lock(LockMode::ShareUpdateExclusive, table)
    .work(TableWork::Scan)
    .uses([Resource::Constraint(table.clone(), name.to_string())])
    .creates([Resource::NotNull(table.clone(), column.to_string())]);
    steps.push(validation_hazard(validate, table, column, values));
    steps
}

/// PostgreSQL 18+: a column's NOT NULL constraint that only needs another name (e.g. one
/// `CREATE TABLE ... LIKE` named after its source table): renamed in place, a catalog update.
pub fn rename(table: &QualifiedName, from: &Column, to: &Column) -> Option<Step> {
    if !crate::diff::column_differences(from, to).contains(&"not null name") {
        return None;
    }
    let (old, new) = (from.not_null_name.as_ref()?, to.not_null_name.as_ref()?);
    Some(
        Step::new(
            Phase::Expand,
            format!(
                "rename NOT NULL constraint {} of {table}.{} to {}",
                quote_ident(old),
                quote_ident(&to.name),
                quote_ident(new)
            ),
            ddl::tables::rename_constraint(table, old, new),
        )
        .lock(LockMode::AccessExclusive, table)
        .uses([Resource::Column(table.clone(), to.name.clone())])
        .creates([Resource::Constraint(table.clone(), new.clone())]),
    )
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
