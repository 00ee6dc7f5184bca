//! Online type changes asked for by `-- zdm:using <expr>`: a shadow column of the new type,
//! kept computed from the old column by a trigger, backfilled, given the old column's indexes
//! and constraints (built concurrently / NOT VALID + VALIDATE), and swapped in under the old
//! name in one short transaction at contract.
//!
//! Like the rename recipes, this one is driven by the transform and the live model, so that a
//! re-plan between phases picks up where the last phase stopped; the diff's changes for the
//! column (its type change, the shadow column, the helper indexes and constraints) are claimed.

use crate::diff::Change;
use crate::model::{Column, Constraint, ConstraintKind, QualifiedName, Table};
use crate::plan::resource::Resource;
use crate::plan::{Context, LockMode, Op, Phase, Step, TableWork, Transform};
use crate::sql::{ddl, quote_ident};

use super::backfill::backfill_step;
use super::not_null::{leftover_helper, not_null_recipe, not_null_recipe_named};
use super::sync;
use crate::plan::recipes::columns::is_binary_coercible;
use crate::plan::recipes::helper_name;
use crate::plan::recipes::indexes::{build_concurrently, mentions};

pub fn shadow_name(column: &str) -> String {
    helper_name("new", column)
}

fn old_name(column: &str) -> String {
    helper_name("old", column)
}

/// A type change under way (or about to start) on a live table.
struct Retype<'a> {
    table: &'a QualifiedName,
    live: &'a Table,
    desired: &'a Table,
    from: &'a Column,
    to: &'a Column,
    expression: &'a str,
    shadow: String,
}

fn active<'a>(
    ctx: &'a Context,
    table: &'a QualifiedName,
    column: &str,
    expression: &'a str,
) -> Option<Retype<'a>> {
    let live = ctx.live_table(table)?;
    let desired = ctx.desired_table(table)?;
    let from = live.column(column)?;
    let to = desired.column(column)?;
    let shadow = shadow_name(column);
    let started = live.column(&shadow).is_some();
    let type_changes = from.data_type != to.data_type || from.collation != to.collation;
    let in_place =
        is_binary_coercible(&from.data_type, &to.data_type) && from.collation == to.collation;
    // An empty table is converted in place (nothing to rewrite).
    if !started && (!type_changes || in_place || !ctx.has_rows(table)) {
        return None;
    }
    Some(Retype {
        table,
        live,
        desired,
        from,
        to,
        expression,
        shadow,
    })
}

fn transforms<'a>(ctx: &'a Context) -> impl Iterator<Item = Retype<'a>> + 'a {
    ctx.options.transforms.iter().filter_map(move |t| match t {
        Transform::UsingType {
            table,
            column,
            expression,
        } => active(ctx, table, column, expression),
        _ => None,
    })
}

/// Whether a change belongs to a type change under way.
pub fn claims(ctx: &Context, change: &Change) -> bool {
    transforms(ctx).any(|r| {
        let column = &r.to.name;
        let involves = |text: &str| mentions(text, column) || mentions(text, &r.shadow);
        match change {
            Change::AlterColumn { table, to, .. } => table == r.table && &to.name == column,
            Change::DropColumn { table, column: c } => table == r.table && c.name == r.shadow,
            Change::AddIndex { table, index }
            | Change::DropIndex { table, index }
            | Change::ReplaceIndex {
                table, to: index, ..
            } => {
                table == r.table
                    && (index.key_expressions.iter().any(|e| involves(e))
                        || index.include.iter().any(|e| involves(e))
                        || index.predicate.as_deref().is_some_and(involves))
            }
            Change::AddConstraint { table, constraint }
            | Change::DropConstraint { table, constraint }
            | Change::ValidateConstraint { table, constraint } => {
                table == r.table
                    && constraint
                        .columns
                        .iter()
                        .any(|c| c == column || c == &r.shadow)
            }
            _ => false,
        }
    })
}

pub fn steps(ctx: &Context) -> Vec<Step> {
    transforms(ctx).flat_map(|r| recipe(ctx, &r)).collect()
}

