//! Re-creating views, routines, triggers and policies together with what depends on them.
//!
//! Two situations drop an object that both sides keep and create it again:
//! - its own change needs it (`RecreateObject`: a view losing or retyping a column, a
//!   materialized view that others read (one nothing reads is rebuilt online instead, see
//!   `matview_rebuild`), a function whose result or parameter names change). Then every live
//!   object that depends on it (views over the view, functions returning its rows, triggers
//!   calling the function) is dropped first and created again after, in one transaction, in
//!   the dependency order of each side (live for the drops, desired for the creates);
//! - a change under a view: a column it reads is dropped, retyped (in place or swapped in by
//!   `-- zdm:using`) or renamed (`-- zdm:renamed-from`, whose old column is dropped).
//!   PostgreSQL refuses those while the view exists, so the views (and their dependents) are
//!   dropped and created in their desired form inside the very transaction of that step: the
//!   application never sees them missing, and for a retype they read the new column at once.
//!
//! The changes of the objects handled here are claimed, so no other step touches them.

use std::collections::BTreeSet;

use crate::diff::keyed::dependents_of;
use crate::diff::{Change, CommentTarget};
use crate::model::{Kind, Model, Object, ObjectId, View};
use crate::plan::resource::Resource;
use crate::plan::{Context, LockMode, Phase, Step, Transform};

use super::keyed::{create_sql, describe, drop_sql, needs, resources, NO_BODY_CHECKS};
use super::matview_rebuild;

/// Views re-created around one step that removes what they read.
struct Around {
    /// The column (or whole table) removed.
    removed: Resource,
    /// The views reading it and their dependents.
    objects: Vec<ObjectId>,
}

pub struct Cascade {
    /// Re-created in one step of their own (expand).
    recreated: Vec<ObjectId>,
    around: Vec<Around>,
    handled: BTreeSet<ObjectId>,
    /// Compatibility views that a table rename's own recipe drops.
    rename_views: Vec<crate::model::QualifiedName>,
    /// Materialized views rebuilt online instead (see `matview_rebuild`), live and desired.
    rebuilt: Vec<(View, View)>,
}

impl Cascade {
    pub fn new(ctx: &Context, changes: &[Change]) -> Cascade {
        let mut around: Vec<Around> = Vec::new();
        let mut handled = BTreeSet::new();
        for removed in removals(ctx, changes) {
            let mut objects = Vec::new();
            // Policies pin the columns their expressions read just as views do.
            let readers = ctx.from.views.values().map(|v| &v.id);
            for id in readers.chain(ctx.from.policies.values().map(|p| &p.id)) {
                if reads(ctx.from, id, &removed) && !handled.contains(id) {
                    objects.push(id.clone());
                    objects.extend(dependents_of(&ctx.from.depends, id));
                }
            }
            if let Resource::Relation(table) = &removed {
                // A table becoming a view of the same name: the view is created in the very
                // step that drops the table, before the views that read it again.
                objects.extend(
                    ctx.to
                        .views
                        .values()
                        .filter(|v| {
                            &v.name == table && !ctx.from.views.contains_key(&v.id.to_string())
                        })
                        .map(|v| v.id.clone()),
                );
            }
            objects.retain(|id| handled.insert(id.clone()));
            if !objects.is_empty() {
                around.push(Around { removed, objects });
            }
        }
        let mut recreated = Vec::new();
        let mut rebuilt = Vec::new();
        for change in changes {
            if let Change::RecreateObject {
                from: Object::View(from),
                to: Object::View(to),
            } = change
            {
                if !handled.contains(&from.id) && matview_rebuild::applies(ctx, from, to) {
                    handled.insert(from.id.clone());
                    rebuilt.push((from.clone(), to.clone()));
                    continue;
                }
            }
            if let Change::RecreateObject { from, .. } = change {
                let mut ids = vec![from.id().clone()];
                ids.extend(dependents_of(&ctx.from.depends, from.id()));
                for id in ids {
                    if handled.insert(id.clone()) {
                        recreated.push(id);
                    }
                }
            }
        }
        let rename_views = ctx
            .options
            .transforms
            .iter()
            .filter_map(|t| match t {
                Transform::RenameTable { from, .. } => Some(from.clone()),
                _ => None,
            })
            .collect();
        Cascade {
            recreated,
            around,
            handled,
            rename_views,
            rebuilt,
        }
    }

