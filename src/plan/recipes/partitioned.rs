//! Indexes of partitioned tables, the way PostgreSQL documents for building them without
//! blocking writes (`CREATE INDEX CONCURRENTLY` is refused on a partitioned table): the
//! parent's index is created `ON ONLY` the parent (catalog only, invalid), each partition's
//! index is built concurrently, or an existing one that matches is reused, and attached with
//! `ALTER INDEX ... ATTACH PARTITION`; the parent's index turns valid with the last one.

use crate::diff::Change;
use crate::model::{Constraint, ConstraintKind, Index, QualifiedName, Table, TableKind};
use crate::plan::resource::{columns_of, Resource};
use crate::plan::{Context, HazardKind, LockMode, Op, Phase, Step, TableWork};
use crate::sql::quote_ident;

use crate::sql::ddl;

use super::partition_relink;
use crate::sql::ddl::indexes::{attach_partition, index_sql};

/// The live partitions of `parent` that stay partitions of it in the desired schema.
pub(in crate::plan) fn kept_partitions<'a>(
    ctx: &'a Context,
    parent: &QualifiedName,
) -> Vec<&'a Table> {
    ctx.from
        .tables
        .values()
        .filter(|t| t.partition_of.as_ref().is_some_and(|p| &p.parent == parent))
        .filter(|t| {
            ctx.desired_table(&t.name)
                .and_then(|d| d.partition_of.as_ref())
                == t.partition_of.as_ref()
        })
        .collect()
}

/// A live standalone index of `partition` that can serve as its part of `index`.
fn reusable<'a>(partition: &'a Table, index: &Index) -> Option<&'a Index> {
    partition
        .indexes
        .values()
        .find(|i| i.valid && i.same_shape(index))
}

fn relation(schema: &str, name: &str) -> Resource {
    Resource::Relation(QualifiedName::new(schema.to_string(), name.to_string()))
}

/// `index`'s definition on `partition` under `name` (`CREATE INDEX n ON ONLY parent USING
/// ...` -> `CREATE INDEX [CONCURRENTLY] name ON partition USING ...`).
fn on_partition(
    index: &Index,
    parent: &QualifiedName,
    partition: &QualifiedName,
    name: &str,
    concurrently: bool,
) -> Option<String> {
    let (_, rest) = index
        .definition
        .split_once(&format!(" ON ONLY {parent} "))
        .or_else(|| index.definition.split_once(&format!(" ON {parent} ")))?;
    let definition = ddl::indexes::on_relation(index.unique, partition, rest);
    Some(index_sql(&definition, name, concurrently))
}

/// Steps that add `index` to the live partitioned table `parent`; `None` when a partition's
/// part cannot be named (then the caller builds the index on the parent in one statement).
/// The oldest major seen to check a parent index again when an attached part is attached
/// again (`validate_after_leaving`): 15, 17 and 18 do, 13 does not (CI's table_classes on 13
/// left the index invalid); 14 and 16 are not tried, so 14 takes the one-statement path too.
const REATTACH_VALIDATES_SINCE: i32 = 150000;