/// Replace the column `from` by `to` wherever a catalog rendering names it.
pub fn substitute(text: &str, from: &str, to: &str) -> String {
    let ident = quote_ident(from);
    let is_ident_char = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (i, m) in text.match_indices(&ident) {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        if before.is_some_and(|c| is_ident_char(c) || c == '"' || c == '.')
            || after.is_some_and(|c| is_ident_char(c) || c == '"')
            || i < last
        {
            continue;
        }
        out.push_str(&text[last..i]);
        out.push_str(&quote_ident(to));
        last = i + m.len();
    }
    out.push_str(&text[last..]);
    out
}

/// An index definition (`CREATE INDEX n ON t USING ...`) on the shadow column instead.
fn on_shadow(definition: &str, column: &str, shadow: &str) -> String {
    match definition.split_once(" USING ") {
        Some((head, tail)) => format!("{head} USING {}", substitute(tail, column, shadow)),
        None => substitute(definition, column, shadow),
    }
}

fn recipe(ctx: &Context, r: &Retype) -> Vec<Step> {
    let table = r.table;
    let col = quote_ident(&r.to.name);
    let shadow = quote_ident(&r.shadow);
    let live_shadow = r.live.column(&r.shadow);
    let mut steps = Vec::new();

    if live_shadow.is_none() {
        let bare = super::backfill::companion(r.to, &r.shadow);
        steps.push(
            Step::new(
                Phase::Expand,
                format!(
                    "add shadow column {shadow} {} to {table} for the type change of {col}",
                    r.to.data_type
                ),
                crate::sql::ddl::columns::add(table, &bare),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses(crate::plan::resource::column_uses(ctx.to, table, &bare))
            .creates([Resource::Column(table.clone(), r.shadow.clone())]),
        );
    }
    let names = sync::derived_trigger_names(table, &r.shadow);
    if !sync::trigger_exists(ctx.from, table, &names.trigger) {
        steps.push(create_trigger(table, &r.shadow, r.expression));
    }
    let mut convert = backfill_step(ctx, table, &r.shadow, r.expression);
    if let Some(b) = convert.backfill.as_mut() {
        // A row whose old value converts to NULL has nothing to fill.
        b.pending_only_where = Some(format!("({}) IS NOT NULL", r.expression));
    }
    steps.push(convert);

    // Validate: the indexes and constraints the desired schema has on the column, built on
    // the shadow column under helper names (renamed at the swap).
    let mut renames = Vec::new();
    let mut attach = Vec::new();
    let live_index = |name: &str| r.live.indexes.get(name);
    for index in r.desired.indexes.values().filter(|i| {
        i.key_expressions
            .iter()
            .chain(&i.include)
            .chain(&i.predicate)
            .any(|e| mentions(e, &r.to.name))
    }) {
        let helper = helper_name("new", &index.name);
        steps.extend(build_index(
            ctx,
            r,
            &helper,
            &index.definition,
            live_index(&helper).map(|i| i.valid),
        ));
        renames.push(ddl::indexes::rename(
            &QualifiedName::new(table.schema.clone(), helper.clone()),
            &index.name,
        ));
    }
    for constraint in r
        .desired
        .constraints
        .values()
        .filter(|c| !c.inherited && c.columns.iter().any(|c| c == &r.to.name))
    {
        let helper = helper_name("new", &constraint.name);
        match constraint.kind {
            ConstraintKind::Check | ConstraintKind::ForeignKey => {
                steps.extend(build_constraint(ctx, r, &helper, constraint));
                renames.push(ddl::tables::rename_constraint(
                    table,
                    &helper,
                    &constraint.name,
                ));
            }
            ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
                let Some(definition) = &constraint.index_definition else {
                    continue;
                };
                steps.extend(build_index(
                    ctx,
                    r,
                    &helper,
                    definition,
                    live_index(&helper).map(|i| i.valid),
                ));
                let kind = if constraint.kind == ConstraintKind::PrimaryKey {
                    "PRIMARY KEY"
                } else {
                    "UNIQUE"
                };
                // The index takes the constraint's name when it is attached.
                attach.push(ddl::tables::add_constraint_using_index(
                    table,
                    &constraint.name,
                    kind,
                    &helper,
                    "",
                ));
            }
            ConstraintKind::Exclusion => {}
        }
    }
    // PostgreSQL 18: the shadow's NOT NULL constraint takes the desired name at the swap
    // (after the old column, and its constraint of that name, are dropped); until then it
    // has a helper name. Otherwise it would keep the shadow's name (`t_zdm_new_c_not_null`)
    // where a fresh install of the schema has `t_c_not_null`, and never converge.
    let nn_helper = r.to.not_null_name.as_ref().map(|n| helper_name("new", n));
    if r.to.not_null && !live_shadow.is_some_and(|c| c.not_null) {
        steps.extend(match &nn_helper {
            Some(helper) => not_null_recipe_named(ctx, table, &r.shadow, helper, r.from.not_null),
            None => not_null_recipe(ctx, table, &r.shadow, r.from.not_null, false),
        });
    } else {
        steps.extend(leftover_helper(ctx, table, &r.shadow));
    }

    if let Some(wanted) = r.to.not_null_name.as_ref().filter(|_| r.to.not_null) {
        // The name the shadow's NOT NULL has by the swap: the live one once it is there
        // (zdm re-plans before every phase), else the one the recipe above gives it.
        let shadow_nn = live_shadow
            .filter(|c| c.not_null)
            .and_then(|c| c.not_null_name.clone())
            .or(nn_helper);
        if let Some(current) = shadow_nn.filter(|c| c != wanted) {
            renames.push(ddl::tables::rename_constraint(table, &current, wanted));
        }
    }

    // Contract: swap in one short transaction.
    let old = old_name(&r.to.name);
    let mut sql = vec![
        ddl::sync::drop_trigger(&names.trigger, table),
        ddl::columns::rename(table, &r.to.name, &old),
        ddl::columns::rename(table, &r.shadow, &r.to.name),
    ];
    for sequence in ctx.from.sequences.values().filter(|s| {
        s.owned_by
            .as_ref()
            .is_some_and(|o| &o.table == table && o.column == r.to.name)
    }) {
        sql.push(ddl::sequences::owned_by(&sequence.name, table, &r.to.name));
    }
    sql.push(ddl::columns::drop(table, &old, false));
    if let Some(default) = &r.to.default {
        sql.push(ddl::columns::set_default(table, &r.to.name, default));
    }
    sql.extend(attach);
    sql.extend(renames);
    sql.push(ddl::sync::drop_function(&names.function));
    let mut swap = Step::new(
        Phase::Contract,
        format!(
            "swap {shadow} in as {table}.{col} ({} -> {}) and drop the old column",
            r.from.data_type, r.to.data_type
        ),
        sql.join("\n"),
    )
    .op(Op::SwapColumns {
        table: table.clone(),
        column: r.to.name.clone(),
        sync_function: names.function.clone(),
    })
    .lock(LockMode::AccessExclusive, table)
    .uses([
        Resource::Column(table.clone(), r.shadow.clone()),
        Resource::NotNull(table.clone(), r.shadow.clone()),
    ]);
    if r.live.constraints.values().any(|c| {
        matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
            && c.columns.contains(&r.to.name)
    }) && referenced_by_foreign_keys(ctx, table, &r.to.name)
    {
        swap = swap.hazard(
            crate::plan::HazardKind::NotOnline,
            format!(
                "foreign keys of other tables reference {table}.{col}: dropping the old column fails until they are moved"
            ),
        );
    }
    // The old column is renamed and dropped: views reading it (by attnum) are re-created
    // around the swap (or flagged when they cannot be), see `plan::views`.
    swap = swap.repoints([Resource::Column(table.clone(), r.to.name.clone())]);
    steps.push(swap);
    steps
}

