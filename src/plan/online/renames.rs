//! Renames asked for by `-- zdm:renamed-from`: columns by expand/contract with a two-way sync
//! trigger, tables by a rename plus a compatibility view under the old name.
//!
//! Both recipes are driven by the transform and the live model, not by the diff's changes:
//! zdm re-plans from the live database before every phase, and the live model tells how far a
//! recipe got (new column present? trigger present? view present?). The changes the diff
//! produces for the objects a recipe owns (the drop of the old column, the add of the new one,
//! the drop of the old table ...) are claimed by [`claims`] and never planned on their own.

use crate::diff::Change;
use crate::model::{Column, Constraint, Index, QualifiedName, Table};
use crate::plan::resource::Resource;
use crate::plan::{Context, LockMode, Op, Phase, Step, Transform};
use crate::sql::ddl::columns::clause;
use crate::sql::{ddl, quote_ident};

use super::backfill::backfill_step;
use super::not_null::not_null_recipe;
use super::sync;

/// A column rename that is under way: the live table still has the old column and the
/// desired one only the new.
struct ColumnRename<'a> {
    table: &'a QualifiedName,
    live: &'a Table,
    old: &'a Column,
    new: &'a Column,
}

fn active_column_rename<'a>(
    ctx: &'a Context,
    table: &'a QualifiedName,
    column: &str,
    from: &str,
) -> Option<ColumnRename<'a>> {
    let live = ctx.live_table(table)?;
    let desired = ctx.desired_table(table)?;
    let old = live.column(from)?;
    let new = desired.column(column)?;
    if desired.column(from).is_some() || column == from {
        return None;
    }
    Some(ColumnRename {
        table,
        live,
        old,
        new,
    })
}

/// A table rename that has not run yet: the old table is live, the new name is not.
fn pending_table_rename<'a>(
    ctx: &'a Context,
    table: &QualifiedName,
    from: &QualifiedName,
) -> Option<(&'a Table, &'a Table)> {
    let old = ctx.live_table(from)?;
    let new = ctx.desired_table(table)?;
    if ctx.live_table(table).is_some() || ctx.desired_table(from).is_some() {
        return None;
    }
    Some((old, new))
}

/// Whether the compatibility view of a finished table rename is still there.
fn compatibility_view_exists(ctx: &Context, table: &QualifiedName, from: &QualifiedName) -> bool {
    ctx.live_table(table).is_some()
        && ctx.live_table(from).is_none()
        && ctx.from.views.values().any(|v| &v.name == from)
}

/// Whether a change belongs to a rename recipe (which plans it itself).
pub fn claims(ctx: &Context, changes: &[Change], change: &Change) -> bool {
    ctx.options.transforms.iter().any(|t| match t {
        Transform::RenameColumn {
            table,
            column,
            from,
        } => {
            active_column_rename(ctx, table, column, from).is_some()
                && match change {
                    Change::AddColumn {
                        table: t,
                        column: c,
                    } => t == table && &c.name == column,
                    Change::AlterColumn { table: t, to, .. } => t == table && &to.name == column,
                    Change::DropColumn {
                        table: t,
                        column: c,
                    } => t == table && &c.name == from,
                    _ => false,
                }
        }
        Transform::RenameTable { table, from } => {
            pending_table_rename(ctx, table, from).is_some()
                && claims_for_table_rename(changes, change, table, from)
        }
        _ => false,
    })
}

fn claims_for_table_rename(
    changes: &[Change],
    change: &Change,
    table: &QualifiedName,
    from: &QualifiedName,
) -> bool {
    let owned = |name: &QualifiedName| name == table || name == from;
    match change {
        Change::CreateTable { table: t } | Change::DropTable { table: t } => owned(&t.name),
        // Everything else on the new table (its indexes, comments) comes from the rename.
        c if c.object() == crate::model::ObjectId::table(table) => true,
        // Sequences owned by the table follow it (renamed with it).
        Change::DropSequence { sequence } => {
            sequence.owned_by.as_ref().is_some_and(|o| &o.table == from)
        }
        Change::CreateSequence { sequence } => sequence
            .owned_by
            .as_ref()
            .is_some_and(|o| &o.table == table),
        // Foreign keys of other tables pointing at the renamed table follow it by OID: the
        // drop + add the diff sees is only the name in their definition.
        Change::DropConstraint {
            table: t,
            constraint,
        } => {
            references(constraint, from)
                && has_foreign_key_half(changes, t, &constraint.name, Half::Add, table)
        }
        Change::AddConstraint {
            table: t,
            constraint,
        } => {
            references(constraint, table)
                && has_foreign_key_half(changes, t, &constraint.name, Half::Drop, from)
        }
        _ => false,
    }
}

fn references(constraint: &Constraint, table: &QualifiedName) -> bool {
    constraint
        .foreign_key
        .as_ref()
        .is_some_and(|fk| &fk.referenced_table == table)
}

#[derive(PartialEq)]
enum Half {
    Drop,
    Add,
}

