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
use crate::diff::Change;
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
    /// Readers the files no longer declare, dropped by their own contract step: until then,
    /// a change under them before contract re-creates them as they are live.
    leaving: BTreeSet<ObjectId>,
    /// Compatibility views that a table rename's own recipe drops.
    rename_views: Vec<crate::model::QualifiedName>,
    /// Materialized views rebuilt online instead (see `matview_rebuild`), live and desired.
    rebuilt: Vec<(View, View)>,
}

impl Cascade {
    pub fn new(ctx: &Context, changes: &[Change]) -> Cascade {
        let mut around: Vec<Around> = Vec::new();
        let mut handled = BTreeSet::new();
        let mut leaving = BTreeSet::new();
        let mut forced = BTreeSet::new();
        for (removed, table_recreated) in removals(ctx, changes) {
            let mut objects: Vec<ObjectId> = Vec::new();
            // Policies pin the columns their expressions read just as views do; a type
            // re-created (a range type) is pinned by the routines that name it as well.
            let readers = ctx.from.views.values().map(|v| &v.id);
            let typed: Vec<&ObjectId> = match &removed {
                Resource::Type(_) => ctx
                    .from
                    .routines
                    .values()
                    .map(|r| &r.id)
                    .chain(ctx.from.aggregates.values().map(|a| &a.id))
                    .collect(),
                _ => Vec::new(),
            };
            let readers = readers.chain(typed);
            for id in readers.chain(ctx.from.policies.values().map(|p| &p.id)) {
                if reads(ctx.from, id, &removed) {
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
            let mut seen = BTreeSet::new();
            objects.retain(|id| seen.insert(id.clone()));
            for id in &objects {
                // An object the files no longer declare stays until contract (the old
                // application may still read it), unless a table it reads is re-created.
                if ctx.to.object(id).is_none() {
                    if table_recreated {
                        forced.insert(id.clone());
                    } else {
                        leaving.insert(id.clone());
                    }
                }
                handled.insert(id.clone());
            }
            if !objects.is_empty() {
                around.push(Around { removed, objects });
            }
        }
        leaving.retain(|id| !forced.contains(id));
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
                if handled.contains(from.id()) {
                    // Re-created around a change under it, with its dependents.
                    continue;
                }
                let mut ids = vec![from.id().clone()];
                ids.extend(dependents_of(&ctx.from.depends, from.id()));
                for id in ids {
                    // A dependent the files drop cannot outlive the object re-created under
                    // it: it goes in that step.
                    if leaving.remove(&id) || handled.insert(id.clone()) {
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
            leaving,
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
            // A comment on a column or index of a view re-created here comes with it.
            Change::SetComment { target, .. }
                if matches!(target.kind, Kind::Column | Kind::Index) =>
            {
                let relation = target.qualified();
                self.handled
                    .iter()
                    .any(|id| id.kind.is_relation() && id.qualified() == relation)
            }
            Change::SetComment { target, .. } => self.handled.contains(target),
            _ => false,
        }
    }

    /// The objects created here in their desired form: each step that creates one grants
    /// what the files give it in the same transaction, so no other step does.
    pub fn granted(&self, ctx: &Context) -> BTreeSet<ObjectId> {
        self.recreated
            .iter()
            .chain(self.around.iter().flat_map(|a| &a.objects))
            .filter(|id| ctx.to.object(id).is_some())
            .cloned()
            .collect()
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
        let (sql, step) = cluster(ctx, &self.recreated, &BTreeSet::new());
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
        // In phase order: the first step that changes what a view reads re-creates it in its
        // desired form; later ones only run after it.
        let mut order: Vec<usize> = (0..steps.len()).collect();
        order.sort_by_key(|&i| steps[i].phase);
        for index in order {
            let step = &mut steps[index];
            if !step.transactional {
                continue;
            }
            let mut ids: Vec<ObjectId> = Vec::new();
            let mut already: Vec<Resource> = Vec::new();
            for around in &self.around {
                if !step.drops.contains(&around.removed) && !step.repoints.contains(&around.removed)
                {
                    continue;
                }
                for id in &around.objects {
                    let leaving = self.leaving.contains(id);
                    if leaving && done.contains(id) {
                        // Dropped by an earlier contract step.
                        step.after_drop_of.push(Resource::of(id));
                    } else if leaving {
                        // Before contract it is re-created as it is live; in contract,
                        // dropped for good.
                        if !ids.contains(id) {
                            ids.push(id.clone());
                        }
                    } else if done.contains(id) {
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
            let contract = step.phase == Phase::Contract;
            let none = BTreeSet::new();
            let as_live = if contract { &none } else { &self.leaving };
            let (sql, finish) = cluster(ctx, &ids, as_live);
            let (drops, creates) = sql.split_once(INNER).expect("cluster SQL has its marker");
            let original = std::mem::take(&mut step.sql);
            let (gone, again): (Vec<&ObjectId>, Vec<&ObjectId>) = ids
                .iter()
                .partition(|id| contract && self.leaving.contains(*id));
            let mut wrapped = finish(Step::new(step.phase, String::new(), String::new()));
            step.sql = format!("{drops}{original}\n{}", creates.trim_start());
            step.description = format!("{} ({})", step.description, around_note(&again, &gone));
            step.uses.append(&mut wrapped.uses);
            step.creates.append(&mut wrapped.creates);
            step.drops.append(&mut wrapped.drops);
            if step.lock < LockMode::AccessExclusive {
                step.lock = LockMode::AccessExclusive;
            }
            done.extend(
                ids.into_iter()
                    .filter(|id| contract || !self.leaving.contains(id)),
            );
        }
        done
    }

    /// Views meant to be re-created around a removal that no transactional step performs
    /// (`done` are those [`Cascade::wrap`] placed): re-created in a step of their own; and
    /// the readers the files drop that no contract step dropped: dropped in one of their own.
    pub fn leftovers(&self, ctx: &Context, done: &BTreeSet<ObjectId>) -> Vec<Step> {
        let mut pending: Vec<ObjectId> = Vec::new();
        for id in self.around.iter().flat_map(|a| &a.objects) {
            if !done.contains(id) && !pending.contains(id) {
                pending.push(id.clone());
            }
        }
        let (leaving, kept): (Vec<ObjectId>, Vec<ObjectId>) = pending
            .into_iter()
            .partition(|id| self.leaving.contains(id));
        let mut out = Vec::new();
        for (phase, verb, ids) in [
            (Phase::Expand, "drop and re-create", kept),
            (Phase::Contract, "drop", leaving),
        ] {
            if ids.is_empty() {
                continue;
            }
            let names: Vec<String> = ids.iter().map(describe).collect();
            let (sql, step) = cluster(ctx, &ids, &BTreeSet::new());
            let sql = sql.replace(INNER, "").trim_end().to_string();
            let mut made = step(Step::new(
                phase,
                format!("{verb} {}", names.join(", ")),
                sql,
            ));
            if phase == Phase::Contract {
                made.lock_target = Some("the dropped views".to_string());
            }
            out.push(made);
        }
        out
    }
}

/// What a wrapped step's description adds: the readers re-created around it, and those
/// dropped for good before it.
fn around_note(again: &[&ObjectId], gone: &[&ObjectId]) -> String {
    let names = |ids: &[&ObjectId]| ids.iter().map(|id| describe(id)).collect::<Vec<_>>();
    match (again.is_empty(), gone.is_empty()) {
        (false, true) => format!("re-creating {} around it", names(again).join(", ")),
        (true, _) => format!("dropping {} first", names(gone).join(", ")),
        (false, false) => format!(
            "re-creating {} around it, dropping {} first",
            names(again).join(", "),
            names(gone).join(", ")
        ),
    }
}

/// Marks where the drops end and the creates start in a cluster's SQL.
const INNER: &str = "-- zdm: re-create\n";

/// The SQL that drops `ids` (dependents first, by live edges) and creates again those the
/// desired side has (dependencies first, by desired edges) and then those `as_live` (as they
/// are live, by live edges: nothing desired depends on them), and a function that gives a
/// step its graph vertices and lock.
fn cluster(
    ctx: &Context,
    ids: &[ObjectId],
    as_live: &BTreeSet<ObjectId>,
) -> (String, impl Fn(Step) -> Step) {
    let mut drops = ordered(ctx.from, ids);
    drops.reverse();
    let (live_ids, desired_ids): (Vec<ObjectId>, Vec<ObjectId>) =
        ids.iter().cloned().partition(|id| as_live.contains(id));
    let mut sql: Vec<String> = drops
        .iter()
        .filter_map(|id| ctx.from.object(id))
        .map(|o| drop_sql(&o))
        .collect();
    let created: Vec<_> = ordered(ctx.to, &desired_ids)
        .iter()
        .filter_map(|id| ctx.to.object(id))
        .collect();
    let kept: Vec<_> = ordered(ctx.from, &live_ids)
        .iter()
        .filter_map(|id| ctx.from.object(id))
        .collect();
    let mut tail = Vec::new();
    if created
        .iter()
        .chain(&kept)
        .any(|o| o.id().kind != Kind::View)
    {
        tail.push(NO_BODY_CHECKS.to_string());
    }
    for object in &created {
        tail.extend(create_sql(object));
        tail.extend(super::grants::statements_as_desired(ctx, object.id()));
    }
    for object in &kept {
        tail.extend(create_sql(object));
        tail.extend(super::grants::statements_as_live(ctx, object.id()));
    }
    sql.push(format!("{INNER}{}", tail.join("\n")));
    let mut uses = Vec::new();
    let mut made = Vec::new();
    for object in &created {
        uses.extend(needs(ctx.to, object.id()));
        made.extend(resources(object));
    }
    // What is re-created as it is live goes on existing for the rest of the plan (its own
    // drop comes later): neither made nor gone here.
    for object in &kept {
        uses.extend(needs(ctx.from, object.id()));
    }
    for id in &drops {
        uses.extend(needs(ctx.from, id));
    }
    let inside: Vec<Resource> = ids.iter().map(Resource::of).collect();
    uses.retain(|r| !inside.contains(r) && !made.contains(r));
    let gone: Vec<Resource> = drops
        .iter()
        .filter(|id| !as_live.contains(*id))
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
        (Resource::Type(t), Kind::Type) => &n.qualified() == t,
        _ => false,
    })
}

/// The columns and tables this plan removes or swaps under views, each with whether it is a
/// table re-created in one step (expand) rather than dropped in contract or retyped.
fn removals(ctx: &Context, changes: &[Change]) -> Vec<(Resource, bool)> {
    let mut out = Vec::new();
    for change in changes {
        match change {
            Change::DropColumn { table, column } => {
                out.push((Resource::Column(table.clone(), column.name.clone()), false))
            }
            Change::AlterColumn { table, from, to }
                if from.data_type != to.data_type || from.collation != to.collation =>
            {
                out.push((Resource::Column(table.clone(), to.name.clone()), false))
            }
            Change::RecreateTable { from, .. } => {
                out.push((Resource::Relation(from.name.clone()), true))
            }
            Change::DropTable { table } => {
                out.push((Resource::Relation(table.name.clone()), false))
            }
            Change::AlterRange { from, to } if !from.same_definition(to) => {
                for resource in super::ranges::resources(from)
                    .into_iter()
                    .chain(super::ranges::converted_columns(ctx, from))
                {
                    out.push((resource, false));
                }
            }
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
                    .and_then(|t| t.column(&crate::plan::online::retype::shadow_name(column)));
                let pending = match (live, desired) {
                    (Some(l), Some(d)) => l.data_type != d.data_type || shadow.is_some(),
                    _ => false,
                };
                if pending {
                    out.push((Resource::Column(table.clone(), column.clone()), false))
                }
            }
            Transform::RenameColumn { table, from, .. } => {
                let live = ctx.live_table(table).and_then(|t| t.column(from));
                let desired = ctx.desired_table(table).and_then(|t| t.column(from));
                if live.is_some() && desired.is_none() {
                    out.push((Resource::Column(table.clone(), from.clone()), false))
                }
            }
            _ => {}
        }
    }
    out.dedup();
    out
}