pub fn add_index(
    ctx: &Context,
    parent: &QualifiedName,
    index: &Index,
    uses: Vec<Resource>,
) -> Option<Vec<Step>> {
    let parent_index = QualifiedName::new(parent.schema.clone(), index.name.clone());
    let mut on_only = index_sql(&index.definition, &index.name, false);
    on_only = on_only.replacen(&format!(" ON {parent} "), &format!(" ON ONLY {parent} "), 1);
    let kept = kept_partitions(ctx, parent);
    let leaving = leaving_partitions(ctx, parent);
    let cannot_validate_later = !leaving.is_empty()
        && (kept.is_empty() || ctx.from.server_version < REATTACH_VALIDATES_SINCE);
    if cannot_validate_later || joins_from_live(ctx, parent) {
        // No partition stays to attach again once the others are gone, or the server does
        // not check the parent index again on that (see `validate_after_leaving`), or a live
        // table joins (re-created as a partition, in an
        // order the index does not control: joined before the `ON ONLY` index it has no part
        // and the index stays invalid): the caller builds the index on the parent in one
        // statement, which covers whatever partitions it has then, and later ones get theirs.
        return None;
    }
    let mut steps = vec![Step::new(
        Phase::Expand,
        format!(
            "create index {} on partitioned table {parent} only",
            quote_ident(&index.name)
        ),
        on_only,
    )
    .lock(LockMode::Share, parent)
    .uses(uses)
    .creates([relation(&parent.schema, &index.name)])];
    let mut last_part = None;
    for partition in kept {
        let target = index
            .partitions
            .iter()
            .find(|p| p.table == partition.name)
            .map(|p| p.name.clone())?;
        let mut part = partition_part(ctx, parent, index, partition, &target)?;
        part.push(
            Step::new(
                Phase::Expand,
                format!(
                    "attach index {} of {} to {parent_index}",
                    quote_ident(&target),
                    partition.name
                ),
                attach_partition(
                    &parent_index,
                    &QualifiedName::new(partition.name.schema.clone(), target.clone()),
                ),
            )
            .lock(LockMode::ShareUpdateExclusive, &partition.name)
            .uses([
                relation(&parent.schema, &index.name),
                relation(&partition.name.schema, &target),
            ]),
        );
        steps.extend(part);
        let part = QualifiedName::new(partition.name.schema.clone(), target);
        last_part = Some((partition.name.clone(), part));
    }
    if let (Some((table, part)), false) = (last_part, leaving.is_empty()) {
        steps.push(validate_after_leaving(
            &parent_index,
            &table,
            &part,
            &leaving,
        ));
    }
    Some(steps)
}

/// The live partitions of `parent` that do not stay partitions of it as they are (dropped,
/// detached, re-created under another bound or parent).
fn leaving_partitions(ctx: &Context, parent: &QualifiedName) -> Vec<QualifiedName> {
    let kept: Vec<&QualifiedName> = kept_partitions(ctx, parent)
        .into_iter()
        .map(|t| &t.name)
        .collect();
    ctx.from
        .tables
        .values()
        .filter(|t| t.partition_of.as_ref().is_some_and(|p| &p.parent == parent))
        .filter(|t| !kept.contains(&&t.name))
        .map(|t| t.name.clone())
        .collect()
}

/// Whether a live table becomes a partition of `parent` other than as it is (a table of its
/// own, or a partition under another bound or parent). A table new to the plan is left out:
/// its `CREATE TABLE ... PARTITION OF` comes after the parent's index in the plan's order
/// (tests/table_classes "an index added with a new partition beside a kept one"), and
/// PostgreSQL gives it its part.
fn joins_from_live(ctx: &Context, parent: &QualifiedName) -> bool {
    let kept: Vec<QualifiedName> = kept_partitions(ctx, parent)
        .into_iter()
        .map(|t| t.name.clone())
        .collect();
    ctx.to.tables.values().any(|t| {
        t.partition_of.as_ref().is_some_and(|p| &p.parent == parent)
            && !kept.contains(&t.name)
            && ctx.from.tables.contains_key(&t.name)
    })
}

/// An index created `ON ONLY` a parent turns valid when the last partition's part is
/// attached; a partition that leaves without a part (it is not given one: its rows go
/// with it) leaves the parent's index invalid, and PostgreSQL does not check again when
/// it goes. Attaching a kept partition's part again, once the leaving ones are gone, does.
fn validate_after_leaving(
    parent_index: &QualifiedName,
    table: &QualifiedName,
    part: &QualifiedName,
    leaving: &[QualifiedName],
) -> Step {
    Step::new(
        Phase::Contract,
        format!("validate index {parent_index} once the partitions leaving it are gone"),
        attach_partition(parent_index, part),
    )
    .lock(LockMode::ShareUpdateExclusive, table)
    .uses([
        Resource::Relation(parent_index.clone()),
        Resource::Relation(part.clone()),
    ])
    .after_drop_of(leaving.iter().cloned().map(Resource::Relation))
}