/// Whether `changes` holds the given half (drop or add) of foreign key `name` on `table`,
/// referencing `referenced`.
fn has_foreign_key_half(
    changes: &[Change],
    table: &QualifiedName,
    name: &str,
    half: Half,
    referenced: &QualifiedName,
) -> bool {
    changes.iter().any(|c| {
        let (t, constraint) = match c {
            Change::DropConstraint { table, constraint } if half == Half::Drop => {
                (table, constraint)
            }
            Change::AddConstraint { table, constraint } if half == Half::Add => (table, constraint),
            _ => return false,
        };
        t == table && constraint.name == name && references(constraint, referenced)
    })
}

pub fn steps(ctx: &Context) -> Vec<Step> {
    let mut out = Vec::new();
    for transform in &ctx.options.transforms {
        match transform {
            Transform::RenameColumn {
                table,
                column,
                from,
            } => {
                if let Some(rename) = active_column_rename(ctx, table, column, from) {
                    out.extend(column_steps(ctx, &rename));
                }
            }
            Transform::RenameTable { table, from } => {
                if let Some((old, new)) = pending_table_rename(ctx, table, from) {
                    out.extend(table_steps(ctx, old, new));
                } else if compatibility_view_exists(ctx, table, from) {
                    out.push(drop_view(ctx, table, from));
                }
            }
            _ => {}
        }
    }
    out
}

/// The names of a column rename's sync trigger and function (keyed by the new column).
fn names(table: &QualifiedName, column: &str) -> sync::SyncTrigger {
    sync::derived_trigger_names(table, column)
}

