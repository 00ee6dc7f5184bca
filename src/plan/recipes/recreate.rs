//! Re-creating a table whose partitioning changed (regular <-> partitioned, another key,
//! another parent or bound), with the whole set that goes with it.
//!
//! One transaction, under ACCESS EXCLUSIVE on the old table from its first statement:
//! 1. the foreign keys of other tables that reference the old table (or its partitions) are
//!    dropped, the sequences its columns own are released (`OWNED BY NONE`), its rows are saved
//!    in a temporary table, and it is dropped with its partitions;
//! 2. the new table and its partitions are created (parents first) and the rows copied in
//!    (`OVERRIDING SYSTEM VALUE`, identity sequences moved past the copied values);
//! 3. its indexes, its own foreign keys and `NOT VALID` constraints, the referencing foreign
//!    keys (`NOT VALID`, validated in the validate phase), the sequences' ownership and its
//!    triggers come back. Views and policies reading it are dropped before and created after
//!    inside the same transaction by the cascade (`cascade::Cascade::wrap`); grants, comments
//!    and row-level security come from their own changes, which see the table as new.
//!
//! No session ever sees the table missing or empty: the copy keeps the data, at the price of
//! holding the lock for the copy (a `long-lock` hazard when there are rows). A copy that
//! cannot succeed (a row no partition accepts) fails the transaction and changes nothing.

use std::collections::BTreeSet;

use crate::diff::Change;
use crate::model::{Constraint, Model, Object, QualifiedName, Table, TableKind};
use crate::plan::resource::{table_uses, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, Step, TableWork};
use crate::sql::{ddl, quote_ident};

use super::{constraints, helper_name, keyed};

/// One re-created table and its partitions on both sides.
struct Tree {
    root: QualifiedName,
    /// The live table and its partitions, parents first.
    old: Vec<QualifiedName>,
    /// The desired table and its partitions, parents first.
    new: Vec<QualifiedName>,
    /// Live foreign keys of other tables that reference a table of `old`.
    referencing: Vec<(QualifiedName, Constraint)>,
    /// Live tables outside the old tree that the new one takes in under their names (a table
    /// of its own becoming a partition): dropped with the old tree, their rows copied into
    /// the new one. They are in `old` too.
    joining: Vec<QualifiedName>,
    /// Live partitions of the old tree that the files keep outside the new one (a partition
    /// becoming a table of its own): re-created by their own tree, before this one drops the
    /// old root (which would drop them and their rows).
    leaving: Vec<QualifiedName>,
}

pub struct Recreations {
    trees: Vec<Tree>,
    /// Tables of the new trees whose row-level security flags are what the live ones had:
    /// set inside the re-creating transaction, so their `SetRowSecurity` is claimed (a real
    /// change of the flags keeps its own step and hazard).
    row_security_kept: BTreeSet<QualifiedName>,
}

impl Recreations {
    pub fn new(ctx: &Context, changes: &[Change]) -> Recreations {
        let rebuilt: BTreeSet<&QualifiedName> = changes
            .iter()
            .filter_map(|c| match c {
                Change::RecreateTable { from, .. } => Some(&from.name),
                _ => None,
            })
            .collect();
        let is_root = |name: &QualifiedName| {
            let parent_in = |model: &Model| {
                model
                    .tables
                    .get(name)
                    .and_then(|t| t.partition_of.as_ref())
                    .is_some_and(|p| rebuilt.contains(&p.parent))
            };
            // A partition the files keep outside the re-created tree is a root of its own.
            !parent_in(ctx.to) && (!parent_in(ctx.from) || ctx.to.tables.contains_key(name))
        };
        // Those turned partitioned online are not re-created (`partition_swap`).
        let online = crate::plan::online::partition_swap::roots(ctx, changes);
        let roots: BTreeSet<QualifiedName> = rebuilt
            .iter()
            .filter(|name| is_root(name) && !online.contains(name))
            .map(|name| (*name).clone())
            .collect();
        let trees = roots
            .iter()
            .map(|root| {
                let (mut old, leaving) = family_except(ctx.from, root, &roots);
                let new = family(ctx.to, root);
                let joining: Vec<QualifiedName> = new
                    .iter()
                    .filter(|n| !old.contains(n) && ctx.from.tables.contains_key(n))
                    .cloned()
                    .collect();
                old.extend(joining.iter().cloned());
                let referencing = referencing_keys(ctx.from, &old);
                Tree {
                    root: (*root).clone(),
                    new,
                    old,
                    referencing,
                    joining,
                    leaving,
                }
            })
            .collect::<Vec<Tree>>();
        let row_security_kept = trees
            .iter()
            .flat_map(|t| &t.new)
            .filter(|name| ctx.from.row_security.get(name) == ctx.to.row_security.get(name))
            .cloned()
            .collect();
        Recreations {
            trees,
            row_security_kept,
        }
    }