    /// Whether a change belongs to an object planned here (or by a table rename).
    pub fn claims(&self, change: &Change) -> bool {
        match change {
            Change::CreateObject { object } => self.handled.contains(object.id()),
            Change::DropObject { object } => {
                self.handled.contains(object.id())
                    || self.is_leftover_copy(object.id())
                    || (object.id().kind == Kind::View
                        && self.rename_views.contains(&object.id().qualified()))
            }
            Change::ReplaceObject { from, .. } | Change::RecreateObject { from, .. } => {
                self.handled.contains(from.id())
            }
            Change::AlterViewIndexes { from, .. } => self.handled.contains(&from.id),
            Change::SetComment {
                target: CommentTarget::Object { id },
                ..
            } => self.handled.contains(id),
            Change::SetComment {
                target: CommentTarget::Column { table, .. } | CommentTarget::Index { table, .. },
                ..
            } => self
                .handled
                .iter()
                .any(|id| id.kind.is_relation() && &id.qualified() == table),
            _ => false,
        }
    }

    /// A materialized view's copy that an interrupted rebuild left behind: the rebuild
    /// replaces it, so no step of its own drops it.
    fn is_leftover_copy(&self, id: &ObjectId) -> bool {
        id.kind == Kind::MaterializedView
            && self
                .rebuilt
                .iter()
                .any(|(from, _)| matview_rebuild::copy_name(&from.name) == id.qualified())
    }

    /// The steps re-creating the `RecreateObject`s and their dependents, and rebuilding
    /// materialized views online.
    pub fn steps(&self, ctx: &Context) -> Vec<Step> {
        let mut out: Vec<Step> = self
            .rebuilt
            .iter()
            .flat_map(|(from, to)| matview_rebuild::steps(ctx, from, to))
            .collect();
        if self.recreated.is_empty() {
            return out;
        }
        let names: Vec<String> = self.recreated.iter().map(describe).collect();
        let (sql, step) = cluster(ctx, &self.recreated);
        out.push(step(Step::new(
            Phase::Expand,
            format!("drop and re-create {}", names.join(", ")),
            sql,
        )));
        out
    }

