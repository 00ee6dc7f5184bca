//! Creating, dropping and rebuilding whole tables.

use crate::model::{Constraint, QualifiedName, ReplicaIdentity, Table};
use crate::plan::resource::{table_uses, Resource};
use crate::plan::{Context, HazardKind, LockMode, Op, Phase, Step, TableWork};
use crate::sql::ddl;

use super::constraints;

/// A new table is empty: it is created whole, with every constraint but its foreign keys
/// inline (those come as separate steps so that tables referencing each other can be created
/// in any order) and those declared `NOT VALID` (which `CREATE TABLE` would validate).
pub fn create(ctx: &Context, table: &Table) -> Vec<Step> {
    let mut creates = vec![Resource::Relation(table.name.clone())];
    for column in &table.columns {
        creates.push(Resource::Column(table.name.clone(), column.name.clone()));
        if column.not_null {
            creates.push(Resource::NotNull(table.name.clone(), column.name.clone()));
        }
    }
    for constraint in table
        .constraints
        .values()
        .filter(|c| c.inline_in_create_table(false))
    {
        creates.push(Resource::Constraint(
            table.name.clone(),
            constraint.name.clone(),
        ));
        if let Some(index) = &constraint.index {
            creates.push(Resource::Relation(QualifiedName::new(
                table.name.schema.clone(),
                index.clone(),
            )));
        }
    }
    let mut steps = vec![Step::new(
        Phase::Expand,
        format!("create table {}", table.name),
        ddl::create_table(table, false),
    )
    .uses(table_uses(ctx.to, table))
    .creates(creates)];
    for constraint in table
        .constraints
        .values()
        .filter(|c| !c.inherited && !c.inline_in_create_table(false))
    {
        steps.push(constraints::add_to_new_table(ctx, &table.name, constraint));
    }
    // PostgreSQL 18: a NOT NULL constraint still `NOT VALID` (an interrupted recipe's, copied
    // by the rehearsal) cannot be written inside `CREATE TABLE`, which would validate it.
    for (column, name) in ddl::pending_not_nulls(table) {
        steps.push(
            Step::new(
                Phase::Expand,
                format!("add NOT NULL constraint {name} without validating"),
                ddl::tables::add_not_null_not_valid(&table.name, Some(name), column),
            )
            .uses([Resource::Column(table.name.clone(), column.to_string())])
            .creates([Resource::Constraint(table.name.clone(), name.to_string())]),
        );
    }
    steps.extend(super::partition_relink::for_new_partition(ctx, table));
    steps
}

pub fn drop(ctx: &Context, table: &Table) -> Vec<Step> {
    let cyclic = cyclic_foreign_keys(ctx, table);
    let mut steps: Vec<Step> = cyclic
        .iter()
        .map(|fk| drop_cyclic_key(ctx, table, fk))
        .collect();
    let mut drops = vec![Resource::Relation(table.name.clone())];
    for column in &table.columns {
        drops.push(Resource::Column(table.name.clone(), column.name.clone()));
    }
    let mut uses = table_uses(ctx.from, table);
    for constraint in table.constraints.values() {
        if cyclic.contains(&constraint) {
            continue;
        }
        drops.push(Resource::Constraint(
            table.name.clone(),
            constraint.name.clone(),
        ));
        // A table this one references goes after it (DROP TABLE refuses while a foreign key
        // of another table points at it).
        if references_other(table, constraint) {
            uses.extend(constraints::referenced(ctx.from, constraint));
        }
    }
    let rows = if table.stats.has_rows {
        "its rows are deleted"
    } else {
        "it is empty now, but anything written before contract runs is lost"
    };
    steps.push(
        Step::new(
            Phase::Contract,
            format!("drop table {}", table.name),
            ddl::tables::drop(&table.name),
        )
        .op(Op::DropTable {
            table: table.name.clone(),
        })
        .lock(LockMode::AccessExclusive, &table.name)
        .uses(uses)
        .drops(drops)
        // `plan::hints` adds the likely renames to this message.
        .hazard(
            HazardKind::DataLoss,
            format!("table {} is dropped: {rows}", table.name),
        ),
    );
    steps
}