    fn in_old(&self, name: &QualifiedName) -> bool {
        self.trees.iter().any(|t| t.old.contains(name))
    }

    fn in_new(&self, name: &QualifiedName) -> bool {
        self.trees.iter().any(|t| t.new.contains(name))
    }

    /// Whether a change is carried out by a re-creation planned here.
    pub fn claims(&self, change: &Change) -> bool {
        match change {
            Change::RecreateTable { from, to } => self.in_old(&from.name) || self.in_new(&to.name),
            Change::DropTable { table } => self.in_old(&table.name),
            Change::CreateTable { table } => self.in_new(&table.name),
            Change::AddIndex { table, .. } => self.in_new(table),
            Change::SetRowSecurity { table, .. } => self.row_security_kept.contains(table),
            Change::DropConstraint { table, constraint } => self.trees.iter().any(|t| {
                t.referencing
                    .iter()
                    .any(|(on, fk)| on == table && fk.name == constraint.name)
            }),
            Change::CreateObject { object }
            | Change::DropObject { object }
            | Change::ReplaceObject { to: object, .. }
            | Change::RecreateObject { to: object, .. } => match object {
                Object::Trigger(trigger) => {
                    self.in_old(&trigger.table) || self.in_new(&trigger.table)
                }
                _ => false,
            },
            _ => false,
        }
    }

    pub fn steps(&self, ctx: &Context) -> Vec<Step> {
        self.trees.iter().flat_map(|t| tree_steps(ctx, t)).collect()
    }
}

/// `root` and its partitions at any depth in `model`, parents first.
fn family(model: &Model, root: &QualifiedName) -> Vec<QualifiedName> {
    family_except(model, root, &BTreeSet::new()).0
}

/// [`family`], without the partitions in `roots` (and theirs), which are returned apart.
fn family_except(
    model: &Model,
    root: &QualifiedName,
    roots: &BTreeSet<QualifiedName>,
) -> (Vec<QualifiedName>, Vec<QualifiedName>) {
    let mut out = vec![root.clone()];
    let mut apart = Vec::new();
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        for table in model.tables.values() {
            let child = table
                .partition_of
                .as_ref()
                .is_some_and(|p| p.parent == parent);
            if !child || out.contains(&table.name) || apart.contains(&table.name) {
                continue;
            }
            if roots.contains(&table.name) {
                apart.push(table.name.clone());
            } else {
                out.push(table.name.clone());
            }
        }
        i += 1;
    }
    (out, apart)
}

/// Foreign keys of tables outside `tables` that reference one of them (a partition's copy of
/// its parent's key comes with the parent's).
fn referencing_keys(model: &Model, tables: &[QualifiedName]) -> Vec<(QualifiedName, Constraint)> {
    model
        .tables
        .values()
        .filter(|t| !tables.contains(&t.name))
        .flat_map(|t| t.constraints.values().map(move |c| (&t.name, c)))
        .filter(|(_, c)| {
            !c.inherited
                && c.foreign_key
                    .as_ref()
                    .is_some_and(|k| tables.contains(&k.referenced_table))
        })
        .map(|(name, c)| (name.clone(), c.clone()))
        .collect()
}

fn tables<'a>(model: &'a Model, names: &[QualifiedName]) -> Vec<&'a Table> {
    names.iter().filter_map(|n| model.tables.get(n)).collect()
}