fn referenced_by_foreign_keys(ctx: &Context, table: &QualifiedName, column: &str) -> bool {
    ctx.from.tables.values().any(|t| {
        t.constraints.values().any(|c| {
            c.foreign_key.as_ref().is_some_and(|fk| {
                &fk.referenced_table == table && fk.referenced_columns.iter().any(|c| c == column)
            })
        })
    })
}

fn build_index(
    _ctx: &Context,
    r: &Retype,
    helper: &str,
    definition: &str,
    live_valid: Option<bool>,
) -> Vec<Step> {
    let table = r.table;
    let relation = Resource::Relation(QualifiedName::new(table.schema.clone(), helper));
    let mut steps = Vec::new();
    match live_valid {
        Some(true) => return steps,
        Some(false) => steps.push(
            Step::new(
                Phase::Validate,
                format!("drop the invalid leftover index {}", quote_ident(helper)),
                ddl::indexes::drop(&QualifiedName::new(table.schema.clone(), helper), true),
            )
            .op(Op::DropIndexConcurrently {
                index: QualifiedName::new(table.schema.clone(), helper),
            })
            .lock(LockMode::ShareUpdateExclusive, table)
            .outside_transaction(),
        ),
        None => {}
    }
    let mut build =
        build_concurrently(table, helper, &on_shadow(definition, &r.to.name, &r.shadow))
            .uses([Resource::Column(table.clone(), r.shadow.clone())])
            .creates([relation]);
    build.phase = Phase::Validate;
    steps.push(build);
    steps
}

