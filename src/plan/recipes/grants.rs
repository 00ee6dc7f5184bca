//! Grants, default privileges and owners.
//!
//! Granting is expand: it takes nothing from the running application. Revoking on an object
//! that exists is contract, with an `access-loss` hazard: the old application may still use
//! the privilege until it is retired. Grants and revokes on an object the plan creates (or
//! re-creates) come right after it, in expand: nobody uses it yet.
//!
//! Default privileges only shape objects created later, so they change in expand, before any
//! step that creates an object (which would otherwise get the old defaults).

use std::collections::BTreeSet;

use crate::diff::privileges::{
    actions, new_object_privileges, object_privileges, PrivilegeAction, PrivilegeTarget,
};
use crate::diff::Change;
use crate::model::{Grantee, Kind, Model, ObjectId};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, Phase, Step};
use crate::sql::ddl;

/// Steps for a default-privilege or owner change (object grants: [`object_steps`]).
pub fn steps(change: &Change) -> Vec<Step> {
    match change {
        Change::SetPrivileges {
            target: target @ PrivilegeTarget::Default { schema, .. },
            actions,
        } => actions
            .iter()
            .map(|(grantee, action, privileges)| {
                Step::new(
                    Phase::Expand,
                    format!(
                        "default privileges {}",
                        ddl::privileges::default_scope(target)
                    ),
                    ddl::privileges::statement(target, grantee, *action, privileges),
                )
                .uses(schema.iter().map(|s| Resource::Schema(s.clone())))
                .creates([Resource::DefaultPrivileges])
            })
            .collect(),
        // Planned from both models once every other step is known, see `object_steps`.
        Change::SetPrivileges { .. } => Vec::new(),
        Change::SetOwner { id, owner } => vec![Step::new(
            Phase::Expand,
            format!("set owner of {} {id}", id.kind.sql().to_lowercase()),
            ddl::privileges::owner(id, owner),
        )
        .uses([Resource::of(id)])],
        _ => unreachable!("not a privilege change: {change:?}"),
    }
}

/// Grants and revokes on objects, knowing which objects the other `steps` drop and create
/// again (a re-created object starts over from the defaults). The objects in `granted` get
/// theirs inside the step that creates them (see [`statements_as_desired`]).
pub fn object_steps(ctx: &Context, steps: &[Step], granted: &BTreeSet<ObjectId>) -> Vec<Step> {
    let created: BTreeSet<&Resource> = steps.iter().flat_map(|s| &s.creates).collect();
    let recreated: BTreeSet<&Resource> = steps
        .iter()
        .flat_map(|s| &s.drops)
        .filter(|r| created.contains(r))
        .collect();
    let is_recreated = |id: &ObjectId| recreated.contains(&Resource::of(id));
    let mut changes = Vec::new();
    object_privileges(ctx.from, ctx.to, &is_recreated, &mut changes);
    let mut out = Vec::new();
    for change in &changes {
        let Change::SetPrivileges {
            target: target @ PrivilegeTarget::Object { id, .. },
            actions,
        } = change
        else {
            continue;
        };
        if is_granted_with_creation(granted, id) {
            continue;
        }
        let existing = !is_recreated(id) && exists(ctx, id);
        for (grantee, action, privileges) in actions {
            let mut sql = ddl::privileges::statement(target, grantee, *action, privileges);
            if *action == PrivilegeAction::Revoke {
                sql.push_str(&column_grants_kept(ctx, id, grantee, privileges));
            }
            let takes_away = action.takes_away() && existing;
            let verb = match action {
                PrivilegeAction::Grant | PrivilegeAction::GrantWithGrantOption => "grant on",
                _ => "revoke on",
            };
            let phase = if takes_away {
                Phase::Contract
            } else {
                Phase::Expand
            };
            let mut step =
                Step::new(phase, format!("{verb} {} {id}", noun(id)), sql).uses([Resource::of(id)]);
            if takes_away {
                step = step.hazard(
                    HazardKind::AccessLoss,
                    format!(
                        "revokes {} on {} {id}: the running application may still use it; contract only once the old version is retired",
                        privileges.join(", "),
                        noun(id)
                    ),
                );
            }
            out.push(step);
        }
    }
    out
}