/// The re-creating step and the validations of the foreign keys it re-adds `NOT VALID`.
fn tree_steps(ctx: &Context, tree: &Tree) -> Vec<Step> {
    let (Some(old_root), Some(new_root)) =
        (ctx.live_table(&tree.root), ctx.desired_table(&tree.root))
    else {
        return Vec::new();
    };
    let copied = copied_columns(old_root, new_root);
    let lost: Vec<&str> = old_root
        .columns
        .iter()
        .filter(|c| c.generated.is_none() && !copied.contains(&c.name))
        .map(|c| c.name.as_str())
        .collect();
    let saved = helper_name("rows", &tree.root.name);
    let mut sql = take_apart(ctx, tree, &copied, &saved);
    let mut validations = Vec::new();
    sql.extend(build_again(ctx, tree, &copied, &saved, &mut validations));

    let has_rows = tables(ctx.from, &tree.old).iter().any(|t| t.stats.has_rows);
    let phase = if lost.is_empty() {
        Phase::Expand
    } else {
        Phase::Contract
    };
    let mut step = Step::new(
        phase,
        format!(
            "re-create table {} with its rows (partitioning changed)",
            tree.root
        ),
        sql.join("\n"),
    )
    .lock(LockMode::AccessExclusive, locked_tables(tree))
    .work(TableWork::Rewrite);
    step = with_resources(ctx, tree, step)
        .after_drop_of(tree.leaving.iter().cloned().map(Resource::Relation));
    if has_rows {
        step = with_hazards(ctx, tree, step, &lost);
    }
    for validation in &mut validations {
        validation.after_drop_of.extend(step.drops.iter().cloned());
    }
    let mut steps = vec![step];
    steps.extend(validations);
    steps
}

fn locked_tables(tree: &Tree) -> String {
    let mut names: Vec<String> = vec![tree.root.to_string()];
    for (table, _) in &tree.referencing {
        if !names.contains(&table.to_string()) {
            names.push(table.to_string());
        }
    }
    names.join(", ")
}

/// Columns the new table gets from the old one: those both have, that the new one does not
/// compute itself.
fn copied_columns(old: &Table, new: &Table) -> Vec<String> {
    new.columns
        .iter()
        .filter(|c| c.generated.is_none())
        .filter(|c| old.column(&c.name).is_some_and(|o| o.generated.is_none()))
        .map(|c| c.name.clone())
        .collect()
}

/// Lock, set aside what must survive the drop (referencing keys, owned sequences, the rows),
/// drop the old table with its partitions.
fn take_apart(ctx: &Context, tree: &Tree, copied: &[String], saved: &str) -> Vec<String> {
    let mut sql = vec![ddl::tables::lock_exclusive(&[&tree.root])];
    for (table, fk) in &tree.referencing {
        sql.push(ddl::tables::drop_constraint(table, &fk.name));
    }
    for sequence in ctx.from.sequences.values() {
        if sequence
            .owned_by
            .as_ref()
            .is_some_and(|o| tree.old.contains(&o.table))
        {
            sql.push(ddl::sequences::owned_by_none(&sequence.name));
        }
    }
    if !copied.is_empty() {
        sql.push(ddl::tables::save_rows(saved, copied, &tree.root));
    }
    sql.push(ddl::tables::drop(&tree.root));
    for (table, saved, copied) in joining_copies(ctx, tree) {
        if !copied.is_empty() {
            sql.push(ddl::tables::save_rows(&saved, &copied, &table));
        }
        sql.push(ddl::tables::drop(&table));
    }
    sql
}

/// Each table the new tree takes in, the temporary table its rows wait in, and the columns
/// the new tree gets from it.
fn joining_copies(ctx: &Context, tree: &Tree) -> Vec<(QualifiedName, String, Vec<String>)> {
    let Some(new_root) = ctx.desired_table(&tree.root) else {
        return Vec::new();
    };
    tree.joining
        .iter()
        .filter_map(|name| ctx.live_table(name))
        .map(|table| {
            let saved = helper_name("rows", &table.name.name);
            (table.name.clone(), saved, copied_columns(table, new_root))
        })
        .collect()
}

