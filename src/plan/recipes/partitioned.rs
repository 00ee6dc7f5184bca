//! Indexes of partitioned tables, the way PostgreSQL documents for building them without
//! blocking writes (`CREATE INDEX CONCURRENTLY` is refused on a partitioned table): the
//! parent's index is created `ON ONLY` the parent (catalog only, invalid), each partition's
//! index is built concurrently, or an existing one that matches is reused, and attached with
//! `ALTER INDEX ... ATTACH PARTITION`; the parent's index turns valid with the last one.

use crate::diff::Change;
use crate::model::{Index, QualifiedName, Table, TableKind};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, LockMode, Phase, Step, TableWork};
use crate::sql::quote_ident;

use super::indexes::index_sql;

/// The live partitions of `parent` that stay partitions of it in the desired schema.
fn kept_partitions<'a>(ctx: &'a Context, parent: &QualifiedName) -> Vec<&'a Table> {
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
    let definition = format!(
        "CREATE {}INDEX x ON {partition} {rest}",
        if index.unique { "UNIQUE " } else { "" }
    );
    Some(index_sql(&definition, name, concurrently))
}

/// Steps that add `index` to the live partitioned table `parent`; `None` when a partition's
/// part cannot be named (then the caller builds the index on the parent in one statement).
pub fn add_index(
    ctx: &Context,
    parent: &QualifiedName,
    index: &Index,
    uses: Vec<Resource>,
) -> Option<Vec<Step>> {
    let parent_index = QualifiedName::new(parent.schema.clone(), index.name.clone());
    let mut on_only = index_sql(&index.definition, &index.name, false);
    on_only = on_only.replacen(&format!(" ON {parent} "), &format!(" ON ONLY {parent} "), 1);
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
    for partition in kept_partitions(ctx, parent) {
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
                format!(
                    "ALTER INDEX {parent_index} ATTACH PARTITION {};",
                    QualifiedName::new(partition.name.schema.clone(), target.clone())
                ),
            )
            .lock(LockMode::ShareUpdateExclusive, &partition.name)
            .uses([
                relation(&parent.schema, &index.name),
                relation(&partition.name.schema, &target),
            ]),
        );
        steps.extend(part);
    }
    Some(steps)
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
            format!(
                "ALTER INDEX {} RENAME TO {};",
                QualifiedName::new(table.schema.clone(), existing.name.clone()),
                quote_ident(target)
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