fn references_other(table: &Table, constraint: &Constraint) -> bool {
    !constraint.inherited
        && constraint
            .foreign_key
            .as_ref()
            .is_some_and(|fk| fk.referenced_table != table.name)
}

/// The foreign keys of dropped `table` that close a cycle of references among the tables
/// this plan drops: no order of `DROP TABLE`s works for them, so they go first on their own.
fn cyclic_foreign_keys<'a>(ctx: &Context, table: &'a Table) -> Vec<&'a Constraint> {
    table
        .constraints
        .values()
        .filter(|c| references_other(table, c))
        .filter(|c| {
            let target = &c
                .foreign_key
                .as_ref()
                .expect("a foreign key")
                .referenced_table;
            reaches_dropped(ctx, target, &table.name)
        })
        .collect()
}

/// Whether dropped table `from` references `to` through foreign keys of dropped tables.
fn reaches_dropped(ctx: &Context, from: &QualifiedName, to: &QualifiedName) -> bool {
    let dropped = |name: &QualifiedName| {
        ctx.desired_table(name)
            .is_none()
            .then(|| ctx.live_table(name))
            .flatten()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = vec![from.clone()];
    while let Some(name) = queue.pop() {
        if &name == to {
            return true;
        }
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(table) = dropped(&name) else {
            continue;
        };
        for constraint in table.constraints.values() {
            if references_other(table, constraint) {
                let fk = constraint.foreign_key.as_ref().expect("a foreign key");
                queue.push(fk.referenced_table.clone());
            }
        }
    }
    false
}

/// A foreign key of a dropped table, dropped ahead of the tables of its cycle.
fn drop_cyclic_key(ctx: &Context, table: &Table, constraint: &Constraint) -> Step {
    Step::new(
        Phase::Contract,
        format!(
            "drop foreign key {} of {} (tables dropped together reference one another)",
            crate::sql::quote_ident(&constraint.name),
            table.name
        ),
        ddl::tables::drop_constraint(&table.name, &constraint.name),
    )
    .lock(LockMode::AccessExclusive, &table.name)
    .uses([Resource::Relation(table.name.clone())])
    .uses(constraints::referenced(ctx.from, constraint))
    .drops([Resource::Constraint(
        table.name.clone(),
        constraint.name.clone(),
    )])
}

pub fn set_unlogged(table: &QualifiedName, unlogged: bool) -> Vec<Step> {
    let mode = if unlogged { "UNLOGGED" } else { "LOGGED" };
    vec![Step::new(
        Phase::Expand,
        format!("set {table} {}", mode.to_lowercase()),
        ddl::tables::set_logged(table, unlogged),
    )
    .lock(LockMode::AccessExclusive, table)
    .work(TableWork::Rewrite)
    .uses([Resource::Relation(table.clone())])
    .hazard(
        HazardKind::TableRewrite,
        format!("SET {mode} rewrites {table} under ACCESS EXCLUSIVE"),
    )]
}

/// A catalog update under a short ACCESS EXCLUSIVE lock; `USING INDEX` waits for its index
/// (or the constraint that brings it).
pub fn set_replica_identity(table: &QualifiedName, identity: &ReplicaIdentity) -> Vec<Step> {
    let mut uses = vec![Resource::Relation(table.clone())];
    if let ReplicaIdentity::Index(index) = identity {
        uses.push(Resource::Relation(QualifiedName::new(
            table.schema.clone(),
            index.clone(),
        )));
    }
    vec![Step::new(
        Phase::Expand,
        format!(
            "set replica identity of {table} to {}",
            ddl::replica_identity(identity)
        ),
        ddl::set_replica_identity(table, identity),
    )
    .lock(LockMode::AccessExclusive, table)
    .uses(uses)]
}