/// Revoking a privilege on a table also revokes it on each of its columns: the column grants
/// of the same privilege that the files keep are granted again in the same step.
fn column_grants_kept(
    ctx: &Context,
    relation: &ObjectId,
    grantee: &Grantee,
    privileges: &[String],
) -> String {
    if !relation.kind.is_relation() {
        return String::new();
    }
    let mut sql = String::new();
    for acl in ctx.to.acls.values().filter(|a| {
        a.target.kind == Kind::Column
            && a.target.schema == relation.schema
            && a.target.name == relation.name
    }) {
        for with_option in [false, true] {
            let kept: Vec<String> = acl
                .privileges
                .iter()
                .filter(|p| &p.grantee == grantee && p.grantable == with_option)
                .filter(|p| privileges.contains(&p.privilege))
                .map(|p| p.privilege.clone())
                .collect();
            if kept.is_empty() {
                continue;
            }
            let action = if with_option {
                PrivilegeAction::GrantWithGrantOption
            } else {
                PrivilegeAction::Grant
            };
            let target = PrivilegeTarget::Object {
                id: acl.target.clone(),
                owner: None,
            };
            sql.push('\n');
            sql.push_str(&ddl::privileges::statement(&target, grantee, action, &kept));
        }
    }
    sql
}

/// Whether `id` (or the relation of a column `id`) is among the objects whose grants their
/// creating step carries.
fn is_granted_with_creation(granted: &BTreeSet<ObjectId>, id: &ObjectId) -> bool {
    if id.kind != Kind::Column {
        return granted.contains(id);
    }
    granted
        .iter()
        .any(|g| g.kind.is_relation() && g.schema == id.schema && g.name == id.name)
}

fn noun(id: &ObjectId) -> String {
    id.kind.sql().to_lowercase()
}

/// Whether the live database has the object `id` names (a key in its ACL map, or a column
/// of one of its relations).
fn exists(ctx: &Context, id: &ObjectId) -> bool {
    if ctx.from.acls.contains_key(&id.sql()) {
        return true;
    }
    id.kind == Kind::Column
        && ctx
            .from
            .tables
            .get(&id.qualified())
            .is_some_and(|t| t.column(id.member.as_deref().unwrap_or_default()).is_some())
}

/// Steps that create objects come after every default-privilege change, so that the new
/// objects get the desired defaults (the desired side's objects were created under them).
pub fn order_after_default_privileges(steps: &mut [Step]) {
    if !steps
        .iter()
        .any(|s| s.creates.contains(&Resource::DefaultPrivileges))
    {
        return;
    }
    for step in steps.iter_mut() {
        let creates_object = step.creates.iter().any(|r| {
            matches!(
                r,
                Resource::Relation(_) | Resource::Routine(_) | Resource::Type(_)
            )
        });
        if creates_object && !step.creates.contains(&Resource::DefaultPrivileges) {
            step.uses.push(Resource::DefaultPrivileges);
        }
    }
}

/// The grants that give `copy`, an object this plan builds to take the place of `id` (a
/// materialized view built under a temporary name, see `matview_rebuild`), the privileges the
/// files give `id` and its columns, before it is swapped in: readers never find it bare.
pub fn statements_for_copy(ctx: &Context, id: &ObjectId, copy: &ObjectId) -> Vec<String> {
    statements_as_in(ctx, ctx.to, id, copy)
}

/// The grants that give `id`, dropped and created again as it is live (an object the files
/// no longer declare, re-created around a change under it until its own drop in contract),
/// the privileges it has live.
pub fn statements_as_live(ctx: &Context, id: &ObjectId) -> Vec<String> {
    statements_as_in(ctx, ctx.from, id, id)
}

/// The grants that give `id`, dropped and created again in its desired form around a change
/// (see `cascade`), the privileges the files give it and its columns, from what a new object
/// holds: in the same transaction as its `CREATE`, so no reader is refused in between.
pub fn statements_as_desired(ctx: &Context, id: &ObjectId) -> Vec<String> {
    statements_as_in(ctx, ctx.to, id, id)
}

/// The grants `model` gives `id` and its columns, as statements on `copy`.
fn statements_as_in(ctx: &Context, model: &Model, id: &ObjectId, copy: &ObjectId) -> Vec<String> {
    let owner = ctx.from.owners.get(&id.sql()).cloned();
    let mut out = Vec::new();
    for acl in model.acls.values() {
        let target = &acl.target;
        let column = target.kind == Kind::Column;
        if target.schema != id.schema
            || target.name != id.name
            || !(column || target.kind == id.kind)
        {
            continue;
        }
        let start = if column {
            BTreeSet::new()
        } else {
            new_object_privileges(model, acl)
        };
        let on = PrivilegeTarget::Object {
            id: ObjectId {
                member: target.member.clone(),
                kind: target.kind,
                ..copy.clone()
            },
            owner: owner.clone(),
        };
        for (grantee, action, privileges) in actions(&start, &acl.privileges) {
            out.push(ddl::privileges::statement(
                &on,
                &grantee,
                action,
                &privileges,
            ));
        }
    }
    out
}