/// Create the new table and its partitions, copy the rows in, and bring back what depends
/// on it. Validations of keys added `NOT VALID` go to `validations`.
fn build_again(
    ctx: &Context,
    tree: &Tree,
    copied: &[String],
    saved: &str,
    validations: &mut Vec<Step>,
) -> Vec<String> {
    let new_tables = tables(ctx.to, &tree.new);
    let mut sql: Vec<String> = new_tables
        .iter()
        .map(|t| ddl::create_table(t, false))
        .collect();
    if !copied.is_empty() {
        sql.push(ddl::tables::restore_rows(&tree.root, copied, saved));
    }
    for (_, joined, copied) in joining_copies(ctx, tree) {
        if !copied.is_empty() {
            sql.push(ddl::tables::restore_rows(&tree.root, &copied, &joined));
        }
    }
    if let Some(root) = ctx.desired_table(&tree.root) {
        for column in root.columns.iter().filter(|c| c.identity.is_some()) {
            // A fresh identity sequence would hand out the copied values again.
            sql.push(ddl::sequences::set_column_position_to_max(
                &tree.root,
                &column.name,
            ));
        }
    }
    for sequence in ctx.to.sequences.values() {
        if sequence
            .owned_by
            .as_ref()
            .is_some_and(|o| tree.new.contains(&o.table))
        {
            sql.push(ddl::sequence_owned_by(sequence));
        }
    }
    for table in &new_tables {
        for index in table.indexes.values() {
            // Built on the parent, an index reaches every partition and attaches their copies.
            sql.push(format!(
                "{};",
                index.definition.replacen(" ON ONLY ", " ON ", 1)
            ));
        }
    }
    for table in &new_tables {
        for constraint in table
            .constraints
            .values()
            .filter(|c| !c.inherited && !c.inline_in_create_table(false))
        {
            sql.push(re_add(ctx, &table.name, constraint, validations));
        }
    }
    for (table, fk) in kept_referencing(ctx, tree) {
        sql.push(re_add(ctx, table, fk, validations));
    }
    for trigger in ctx.to.triggers.values() {
        if tree.new.contains(&trigger.table) {
            sql.extend(keyed::create_sql(&Object::Trigger(trigger.clone())));
        }
    }
    // In the same transaction as the policies (the cascade re-creates them around this
    // step): the new table never admits rows the old one hid.
    for name in &tree.new {
        let flags = ctx.to.row_security.get(name).copied().unwrap_or_default();
        if flags.enabled {
            sql.push(ddl::policies::set_enabled(name, true));
        }
        if flags.forced {
            sql.push(ddl::policies::set_forced(name, true));
        }
    }
    sql
}

/// The referencing foreign keys the desired side keeps exactly as they are (a changed or
/// dropped one is the diff's `AddConstraint`, or nothing).
fn kept_referencing<'a>(ctx: &'a Context, tree: &Tree) -> Vec<(&'a QualifiedName, &'a Constraint)> {
    tree.referencing
        .iter()
        .filter_map(|(table, live)| {
            let desired = ctx.desired_table(table)?;
            let fk = desired.constraints.get(&live.name)?;
            let same = fk.definition == live.definition
                && fk.deferrable == live.deferrable
                && fk.initially_deferred == live.initially_deferred;
            same.then_some((&desired.name, fk))
        })
        .collect()
}

/// `ADD CONSTRAINT` for a table holding copied rows: `NOT VALID` and validated in the
/// validate phase, except where PostgreSQL has no `NOT VALID` (foreign keys on partitioned
/// tables): those are checked here, under the lock already held.
pub(in crate::plan) fn re_add(
    ctx: &Context,
    table: &QualifiedName,
    constraint: &Constraint,
    validations: &mut Vec<Step>,
) -> String {
    let partitioned = ctx
        .desired_table(table)
        .is_some_and(|t| t.kind == TableKind::Partitioned);
    if constraint.foreign_key.is_some() && partitioned {
        return ddl::add_constraint(table, constraint);
    }
    let mut not_valid = constraint.clone();
    not_valid.validated = false;
    if constraint.validated {
        validations.extend(constraints::validate(table, constraint));
    }
    ddl::add_constraint(table, &not_valid)
}

