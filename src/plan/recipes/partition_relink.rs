//! PostgreSQL 18 keeps a column's NOT NULL as a constraint with an inherited flag, and a
//! partition's own PRIMARY KEY made `USING INDEX` (the online way, see
//! `partitioned::add_key` and `moved_keys`) marks the partition's NOT NULL constraints local,
//! where a fresh build has them inherited only. No `ALTER` clears that flag, and an inherited
//! constraint cannot be dropped or renamed; `ATTACH PARTITION` does clear it. So in the very
//! transaction that adds the parent's key (ACCESS EXCLUSIVE on the parent: no one sees the
//! partition gone), each such partition is detached, its NOT NULL constraints given the
//! desired names while it stands alone, and attached again. A `CHECK` of its bound, added
//! `NOT VALID` and validated beforehand under SHARE UPDATE EXCLUSIVE, spares `ATTACH` its
//! scan; it is dropped in the same transaction.

use crate::diff::Change;
use crate::model::{Column, Constraint, ConstraintKind, QualifiedName, Table};
use crate::plan::resource::Resource;
use crate::plan::{Context, LockMode, Phase, Step, TableWork};
use crate::sql::ddl::{partitions, tables};
use crate::sql::quote_ident;

use super::helper_name;

/// NOT NULL constraints with an inherited flag exist since PostgreSQL 18.
const NOT_NULL_CONSTRAINTS_SINCE: i32 = 180_000;

/// Whether the partitions given their own part of the key `constraint` must be relinked.
pub fn needed(ctx: &Context, constraint: &Constraint) -> bool {
    constraint.kind == ConstraintKind::PrimaryKey
        && ctx.from.server_version >= NOT_NULL_CONSTRAINTS_SINCE
}

/// The helper check proving `partition`'s bound.
fn check_name(partition: &QualifiedName) -> String {
    helper_name("pb", &partition.name)
}

fn check(partition: &QualifiedName) -> Resource {
    Resource::Constraint(partition.clone(), check_name(partition))
}