/// How `partition` gets its index named `target`: an existing match (renamed if need be), a
/// concurrent build, or, for a partition that is partitioned itself, a plain build.
fn partition_part(
    ctx: &Context,
    parent: &QualifiedName,
    index: &Index,
    partition: &Table,
    target: &str,
) -> Option<Vec<Step>> {
    let table = &partition.name;
    let creates = [relation(&table.schema, target)];
    if let Some(existing) = reusable(partition, index) {
        if existing.name == target {
            return Some(Vec::new());
        }
        return Some(vec![Step::new(
            Phase::Expand,
            format!(
                "rename index {} of {table} to {}",
                quote_ident(&existing.name),
                quote_ident(target)
            ),
            ddl::indexes::rename(
                &QualifiedName::new(table.schema.clone(), existing.name.clone()),
                target,
            ),
        )
        .lock(LockMode::ShareUpdateExclusive, table)
        .uses([relation(&table.schema, &existing.name)])
        .creates(creates)]);
    }
    let uses = [Resource::Relation(table.clone())];
    if partition.kind == TableKind::Partitioned {
        let mut step = Step::new(
            Phase::Expand,
            format!(
                "create index {} on partitioned table {table}",
                quote_ident(target)
            ),
            on_partition(index, parent, table, target, false)?,
        )
        .lock(LockMode::Share, table)
        .work(TableWork::Scan)
        .uses(uses)
        .creates(creates);
        if ctx.has_rows(table) {
            step = step.hazard(
                HazardKind::LongLock,
                format!("{table} is partitioned too: writes to it wait for the build"),
            );
        }
        return Some(vec![step]);
    }
    let mut step = Step::new(
        Phase::Expand,
        format!(
            "build index {} on {table} concurrently",
            quote_ident(target)
        ),
        on_partition(index, parent, table, target, true)?,
    )
    .op(Op::BuildIndexConcurrently {
        index: QualifiedName::new(table.schema.clone(), target.to_string()),
    })
    .lock(LockMode::ShareUpdateExclusive, table)
    .work(TableWork::Scan)
    .outside_transaction()
    .uses(uses)
    .creates(creates);
    if index.unique && ctx.has_rows(table) {
        step = step.hazard(
            HazardKind::MayFail,
            format!("fails if {table} holds duplicate keys"),
        );
    }
    Some(vec![step])
}

/// A live partition's standalone index that an index added to its parent takes over (see
/// [`add_index`]): not dropped.
pub fn attached_by_parent(
    ctx: &Context,
    changes: &[Change],
    table: &QualifiedName,
    index: &Index,
) -> bool {
    let Some(partition) = ctx.live_table(table) else {
        return false;
    };
    let Some(parent) = partition.partition_of.as_ref().map(|p| &p.parent) else {
        return false;
    };
    changes.iter().any(|c| match c {
        Change::AddIndex {
            table: t,
            index: added,
        } => {
            t == parent
                && reusable(partition, added).is_some_and(|r| r.name == index.name)
                && added.partitions.iter().any(|p| &p.table == table)
        }
        _ => false,
    })
}

/// A live standalone index of `partition` that can become the partition's part of the key
/// `constraint` (a plain unique index on exactly its columns).
fn reusable_for_key<'a>(partition: &'a Table, constraint: &Constraint) -> Option<&'a Index> {
    let keys: Vec<String> = constraint.columns.iter().map(|c| quote_ident(c)).collect();
    let wanted = constraint.index.as_deref();
    let fits = |i: &&Index| {
        i.valid
            && i.unique
            && i.nulls_not_distinct == nulls_not_distinct(constraint)
            && i.method == "btree"
            && i.include.is_empty()
            && i.predicate.is_none()
            && i.key_expressions == keys
    };
    let mut candidates = partition.indexes.values().filter(fits);
    let first = candidates.clone().next();
    candidates
        .find(|i| Some(i.name.as_str()) == wanted)
        .or(first)
}

