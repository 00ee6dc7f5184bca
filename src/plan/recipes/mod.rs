//! One recipe per kind of change (DESIGN.md, "Recipes"): how a change becomes safe steps.

mod aggregates;
pub mod cascade;
mod collations;
pub(super) mod columns;
mod composites;
pub(super) mod constraints;
mod domains;
pub mod enum_rebuild;
mod event_triggers;
mod generated;
pub mod grants;
mod identity;
pub(super) mod indexes;
mod inheritance;
mod keyed;
mod matview_rebuild;
mod objects;
pub(super) mod partition_relink;
pub(super) mod partitioned;
pub mod policies;
pub mod ranges;
pub mod recreate;
mod routines;
pub(super) mod tables;
mod triggers;
mod views;

use super::{Context, PlanError, Step};
use crate::diff::Change;
use crate::model::Constraint;

/// Prefix of every name zdm invents for its intermediate objects.
pub const ZDM_PREFIX: &str = "zdm_";

/// A name for one of zdm's intermediate objects, within PostgreSQL's 63-byte limit.
pub fn helper_name(kind: &str, base: &str) -> String {
    let mut name = format!("{ZDM_PREFIX}{kind}_{base}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

pub fn steps_for(ctx: &Context, change: &Change) -> Result<Vec<Step>, PlanError> {
    use Change::*;
    Ok(match change {
        CreateSchema { .. }
        | DropSchema { .. }
        | CreateExtension { .. }
        | DropExtension { .. }
        | SetExtensionSchema { .. }
        | UpdateExtension { .. }
        | CreateEnum { .. }
        | DropEnum { .. }
        | AddEnumValue { .. }
        | ReplaceEnum { .. }
        | CreateSequence { .. }
        | DropSequence { .. }
        | AlterSequence { .. }
        | SetComment { .. } => objects::steps(ctx, change),
        CreateEventTrigger { trigger } => vec![event_triggers::create(trigger)],
        DropEventTrigger { trigger } => vec![event_triggers::drop(trigger)],
        AlterEventTrigger { from, to } => vec![event_triggers::alter(from, to)],
        CreateDomain { domain } => vec![domains::create(ctx, domain)],
        DropDomain { domain } => vec![domains::drop(ctx, domain)],
        AlterDomain { from, to } => domains::alter(ctx, from, to)?,
        CreateCollation { collation } => vec![collations::create(collation)],
        DropCollation { collation } => vec![collations::drop(collation)],
        AlterCollation { from, to } => collations::alter(ctx, from, to)?,
        CreateComposite { composite } => vec![composites::create(ctx, composite)],
        DropComposite { composite } => vec![composites::drop(ctx, composite)],
        AlterComposite { from, to } => composites::alter(ctx, from, to)?,
        CreateRange { range } => vec![ranges::create(ctx, range)],
        DropRange { range } => vec![ranges::drop(range)],
        AlterRange { from, to } => ranges::alter(ctx, from, to)?,
        CreateTable { table } => tables::create(ctx, table),
        DropTable { table } => tables::drop(ctx, table),
        RecreateTable { from, to } => {
            let mut steps = tables::drop(ctx, from);
            steps.extend(tables::create(ctx, to));
            steps
        }
        SetUnlogged { table, unlogged } => tables::set_unlogged(table, *unlogged),
        SetInherits { table, add, remove } => inheritance::set_inherits(ctx, table, add, remove),
        SetReplicaIdentity {
            table,
            replica_identity,
        } => tables::set_replica_identity(table, replica_identity),
        SetRowSecurity { table, from, to } => policies::set_row_security(ctx, table, from, to),
        AddColumn { table, column } => columns::add(ctx, table, column),
        DropColumn { table, column } => columns::drop(ctx, table, column),
        AlterColumn { table, from, to } => columns::alter(ctx, table, from, to)?,
        AddConstraint { table, constraint } => constraints::add(ctx, table, constraint),
        DropConstraint { table, constraint } => constraints::drop(ctx, table, constraint),
        ValidateConstraint { table, constraint } => constraints::validate(table, constraint)
            .into_iter()
            .map(|s| {
                s.creates(inheritance::validated_before_inherit(
                    ctx, table, constraint,
                ))
            })
            .collect(),
        AddIndex { table, index } => indexes::add(ctx, table, index),
        DropIndex { table, index } => indexes::drop(ctx, table, index),
        ReplaceIndex { table, from, to } => indexes::replace(ctx, table, from, to),
        CreateObject { .. }
        | DropObject { .. }
        | ReplaceObject { .. }
        | RecreateObject { .. }
        | AlterViewIndexes { .. } => keyed::steps(ctx, change),
        SetPrivileges { .. } | SetOwner { .. } => grants::steps(change),
    })
}

/// Leave out the changes that belong to a recipe interrupted half-way: the recipe itself
/// finds its intermediate objects in the live model and carries on from there.
///
/// - an index built concurrently for a UNIQUE/PRIMARY KEY constraint that was not attached
///   yet shows up as an extra live index: its `DropIndex` is dropped here;
/// - the temporary index of an index rebuild: likewise;
/// - a NOT NULL helper check whose column still has to become NOT NULL: the column's recipe
///   validates and drops it;
/// - the changes owned by a rename or an online type change under way (the new column, the
///   old one, the shadow column and its helper indexes and constraints).
pub fn claim_interrupted<'a>(ctx: &Context, changes: &'a [Change]) -> Vec<&'a Change> {
    changes
        .iter()
        .filter(|change| !super::online::claims(ctx, changes, change))
        .filter(|change| match change {
            Change::DropIndex { table, index } => {
                !constraints::index_awaits_constraint(ctx, table, &index.name)
                    && !partitioned::attached_by_parent(ctx, changes, table, index)
                    && !partitioned::taken_by_parent_key(ctx, changes, table, index)
                    && !indexes::is_pending_rebuild(changes, table, &index.name)
            }
            Change::AlterColumn { table, from, to } => {
                !partition_relink::renamed_by_parent_key(ctx, changes, table, from, to)
            }
            Change::DropConstraint { table, constraint } => {
                !super::online::not_null::check_awaits_not_null(changes, table, constraint)
                    && !partitioned::key_taken_by_parent(ctx, changes, table, constraint)
                    && !partition_relink::check_awaits_relink(ctx, changes, table, constraint)
            }
            _ => true,
        })
        .collect()
}

/// Whether a live constraint is one of zdm's NOT NULL helper checks.
pub fn is_not_null_helper(constraint: &Constraint) -> bool {
    constraint.name.starts_with(&format!("{ZDM_PREFIX}nn_"))
}
