//! Steps for the kinds diffed by identity (views, routines, triggers): what they create,
//! need and drop in the graph, and the per-kind recipe for each change.

use crate::diff::Change;
use crate::model::{Kind, Model, Object, ObjectId};
use crate::plan::resource::Resource;
use crate::plan::{Context, LockMode, Phase, Step};
use crate::sql::ddl;

use super::{aggregates, policies, routines, triggers, views};

pub fn steps(ctx: &Context, change: &Change) -> Vec<Step> {
    match change {
        Change::CreateObject { object } => vec![create(ctx, object)],
        Change::DropObject { object } => vec![drop(ctx, object)],
        Change::ReplaceObject { from, to } => match (from, to) {
            (Object::View(from), Object::View(to)) => vec![views::replace(ctx, from, to)],
            (Object::Routine(_), Object::Routine(to)) => vec![routines::replace(ctx, to)],
            (Object::Aggregate(_), Object::Aggregate(to)) => {
                vec![aggregates::replace(ctx, to)]
            }
            (Object::Trigger(from), Object::Trigger(to)) => {
                vec![triggers::replace(ctx, from, to)]
            }
            (Object::Policy(_), Object::Policy(to)) => vec![policies::alter(ctx, to)],
            _ => unreachable!("a replace pairs two objects of one kind"),
        },
        // Planned with the objects that depend on it, see `cascade`.
        Change::RecreateObject { .. } => Vec::new(),
        Change::AlterViewIndexes { from, to } => views::alter_indexes(from, to),
        _ => unreachable!("not a change of a keyed object: {change:?}"),
    }
}

/// What `id` needs in `model`: its schema and everything its dependency edges name. A
/// trigger may name any column of its table (`UPDATE OF`, `WHEN`), so it needs them all.
pub fn needs(model: &Model, id: &ObjectId) -> Vec<Resource> {
    let mut out = vec![Resource::Schema(id.schema.clone())];
    out.extend(model.needs(id).map(Resource::of));
    if id.kind == Kind::Trigger {
        if let Some(table) = model.tables.get(&id.qualified()) {
            out.extend(
                table
                    .columns
                    .iter()
                    .map(|c| Resource::Column(table.name.clone(), c.name.clone())),
            );
        }
    }
    out
}

/// The graph vertices an object is: itself, and a view's columns and indexes.
pub fn resources(object: &Object) -> Vec<Resource> {
    let mut out = vec![Resource::of(object.id())];
    if let Object::View(view) = object {
        out.extend(
            view.columns
                .iter()
                .map(|c| Resource::Column(view.name.clone(), c.name.clone())),
        );
        out.extend(view.indexes.keys().map(|i| {
            Resource::Relation(crate::model::QualifiedName::new(
                view.name.schema.clone(),
                i.clone(),
            ))
        }));
    }
    out
}

/// `SET LOCAL` for a step that creates routines: a SQL function's body is checked against
/// objects when it is created, and PostgreSQL records no dependencies for bodies (nor do
/// PL/pgSQL ones), so a body may name what a later step creates; pg_dump does the same.
pub const NO_BODY_CHECKS: &str = "SET LOCAL check_function_bodies = off;";

/// The statements that create `object` with its comments (and a trigger's enabled state, a
/// materialized view's indexes).
pub fn create_sql(object: &Object) -> Vec<String> {
    match object {
        Object::View(view) => {
            let mut sql = vec![ddl::views::create(view)];
            // A new materialized view is read by no one yet: its indexes need no CONCURRENTLY.
            sql.extend(view.indexes.values().map(|i| format!("{};", i.definition)));
            sql.extend(ddl::views::comments(view));
            sql
        }
        Object::Routine(routine) => {
            let mut sql = vec![ddl::routines::create(routine)];
            sql.extend(ddl::routines::comments(routine));
            sql
        }
        Object::Aggregate(aggregate) => {
            let mut sql = vec![ddl::aggregates::create(aggregate)];
            sql.extend(ddl::aggregates::comments(aggregate));
            sql
        }
        Object::Trigger(trigger) => {
            let mut sql = vec![ddl::triggers::create(trigger)];
            sql.extend(ddl::triggers::comments(trigger));
            sql
        }
        Object::Policy(policy) => {
            let mut sql = vec![ddl::policies::create(policy)];
            sql.extend(ddl::policies::comments(policy));
            sql
        }
    }
}

pub fn drop_sql(object: &Object) -> String {
    match object {
        Object::View(view) => ddl::views::drop(view),
        Object::Routine(routine) => ddl::routines::drop(routine),
        Object::Aggregate(aggregate) => ddl::aggregates::drop(aggregate),
        Object::Trigger(trigger) => ddl::triggers::drop(trigger),
        Object::Policy(policy) => ddl::policies::drop(policy),
    }
}

fn noun(id: &ObjectId) -> String {
    match id.kind {
        Kind::Trigger | Kind::Policy => format!(
            "{} {} on {}",
            id.kind.sql().to_lowercase(),
            crate::sql::quote_ident(id.member.as_deref().unwrap_or_default()),
            id.qualified()
        ),
        kind => format!("{} {id}", kind.sql().to_lowercase()),
    }
}

/// Expand: a new object, after what it reads.
pub fn create(ctx: &Context, object: &Object) -> Step {
    let id = object.id();
    let mut sql = create_sql(object);
    if matches!(object, Object::Routine(_)) {
        sql.insert(0, NO_BODY_CHECKS.to_string());
    }
    let mut step = Step::new(
        Phase::Expand,
        format!("create {}", noun(id)),
        sql.join("\n"),
    )
    .uses(needs(ctx.to, id))
    .creates(resources(object));
    if let Object::Trigger(trigger) = object {
        step = step.lock(LockMode::ShareRowExclusive, &trigger.table);
    }
    if let Object::Policy(policy) = object {
        step = policies::on_create(ctx, policy, step);
    }
    if let Object::View(view) = object {
        if view.materialized() {
            step = step.work(crate::plan::TableWork::Scan);
        }
    }
    step
}

/// Contract: the old application may still use it until then. Before what it reads is
/// dropped (it `uses` the live edges).
pub fn drop(ctx: &Context, object: &Object) -> Step {
    let id = object.id();
    let mut step = Step::new(
        Phase::Contract,
        format!("drop {}", noun(id)),
        drop_sql(object),
    )
    .uses(needs(ctx.from, id))
    .drops(resources(object));
    if let Object::Trigger(trigger) = object {
        step = step.lock(LockMode::AccessExclusive, &trigger.table);
    }
    if let Object::Policy(policy) = object {
        step = policies::on_drop(ctx, policy, step);
    }
    step
}

pub(super) fn describe(id: &ObjectId) -> String {
    noun(id)
}