/// A live constraint of `partition`'s own (not from a parent) that is the key `constraint`.
fn own_key<'a>(partition: &'a Table, constraint: &Constraint) -> Option<&'a Constraint> {
    partition.constraints.values().find(|c| {
        !c.inherited
            && c.kind == constraint.kind
            && c.columns == constraint.columns
            && c.deferrable == constraint.deferrable
            && nulls_not_distinct(c) == nulls_not_distinct(constraint)
    })
}

/// Whether a key's index treats nulls as equal (15+), as its definition says.
fn nulls_not_distinct(key: &Constraint) -> bool {
    key.index_definition
        .as_deref()
        .is_some_and(|d| d.contains(" NULLS NOT DISTINCT"))
}

/// A partition's key renamed (its index follows) to the name the desired side gives it.
fn rename_key(table: &QualifiedName, from: &str, to: &str) -> Step {
    Step::new(
        Phase::Expand,
        format!(
            "rename constraint {} of {table} to {}",
            quote_ident(from),
            quote_ident(to)
        ),
        crate::sql::ddl::tables::rename_constraint(table, from, to),
    )
    .lock(LockMode::AccessExclusive, table)
    .uses([Resource::Constraint(table.clone(), from.to_string())])
    .drops([Resource::Constraint(table.clone(), from.to_string())])
    .creates([Resource::Constraint(table.clone(), to.to_string())])
}

/// The partition's own copy of the parent's key, as the desired side has it.
pub(in crate::plan) fn desired_partition_key<'a>(
    ctx: &'a Context,
    partition: &QualifiedName,
    constraint: &Constraint,
) -> Option<&'a Constraint> {
    ctx.desired_table(partition)?
        .constraints
        .values()
        .find(|c| c.inherited && c.kind == constraint.kind && c.columns == constraint.columns)
}

