//! Creating, dropping and rebuilding whole tables.

use crate::model::{QualifiedName, ReplicaIdentity, Table};
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
    steps
}

pub fn drop(ctx: &Context, table: &Table) -> Vec<Step> {
    let mut drops = vec![Resource::Relation(table.name.clone())];
    for column in &table.columns {
        drops.push(Resource::Column(table.name.clone(), column.name.clone()));
    }
    for constraint in table.constraints.values() {
        drops.push(Resource::Constraint(
            table.name.clone(),
            constraint.name.clone(),
        ));
    }
    let rows = if table.stats.has_rows {
        "its rows are deleted"
    } else {
        "it is empty now, but anything written before contract runs is lost"
    };
    vec![Step::new(
        Phase::Contract,
        format!("drop table {}", table.name),
        ddl::tables::drop(&table.name),
    )
    .op(Op::DropTable {
        table: table.name.clone(),
    })
    .lock(LockMode::AccessExclusive, &table.name)
    .uses(table_uses(ctx.from, table))
    .drops(drops)
    .hazard(HazardKind::DataLoss, {
        let mut message = format!("table {} is dropped: {rows}", table.name);
        for renamed in super::renames::likely_table_renames(ctx, table) {
            message.push_str(&format!(
                "; table {} dropped and {renamed} created: if this is a rename, annotate `-- zdm:renamed-from {}` on its CREATE TABLE",
                table.name, table.name.name
            ));
        }
        message
    })]
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