fn column_steps(ctx: &Context, r: &ColumnRename) -> Vec<Step> {
    let table = r.table;
    let new = quote_ident(&r.new.name);
    let old = quote_ident(&r.old.name);
    let new_is_live = r.live.column(&r.new.name);
    let mut steps = Vec::new();
    if new_is_live.is_none() {
        // Nullable and without its default while both applications run: the old application
        // does not know the column, and the trigger tells writers apart by it being NULL.
        let bare = super::backfill::companion(r.new, &r.new.name);
        steps.push(
            Step::new(
                Phase::Expand,
                format!("add column {new} to {table} (renamed from {old}; nullable for now)"),
                crate::sql::ddl::columns::add(table, &bare),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses(crate::plan::resource::column_uses(ctx.to, table, &bare))
            .creates([Resource::Column(table.clone(), r.new.name.clone())]),
        );
    }
    let trigger = names(table, &r.new.name);
    if !sync::trigger_exists(ctx.from, table, &trigger.trigger) {
        steps.push(create_two_way(table, &r.old.name, &r.new.name));
    }
    let mut copy = backfill_step(ctx, table, &r.new.name, &old);
    if let Some(b) = copy.backfill.as_mut() {
        b.pending_only_where = Some(format!("{old} IS NOT NULL"));
    }
    steps.push(copy);
    if r.new.not_null && !new_is_live.is_some_and(|c| c.not_null) {
        steps.extend(not_null_recipe(
            ctx,
            table,
            &r.new.name,
            r.old.not_null,
            false,
        ));
    }
    // Contract: the old application is gone; the trigger, the old column, and the new
    // column's default (held back so far: the trigger tells writers apart by NULL) go in.
    let mut clauses = vec![clause::drop_column(&r.old.name)];
    if let Some(default) = &r.new.default {
        if new_is_live.and_then(|c| c.default.as_ref()) != Some(default) {
            clauses.push(clause::set_default(&r.new.name, default));
        }
    }
    steps.push(
        Step::new(
            Phase::Contract,
            format!("finish renaming {table}.{old} to {new}: drop the sync trigger and {old}"),
            [
                ddl::sync::drop_trigger(&trigger.trigger, table),
                ddl::columns::alter(table, &clauses),
                ddl::sync::drop_function(&trigger.function),
            ]
            .join("\n"),
        )
        .op(Op::FinishRename {
            table: table.clone(),
            column: r.new.name.clone(),
            sync_function: trigger.function.clone(),
        })
        .lock(LockMode::AccessExclusive, table)
        .uses([Resource::Column(table.clone(), r.new.name.clone())])
        .drops([
            Resource::Column(table.clone(), r.old.name.clone()),
            Resource::NotNull(table.clone(), r.old.name.clone()),
        ]),
    );
    steps
}

/// Expand: both names hold the same value whichever application writes. An INSERT fills the
/// new column from the old one when the new one is NULL (the old application does not know
/// it), the old one from the new otherwise; an UPDATE copies whichever column changed.
fn create_two_way(table: &QualifiedName, old: &str, new: &str) -> Step {
    let names = names(table, new);
    let (o, n) = (quote_ident(old), quote_ident(new));
    let sql = names.install_sql(table, &ddl::sync::two_way_body(old, new));
    Step::new(
        Phase::Expand,
        format!("keep {table}.{o} and {n} in sync in both directions"),
        sql,
    )
    .lock(LockMode::ShareRowExclusive, table)
    .uses([
        Resource::Column(table.clone(), old.to_string()),
        Resource::Column(table.clone(), new.to_string()),
    ])
}

/// The index definition without its name and table: what makes two indexes the same.
fn index_shape(index: &Index) -> (bool, &str, &[String], &[String], Option<&String>, bool) {
    (
        index.unique,
        index.method.as_str(),
        index.key_expressions.as_slice(),
        index.include.as_slice(),
        index.predicate.as_ref(),
        index.nulls_not_distinct,
    )
}

/// Expand: rename the table, and put an auto-updatable view under the old name so the old
/// application keeps reading and writing through it; contract drops the view.
fn table_steps(ctx: &Context, old: &Table, new: &Table) -> Vec<Step> {
    let (from, to) = (&old.name, &new.name);
    let mut sql = vec![ddl::tables::rename(from, &to.name)];
    // Owned sequences, constraints and indexes take the names the desired schema gives them.
    for sequence in ctx.from.sequences.values() {
        let Some(owner) = sequence.owned_by.as_ref().filter(|o| &o.table == from) else {
            continue;
        };
        let wanted = ctx.to.sequences.values().find(|s| {
            s.owned_by
                .as_ref()
                .is_some_and(|o| &o.table == to && o.column == owner.column)
        });
        if let Some(wanted) = wanted.filter(|w| w.name != sequence.name) {
            sql.push(ddl::sequences::rename(&sequence.name, &wanted.name.name));
        }
    }
    let same_definition = |a: &str, b: &str| {
        a.replace(&from.to_string(), &to.to_string())
            == b.replace(&from.to_string(), &to.to_string())
    };
    for constraint in old.constraints.values().filter(|c| !c.inherited) {
        if new.constraints.contains_key(&constraint.name) {
            continue;
        }
        let wanted = new.constraints.values().find(|c| {
            c.kind == constraint.kind
                && same_definition(&c.definition, &constraint.definition)
                && !old.constraints.contains_key(&c.name)
        });
        if let Some(wanted) = wanted {
            sql.push(ddl::tables::rename_constraint(
                to,
                &constraint.name,
                &wanted.name,
            ));
        }
    }
    sql.extend(not_null_renames(old, new));
    for index in old.indexes.values() {
        if new.indexes.contains_key(&index.name) {
            continue;
        }
        let wanted = new
            .indexes
            .values()
            .find(|i| index_shape(i) == index_shape(index) && !old.indexes.contains_key(&i.name));
        if let Some(wanted) = wanted {
            sql.push(ddl::indexes::rename(
                &QualifiedName::new(from.schema.clone(), index.name.clone()),
                &wanted.name,
            ));
        }
    }
    sql.push(ddl::views::create_alias(from, to));
    let mut creates = vec![Resource::Relation(to.clone())];
    creates.extend(
        old.columns
            .iter()
            .map(|c| Resource::Column(to.clone(), c.name.clone())),
    );
    creates.extend(
        old.constraints
            .values()
            .map(|c| Resource::Constraint(to.clone(), c.name.clone())),
    );
    vec![
        Step::new(
            Phase::Expand,
            format!("rename table {from} to {to}, with a view under the old name for the old application"),
            sql.join("\n"),
        )
        .lock(LockMode::AccessExclusive, from)
        .uses([Resource::Schema(to.schema.clone())])
        .creates(creates),
        drop_view_of(from, to, old.columns.iter().map(|c| c.name.as_str())),
    ]
}

/// PostgreSQL 18 names NOT NULL constraints and keeps the names through `RENAME TO`
/// (`items_id_not_null` stays on `products`). They take the desired schema's names, as the
/// other constraints do: what a fresh install of the schema gives (`products_id_not_null`),
/// so the renamed table matches it and the next plan is empty. Comparing such names
/// leniently instead would leave the old table's name behind for good, and the live schema
/// would differ from the declared one in every dump. Inherited columns are left alone
/// (PostgreSQL refuses to rename an inherited constraint; the parent's rename recurses).
fn not_null_renames(old: &Table, new: &Table) -> Vec<String> {
    old.columns
        .iter()
        .filter(|c| !c.inherited)
        .filter_map(|column| {
            let live = column.not_null_name.as_ref()?;
            let wanted = new.column(&column.name)?.not_null_name.as_ref()?;
            (live != wanted).then(|| ddl::tables::rename_constraint(&new.name, live, wanted))
        })
        .collect()
}

fn drop_view(ctx: &Context, table: &QualifiedName, from: &QualifiedName) -> Step {
    let columns: Vec<&str> = ctx
        .live_table(table)
        .map(|t| t.columns.iter().map(|c| c.name.as_str()).collect())
        .unwrap_or_default();
    drop_view_of(from, table, columns.into_iter())
}

/// Contract: the old application is gone, and so is the view it used. It goes before
/// anything else on the table (the view pins the columns it reads).
fn drop_view_of<'a>(
    from: &QualifiedName,
    to: &QualifiedName,
    columns: impl Iterator<Item = &'a str>,
) -> Step {
    Step::new(
        Phase::Contract,
        format!("drop the compatibility view {from} of the renamed table {to}"),
        ddl::views::drop_if_exists(from),
    )
    .lock(LockMode::AccessExclusive, from)
    .uses(columns.map(|c| Resource::Column(to.clone(), c.to_string())))
}