fn build_constraint(ctx: &Context, r: &Retype, helper: &str, constraint: &Constraint) -> Vec<Step> {
    let table = r.table;
    let name = quote_ident(helper);
    let live = r.live.constraints.get(helper);
    let mut steps = Vec::new();
    let lock = if constraint.foreign_key.is_some() {
        LockMode::ShareRowExclusive
    } else {
        LockMode::AccessExclusive
    };
    if live.is_none() {
        let mut copy = constraint.clone();
        copy.name = helper.to_string();
        copy.definition = substitute(&constraint.definition, &r.to.name, &r.shadow);
        // The source text names the old column: the copy is made from the catalog's text.
        copy.source = None;
        copy.validated = false;
        steps.push(
            Step::new(
                Phase::Validate,
                format!("add constraint {name} on shadow column of {table} without validating"),
                ddl::add_constraint(table, &copy),
            )
            .lock(lock, table)
            .uses([Resource::Column(table.clone(), r.shadow.clone())])
            .creates([Resource::Constraint(table.clone(), helper.to_string())]),
        );
    }
    if !live.is_some_and(|c| c.validated) && constraint.validated {
        steps.push(
            Step::new(
                Phase::Validate,
                format!("validate constraint {name} on {table}"),
                ddl::tables::validate_constraint(table, helper),
            )
            .lock(LockMode::ShareUpdateExclusive, table)
            .work(TableWork::Scan)
            .uses([Resource::Constraint(table.clone(), helper.to_string())]),
        );
    }
    let _ = ctx;
    steps
}

/// Expand: every row written (by either application; both still write the old column)
/// gets its shadow value computed from the old column.
fn create_trigger(table: &QualifiedName, shadow: &str, expression: &str) -> Step {
    let names = sync::derived_trigger_names(table, shadow);
    let s = quote_ident(shadow);
    let sql = names.install_sql(table, &ddl::sync::computed_body(shadow, expression));
    Step::new(
        Phase::Expand,
        format!("keep {table}.{s} computed from {expression}"),
        sql,
    )
    .lock(LockMode::ShareRowExclusive, table)
    .uses([Resource::Column(table.clone(), shadow.to_string())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_whole_identifiers() {
        assert_eq!(
            substitute(
                "CHECK ((amount > 0) AND (amount_2 > 0))",
                "amount",
                "zdm_new_amount"
            ),
            "CHECK ((zdm_new_amount > 0) AND (amount_2 > 0))"
        );
        assert_eq!(
            on_shadow(
                "CREATE INDEX orders_amount_idx ON public.orders USING btree (amount)",
                "amount",
                "zdm_new_amount"
            ),
            "CREATE INDEX orders_amount_idx ON public.orders USING btree (zdm_new_amount)"
        );
    }
}