/// What the step removes, brings into existence and needs, as graph vertices.
fn with_resources(ctx: &Context, tree: &Tree, step: Step) -> Step {
    let mut drops = Vec::new();
    for table in tables(ctx.from, &tree.old) {
        drops.extend(table_resources(table));
    }
    for (table, fk) in &tree.referencing {
        drops.push(Resource::Constraint(table.clone(), fk.name.clone()));
    }
    let mut creates = Vec::new();
    let mut uses = Vec::new();
    for table in tables(ctx.to, &tree.new) {
        creates.extend(table_resources(table));
        uses.extend(table_uses(ctx.to, table));
        for constraint in table.constraints.values() {
            uses.extend(constraints::referenced(ctx.to, constraint));
        }
    }
    for (table, fk) in kept_referencing(ctx, tree) {
        creates.push(Resource::Constraint(table.clone(), fk.name.clone()));
        uses.extend(constraints::referenced(ctx.to, fk));
    }
    for trigger in ctx.from.triggers.values() {
        if tree.old.contains(&trigger.table) {
            drops.push(Resource::Trigger(trigger.id.clone()));
        }
    }
    for trigger in ctx.to.triggers.values() {
        if tree.new.contains(&trigger.table) {
            creates.push(Resource::Trigger(trigger.id.clone()));
            uses.extend(keyed::needs(ctx.to, &trigger.id));
        }
    }
    for table in tables(ctx.from, &tree.old) {
        uses.extend(table_uses(ctx.from, table));
    }
    // A partition leaving a re-created parent goes first: the parent's tree waits for it.
    let live_parent = ctx
        .live_table(&tree.root)
        .and_then(|t| t.partition_of.as_ref())
        .map(|p| Resource::Relation(p.parent.clone()));
    uses.retain(|r| !creates.contains(r) && !drops.contains(r) && Some(r) != live_parent.as_ref());
    uses.dedup();
    step.drops(drops).creates(creates).uses(uses)
}

/// A table as graph vertices: itself, its columns and NOT NULLs, its constraints and indexes.
fn table_resources(table: &Table) -> Vec<Resource> {
    let name = &table.name;
    let relation = |n: &str| Resource::Relation(QualifiedName::new(name.schema.clone(), n));
    let mut out = vec![Resource::Relation(name.clone())];
    for column in &table.columns {
        out.push(Resource::Column(name.clone(), column.name.clone()));
        if column.not_null {
            out.push(Resource::NotNull(name.clone(), column.name.clone()));
        }
    }
    for constraint in table.constraints.values() {
        out.push(Resource::Constraint(name.clone(), constraint.name.clone()));
        if let Some(index) = &constraint.index {
            out.push(relation(index));
        }
    }
    out.extend(table.indexes.keys().map(|i| relation(i)));
    out
}

fn with_hazards(ctx: &Context, tree: &Tree, step: Step, lost: &[&str]) -> Step {
    let root = &tree.root;
    let mut step = step.hazard(
        HazardKind::LongLock,
        format!(
            "{root} is re-created with its rows: they are copied into the new table (and its indexes built) under ACCESS EXCLUSIVE, which blocks every read and write of {root} until the copy commits"
        ),
    );
    let bounded = tables(ctx.to, &tree.new)
        .iter()
        .any(|t| t.kind == TableKind::Partitioned || t.partition_of.is_some());
    if bounded {
        step = step.hazard(
            HazardKind::MayFail,
            format!(
                "fails, changing nothing, if a row of {root} fits no partition of the new {root}"
            ),
        );
    }
    if !lost.is_empty() {
        let names: Vec<String> = lost.iter().map(|c| quote_ident(c)).collect();
        step = step.hazard(
            HazardKind::DataLoss,
            format!(
                "column(s) {} of {root} are not in the new table: their values are lost",
                names.join(", ")
            ),
        );
    }
    step
}