/// A PRIMARY KEY or UNIQUE constraint added to the live partitioned table `parent` without
/// building its index under ACCESS EXCLUSIVE: each partition gets its own constraint first,
/// on an index built concurrently (or an existing matching one), and the parent's
/// `ADD CONSTRAINT` then attaches those instead of building. `None` when a partition cannot
/// be covered so.
pub fn add_key(
    ctx: &Context,
    parent: &QualifiedName,
    constraint: &Constraint,
    uses: &[Resource],
) -> Option<Vec<Step>> {
    let kind = match constraint.kind {
        ConstraintKind::PrimaryKey => "PRIMARY KEY",
        ConstraintKind::Unique if !constraint.deferrable => "UNIQUE",
        _ => return None,
    };
    let mut steps = Vec::new();
    let mut needs = Vec::new();
    let mut relinked = Vec::new();
    for partition in kept_partitions(ctx, parent) {
        if partition.kind != TableKind::Regular {
            return None;
        }
        let table = &partition.name;
        let own = desired_partition_key(ctx, table, constraint)?;
        if partition_relink::needed(ctx, constraint) {
            steps.extend(partition_relink::prepare(partition));
            needs.push(partition_relink::needs(table));
            relinked.push(partition);
        }
        if let Some(live) = own_key(partition, constraint) {
            // The partition has this key of its own already: the parent's ADD CONSTRAINT
            // attaches it; only a name other than the desired one is changed first.
            if live.name != own.name {
                steps.push(rename_key(table, &live.name, &own.name));
            }
            needs.push(Resource::Constraint(table.clone(), own.name.clone()));
            continue;
        }
        let index = match reusable_for_key(partition, constraint) {
            Some(existing) => existing.name.clone(),
            None => {
                let name = own.index.clone()?;
                let definition = own.index_definition.clone()?;
                let mut build = super::indexes::build_concurrently(table, &name, &definition)
                    .uses(columns_of(table, &constraint.columns))
                    .creates([relation(&table.schema, &name)]);
                if ctx.has_rows(table) {
                    build = build.hazard(
                        HazardKind::MayFail,
                        format!("fails if {table} holds duplicate keys"),
                    );
                }
                steps.push(build);
                name
            }
        };
        let mut uses = vec![relation(&table.schema, &index)];
        if constraint.kind == ConstraintKind::PrimaryKey {
            uses.extend(
                constraint
                    .columns
                    .iter()
                    .map(|c| Resource::NotNull(table.clone(), c.clone())),
            );
        }
        steps.push(
            Step::new(
                Phase::Validate,
                format!(
                    "make index {} the {kind} constraint {} of partition {table}",
                    quote_ident(&index),
                    quote_ident(&own.name)
                ),
                ddl::tables::add_constraint_using_index(table, &own.name, kind, &index, ""),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses(uses)
            .creates([Resource::Constraint(table.clone(), own.name.clone())]),
        );
        needs.push(Resource::Constraint(table.clone(), own.name.clone()));
    }
    let mut step = parent_key_step(parent, constraint, uses, needs);
    if !relinked.is_empty() {
        step = relink_in(ctx, step, parent, &relinked);
    }
    steps.push(step);
    Some(steps)
}

/// The parent's key step, followed in its transaction by the relink of `relinked` (see
/// `partition_relink`).
fn relink_in(ctx: &Context, mut step: Step, parent: &QualifiedName, relinked: &[&Table]) -> Step {
    let mut sql = vec![step.sql.clone()];
    for partition in relinked {
        sql.extend(partition_relink::statements(ctx, parent, partition));
    }
    step.sql = sql.join("\n");
    step.description
        .push_str(" (its partitions attached again to inherit their NOT NULL constraints)");
    let mut locked = vec![parent.to_string()];
    locked.extend(relinked.iter().map(|t| t.name.to_string()));
    step.lock_target = Some(locked.join(", "));
    for why in partition_relink::scans(ctx, parent, relinked, &[]) {
        step = step.hazard(HazardKind::LongLock, why);
    }
    step
}

/// Every partition holds its part already: the parent's statement attaches them (catalog
/// only) instead of building.
fn parent_key_step(
    parent: &QualifiedName,
    constraint: &Constraint,
    uses: &[Resource],
    needs: Vec<Resource>,
) -> Step {
    Step::new(
        Phase::Validate,
        format!(
            "add constraint {} to {parent} over its partitions' keys",
            quote_ident(&constraint.name)
        ),
        crate::sql::ddl::add_constraint(parent, constraint),
    )
    .lock(LockMode::AccessExclusive, parent)
    .uses(uses.to_vec())
    .uses(needs)
    .creates([Resource::Constraint(
        parent.clone(),
        constraint.name.clone(),
    )])
    .creates(
        constraint
            .index
            .iter()
            .map(|index| relation(&parent.schema, index)),
    )
}

/// A live partition's standalone index that becomes its part of a key added to its parent
/// (see [`add_key`]): not dropped.
pub fn taken_by_parent_key(
    ctx: &Context,
    changes: &[Change],
    table: &QualifiedName,
    index: &Index,
) -> bool {
    parent_adds_key(ctx, changes, table, |partition, constraint| {
        reusable_for_key(partition, constraint).is_some_and(|r| r.name == index.name)
    })
}

/// A live partition's own key that a key added to its parent attaches (see [`add_key`]): not
/// dropped, it becomes the partition's part of the parent's key.
pub fn key_taken_by_parent(
    ctx: &Context,
    changes: &[Change],
    table: &QualifiedName,
    key: &Constraint,
) -> bool {
    parent_adds_key(ctx, changes, table, |partition, constraint| {
        own_key(partition, constraint).is_some_and(|k| k.name == key.name)
    })
}

/// Whether `changes` add a key to the parent of the live partition `table` for which `takes`
/// (given the partition and the parent's new key) holds.
fn parent_adds_key(
    ctx: &Context,
    changes: &[Change],
    table: &QualifiedName,
    takes: impl Fn(&Table, &Constraint) -> bool,
) -> bool {
    let Some(partition) = ctx.live_table(table) else {
        return false;
    };
    let Some(parent) = partition.partition_of.as_ref().map(|p| &p.parent) else {
        return false;
    };
    changes.iter().any(|c| match c {
        Change::AddConstraint {
            table: t,
            constraint,
        } => t == parent && takes(partition, constraint),
        _ => false,
    })
}