    /// Wrap the steps that remove what views read: the views are dropped first and created
    /// again last, inside the step's transaction. Views whose removal happens only in steps
    /// that cannot run in a transaction are left for the `may-fail` hazard.
    pub fn wrap(&self, ctx: &Context, steps: &mut [Step]) -> BTreeSet<ObjectId> {
        let mut done = BTreeSet::new();
        for step in steps.iter_mut().filter(|s| s.transactional) {
            let mut ids: Vec<ObjectId> = Vec::new();
            let mut already: Vec<Resource> = Vec::new();
            for around in &self.around {
                if !step.drops.contains(&around.removed) && !step.repoints.contains(&around.removed)
                {
                    continue;
                }
                for id in &around.objects {
                    if done.contains(id) {
                        // Re-created by an earlier step: this one runs after it.
                        already.push(Resource::of(id));
                    } else if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
            step.uses.extend(already);
            if ids.is_empty() {
                continue;
            }
            let (sql, finish) = cluster(ctx, &ids);
            let (drops, creates) = sql.split_once(INNER).expect("cluster SQL has its marker");
            let original = std::mem::take(&mut step.sql);
            let names: Vec<String> = ids.iter().map(describe).collect();
            let mut wrapped = finish(Step::new(step.phase, String::new(), String::new()));
            step.sql = format!("{drops}{original}\n{}", creates.trim_start());
            step.description = format!(
                "{} (re-creating {} around it)",
                step.description,
                names.join(", ")
            );
            step.uses.append(&mut wrapped.uses);
            step.creates.append(&mut wrapped.creates);
            step.drops.append(&mut wrapped.drops);
            if step.lock < LockMode::AccessExclusive {
                step.lock = LockMode::AccessExclusive;
            }
            done.extend(ids);
        }
        done
    }

    /// Views meant to be re-created around a removal that no transactional step performs
    /// (`done` are those [`Cascade::wrap`] placed): re-created in a step of their own.
    pub fn leftovers(&self, ctx: &Context, done: &BTreeSet<ObjectId>) -> Vec<Step> {
        let ids: Vec<ObjectId> = self
            .around
            .iter()
            .flat_map(|a| &a.objects)
            .filter(|id| !done.contains(*id))
            .cloned()
            .collect();
        if ids.is_empty() {
            return Vec::new();
        }
        let names: Vec<String> = ids.iter().map(describe).collect();
        let (sql, step) = cluster(ctx, &ids);
        vec![step(Step::new(
            Phase::Expand,
            format!("drop and re-create {}", names.join(", ")),
            sql,
        ))]
    }
}

/// Marks where the drops end and the creates start in a cluster's SQL.
const INNER: &str = "-- zdm: re-create\n";

/// The SQL that drops `ids` (dependents first, by live edges) and creates again those the
/// desired side has (dependencies first, by desired edges), and a function that gives a step
/// its graph vertices and lock.
fn cluster(ctx: &Context, ids: &[ObjectId]) -> (String, impl Fn(Step) -> Step) {
    let mut drops = ordered(ctx.from, ids);
    drops.reverse();
    let creates = ordered(ctx.to, ids);
    let mut sql: Vec<String> = drops
        .iter()
        .filter_map(|id| ctx.from.object(id))
        .map(|o| drop_sql(&o))
        .collect();
    let created: Vec<_> = creates.iter().filter_map(|id| ctx.to.object(id)).collect();
    let mut tail = Vec::new();
    if created.iter().any(|o| o.id().kind != Kind::View) {
        tail.push(NO_BODY_CHECKS.to_string());
    }
    for object in &created {
        tail.extend(create_sql(object));
    }
    sql.push(format!("{INNER}{}", tail.join("\n")));
    let mut uses = Vec::new();
    let mut made = Vec::new();
    for object in &created {
        uses.extend(needs(ctx.to, object.id()));
        made.extend(resources(object));
    }
    for id in &drops {
        uses.extend(needs(ctx.from, id));
    }
    let inside: Vec<Resource> = ids.iter().map(Resource::of).collect();
    uses.retain(|r| !inside.contains(r) && !made.contains(r));
    let gone: Vec<Resource> = drops
        .iter()
        .filter_map(|id| ctx.from.object(id))
        .flat_map(|o| resources(&o))
        .collect();
    let finish = move |step: Step| {
        step.lock(LockMode::AccessExclusive, "the re-created views")
            .uses(uses.clone())
            .creates(made.clone())
            .drops(gone.clone())
    };
    (sql.join("\n"), finish)
}

/// `ids` in dependency order (what an object needs first) by `model`'s edges.
fn ordered(model: &Model, ids: &[ObjectId]) -> Vec<ObjectId> {
    fn visit(
        model: &Model,
        ids: &[ObjectId],
        id: &ObjectId,
        out: &mut Vec<ObjectId>,
        seen: &mut BTreeSet<ObjectId>,
    ) {
        if !seen.insert(id.clone()) {
            return;
        }
        for needed in model.needs(id) {
            for other in ids {
                let inside = other == needed
                    || (other.kind.is_relation()
                        && (needed.kind.is_relation() || needed.kind == Kind::Column)
                        && other.qualified() == needed.qualified());
                if inside {
                    visit(model, ids, other, out, seen);
                }
            }
        }
        out.push(id.clone());
    }
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for id in ids {
        visit(model, ids, id, &mut out, &mut seen);
    }
    out
}

/// Whether live object `id` reads `removed` (a column, or any part of a table).
fn reads(live: &Model, id: &ObjectId, removed: &Resource) -> bool {
    live.needs(id).any(|n| match (removed, n.kind) {
        (Resource::Column(t, c), Kind::Column) => {
            &n.qualified() == t && n.member.as_deref() == Some(c.as_str())
        }
        (Resource::Relation(t), _) => &n.qualified() == t,
        _ => false,
    })
}

/// The columns and tables this plan removes or swaps under views.
fn removals(ctx: &Context, changes: &[Change]) -> Vec<Resource> {
    let mut out = Vec::new();
    for change in changes {
        match change {
            Change::DropColumn { table, column } => {
                out.push(Resource::Column(table.clone(), column.name.clone()))
            }
            Change::AlterColumn { table, from, to }
                if from.data_type != to.data_type || from.collation != to.collation =>
            {
                out.push(Resource::Column(table.clone(), to.name.clone()))
            }
            Change::RecreateTable { from, .. } => out.push(Resource::Relation(from.name.clone())),
            Change::DropTable { table } => out.push(Resource::Relation(table.name.clone())),
            _ => {}
        }
    }
    // An annotation stays in the files after its migration finished: it counts while the
    // live table is not there yet.
    for transform in &ctx.options.transforms {
        match transform {
            Transform::UsingType { table, column, .. } => {
                let live = ctx.live_table(table).and_then(|t| t.column(column));
                let desired = ctx.desired_table(table).and_then(|t| t.column(column));
                let shadow = ctx
                    .live_table(table)
                    .and_then(|t| t.column(&super::retype::shadow_name(column)));
                let pending = match (live, desired) {
                    (Some(l), Some(d)) => l.data_type != d.data_type || shadow.is_some(),
                    _ => false,
                };
                if pending {
                    out.push(Resource::Column(table.clone(), column.clone()))
                }
            }
            Transform::RenameColumn { table, from, .. } => {
                let live = ctx.live_table(table).and_then(|t| t.column(from));
                let desired = ctx.desired_table(table).and_then(|t| t.column(from));
                if live.is_some() && desired.is_none() {
                    out.push(Resource::Column(table.clone(), from.clone()))
                }
            }
            _ => {}
        }
    }
    out.dedup();
    out
}