/// The steps before the key's transaction: the bound check added `NOT VALID`, then
/// validated. Either is left out when an interrupted run got that far.
pub fn prepare(partition: &Table) -> Vec<Step> {
    let table = &partition.name;
    let name = check_name(table);
    let left = partition.constraints.get(&name);
    let mut steps = Vec::new();
    if left.is_none() {
        steps.push(
            Step::new(
                Phase::Validate,
                format!(
                    "add helper check {} (the partition bound of {table}) without validating",
                    quote_ident(&name)
                ),
                partitions::add_bound_check_not_valid(table, &name),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses([Resource::Relation(table.clone())])
            .creates([check(table)]),
        );
    }
    if !left.is_some_and(|c| c.validated) {
        steps.push(
            Step::new(
                Phase::Validate,
                format!("validate helper check {}", quote_ident(&name)),
                tables::validate_constraint(table, &name),
            )
            .lock(LockMode::ShareUpdateExclusive, table)
            .work(TableWork::Scan)
            .uses([check(table)]),
        );
    }
    steps
}

/// The statements for the key's transaction, after the parent's key: detach, rename the NOT
/// NULL constraints the desired side names otherwise, attach, drop the helper check.
pub fn statements(ctx: &Context, parent: &QualifiedName, partition: &Table) -> Vec<String> {
    let table = &partition.name;
    let bound = partition
        .partition_of
        .as_ref()
        .map(|p| p.bound.as_str())
        .unwrap_or_default();
    // Every NOT NULL constraint the desired side names, not only those named otherwise live:
    // the copy a plan is rehearsed on may have other names than the live database (a
    // partition with a key of its own is created with it, and its constraints get the
    // partition's names), and a name already right is left alone when the step runs.
    let names: Vec<(String, String)> = ctx
        .desired_table(table)
        .map(|desired| {
            desired
                .columns
                .iter()
                .filter(|c| c.not_null)
                .filter_map(|c| Some((c.name.clone(), c.not_null_name.clone()?)))
                .collect()
        })
        .unwrap_or_default();
    let mut sql = partitions::detach_and_attach(parent, table, bound, &names);
    sql.push(tables::drop_constraint(table, &check_name(table)));
    sql
}

/// The resource the key's transaction needs for `partition`: its validated helper check.
pub fn needs(partition: &QualifiedName) -> Resource {
    check(partition)
}

/// A NOT NULL constraint named `from` live and `to` on the desired side.
struct Rename {
    from: String,
    to: String,
}

/// The live NOT NULL constraint names of `partition` that the desired side names otherwise.
fn renames(ctx: &Context, partition: &Table) -> Vec<Rename> {
    let Some(desired) = ctx.desired_table(&partition.name) else {
        return Vec::new();
    };
    partition
        .columns
        .iter()
        .filter_map(|live| {
            let to = desired.column(&live.name)?.not_null_name.clone()?;
            let from = live.not_null_name.clone()?;
            (from != to).then_some(Rename { from, to })
        })
        .collect()
}

/// A helper check left by an interrupted run on a partition whose parent still gets a key:
/// the key's transaction drops it.
pub fn check_awaits_relink(
    ctx: &Context,
    changes: &[Change],
    table: &QualifiedName,
    constraint: &Constraint,
) -> bool {
    constraint.name == check_name(table)
        && (parent_gets_relinking_key(ctx, changes, table)
            || changes.iter().any(|c| match c {
                Change::AlterColumn { table: t, from, to } => {
                    t == table && !for_column(ctx, table, from, to).is_empty()
                }
                _ => false,
            }))
}

/// What a relink may scan under its lock, as hazard messages: attaching a partition scans
/// the parent's default partition for rows of its bound (no constraint of the default
/// partition proves there are none), and detaching one checks the rows of every table whose
/// foreign key references the parent (but those in `dropped`, gone by then).
pub fn scans(
    ctx: &Context,
    parent: &QualifiedName,
    relinked: &[&Table],
    dropped: &[(QualifiedName, String)],
) -> Vec<String> {
    let mut out = Vec::new();
    let default = super::partitioned::kept_partitions(ctx, parent)
        .into_iter()
        .find(|t| {
            t.partition_of
                .as_ref()
                .is_some_and(|p| p.bound == "DEFAULT")
        });
    if let Some(default) = default {
        if relinked.iter().any(|t| t.name != default.name) && ctx.has_rows(&default.name) {
            out.push(format!(
                "attaching the partitions of {parent} again scans its default partition {} under the lock",
                default.name
            ));
        }
    }
    for table in ctx.from.tables.values().filter(|t| ctx.has_rows(&t.name)) {
        let references = table.constraints.values().any(|c| {
            !c.inherited
                && !dropped.contains(&(table.name.clone(), c.name.clone()))
                && c.foreign_key
                    .as_ref()
                    .is_some_and(|fk| &fk.referenced_table == parent)
        });
        if references {
            out.push(format!(
                "detaching the partitions of {parent} checks the rows of {} that reference it, under the lock",
                table.name
            ));
        }
    }
    out
}

/// A kept partition's NOT NULL constraints that only need other names (PostgreSQL 18 keeps
/// the names of a partition's own constraints when it is attached; `PARTITION OF` gives it
/// the parent's): relinked in one transaction of their own, renamed while detached. Planned
/// for the partition's first column so named (one relink covers all of them).
pub fn for_column(ctx: &Context, table: &QualifiedName, from: &Column, to: &Column) -> Vec<Step> {
    let Some(partition) = ctx.live_table(table) else {
        return Vec::new();
    };
    let Some(parent) = partition.partition_of.as_ref().map(|p| &p.parent) else {
        return Vec::new();
    };
    let renames = renames(ctx, partition);
    let first = renames.first().map(|r| &r.from);
    if ctx.from.server_version < NOT_NULL_CONSTRAINTS_SINCE
        || !(from.inherited && to.inherited)
        || first.is_none()
        || first != from.not_null_name.as_ref()
    {
        return Vec::new();
    }
    let mut steps = prepare(partition);
    let mut step = Step::new(
        Phase::Validate,
        format!(
            "give the NOT NULL constraints of partition {table} the desired names ({}), detaching and attaching it again",
            renames
                .iter()
                .map(|r| format!("{} to {}", quote_ident(&r.from), quote_ident(&r.to)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        statements(ctx, parent, partition).join("\n"),
    )
    .lock(LockMode::AccessExclusive, format!("{parent}, {table}"))
    .uses([needs(table), Resource::Relation(parent.clone())])
    .creates(
        renames
            .iter()
            .map(|r| Resource::Constraint(table.clone(), r.to.clone())),
    );
    for why in scans(ctx, parent, &[partition], &[]) {
        step = step.hazard(crate::plan::HazardKind::LongLock, why);
    }
    steps.push(step);
    steps
}

/// An inherited NOT NULL constraint of a partition to be renamed (see [`for_column`]) whose
/// parent gets a key that relinks the partition anyway (see `partitioned::add_key`).
pub fn renamed_by_parent_key(
    ctx: &Context,
    changes: &[Change],
    table: &QualifiedName,
    from: &Column,
    to: &Column,
) -> bool {
    let mut renamed = from.clone();
    renamed.not_null_name = to.not_null_name.clone();
    renamed == *to
        && from.not_null_name != to.not_null_name
        && parent_gets_relinking_key(ctx, changes, table)
}

/// Whether `changes` add to the parent of the live partition `table` a key whose
/// transaction relinks its partitions.
fn parent_gets_relinking_key(ctx: &Context, changes: &[Change], table: &QualifiedName) -> bool {
    let Some(parent) = ctx
        .live_table(table)
        .and_then(|t| t.partition_of.as_ref())
        .map(|p| &p.parent)
    else {
        return false;
    };
    changes.iter().any(|c| match c {
        Change::AddConstraint {
            table: t,
            constraint,
        } => t == parent && needed(ctx, constraint),
        _ => false,
    })
}

/// A partition the plan creates (`PARTITION OF`, which gives its NOT NULL constraints the
/// parent's names) whose desired NOT NULL constraints have names of their own (the files
/// create it alone and attach it, as `pg_dump` does): detached, renamed and attached again
/// right after its creation, while it is empty.
pub fn for_new_partition(ctx: &Context, table: &Table) -> Option<Step> {
    let parent = &table.partition_of.as_ref()?.parent;
    let from_parent = ctx.desired_table(parent)?;
    let names: Vec<(String, String)> = table
        .columns
        .iter()
        .filter(|c| c.not_null)
        .filter_map(|c| {
            let own = c.not_null_name.clone()?;
            let parents = from_parent.column(&c.name)?.not_null_name.as_ref()?;
            (own != *parents).then(|| (c.name.clone(), own))
        })
        .collect();
    if ctx.from.server_version < NOT_NULL_CONSTRAINTS_SINCE || names.is_empty() {
        return None;
    }
    let bound = &table.partition_of.as_ref()?.bound;
    let partition = &table.name;
    Some(
        Step::new(
            Phase::Expand,
            format!(
                "give the NOT NULL constraints of new partition {partition} their own names ({}), detaching and attaching it again",
                names
                    .iter()
                    .map(|(_, name)| quote_ident(name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            partitions::detach_and_attach(parent, partition, bound, &names).join("\n"),
        )
        .lock(LockMode::AccessExclusive, format!("{parent}, {partition}"))
        .uses([
            Resource::Relation(partition.clone()),
            Resource::Relation(parent.clone()),
        ])
        .creates(
            names
                .iter()
                .map(|(_, name)| Resource::Constraint(partition.clone(), name.clone())),
        ),
    )
}
