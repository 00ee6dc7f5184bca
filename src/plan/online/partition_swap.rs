//! A table turned partitioned (same columns, `PARTITION BY` and partitions in the files),
//! online instead of re-created under a long lock (`recreate`):
//!
//! - expand: a partitioned copy under a temporary name (its partitions under their final
//!   names: nothing has them yet; its parent-level indexes and key constraints under temporary
//!   names, since index names are unique in a schema) and the moved-rows trigger pair on the
//!   table, which keeps the copy in step with the old application (`moved_rows`);
//! - backfill: the rows copied in keyset batches (`apply::backfill`, resumable);
//! - validate: counts and checksum compared (`moved_rows::compare`), then one short
//!   transaction under the lock timeout renames the table aside and the copy in (with its
//!   index and key names), hands the owned sequences over, and re-creates the views that
//!   read the table (the cascade wraps the step: it drops the table's name);
//! - contract: the old table, renamed aside, is dropped with its triggers and their function.
//!
//! Planned from the live model: the copy there means expand has run, the old table aside
//! means the swap has. Cases left to the re-creation: no rows, columns that differ, no primary
//! key, identity columns, foreign keys to or from the table, a live table already partitioned
//! or with inheritance.

use crate::diff::Change;
use crate::model::{ConstraintKind, Model, QualifiedName, Table, TableKind};
use crate::plan::resource::Resource;
use crate::plan::{LockMode, Phase, Step};
use crate::sql::ddl;
use crate::sql::ddl::moved_rows::{RowCopy, RowSource};
use crate::sql::{quote_ident, quote_ident_list};

use super::moved_rows;
use super::sync::trigger_exists;
use crate::plan::recipes::helper_name;
use crate::plan::Context;

/// The partitioned copy's temporary name.
pub fn copy_name(root: &QualifiedName) -> QualifiedName {
    QualifiedName::new(&root.schema, helper_name("pc", &root.name))
}

/// The old table's name once the copy has taken its place.
pub fn aside_name(root: &QualifiedName) -> QualifiedName {
    QualifiedName::new(&root.schema, helper_name("pco", &root.name))
}

/// Temporary names for the copy's parent-level index and key names (and the old table's, aside).
fn temp(kind: &str, name: &str) -> String {
    helper_name(kind, name)
}

/// The desired partitioned roots converted online by this plan.
pub fn roots(ctx: &Context, changes: &[Change]) -> Vec<QualifiedName> {
    ctx.to
        .tables
        .values()
        .filter(|t| t.kind == TableKind::Partitioned && t.partition_of.is_none())
        .filter(|t| {
            let live = |n: &QualifiedName| ctx.live_table(n).is_some();
            let swapped = live(&aside_name(&t.name))
                && ctx
                    .live_table(&t.name)
                    .is_some_and(|l| l.kind == TableKind::Partitioned);
            swapped || live(&copy_name(&t.name)) || eligible(ctx, changes, t)
        })
        .map(|t| t.name.clone())
        .collect()
}

/// Whether the re-creation of `desired` can be done online by a copy and a swap.
fn eligible(ctx: &Context, changes: &[Change], desired: &Table) -> bool {
    let recreated = changes
        .iter()
        .any(|c| matches!(c, Change::RecreateTable { from, .. } if from.name == desired.name));
    let Some(live) = ctx.live_table(&desired.name) else {
        return false;
    };
    let same = |a: &Table, b: &Table| {
        a.columns.len() == b.columns.len()
            && a.columns.iter().zip(&b.columns).all(|(x, y)| {
                x.name == y.name
                    && x.data_type == y.data_type
                    && x.not_null == y.not_null
                    && x.default == y.default
                    && x.generated == y.generated
                    && x.collation == y.collation
                    && x.identity.is_none()
                    && y.identity.is_none()
            })
    };
    let foreign_keys = |m: &Model| {
        m.tables.values().any(|t| {
            t.constraints.values().any(|c| {
                c.foreign_key
                    .as_ref()
                    .is_some_and(|k| t.name == desired.name || k.referenced_table == desired.name)
            })
        })
    };
    let children = ctx.from.tables.values().any(|t| {
        t.partition_of
            .as_ref()
            .is_some_and(|p| p.parent == desired.name)
            || t.inherits.contains(&desired.name)
    });
    recreated
        && live.kind == TableKind::Regular
        && live.partition_of.is_none()
        && live.inherits.is_empty()
        && !children
        && live.stats.has_rows
        && same(live, desired)
        && !desired.primary_key_columns().is_empty()
        && !live.primary_key_columns().is_empty()
        && !foreign_keys(ctx.from)
        && !foreign_keys(ctx.to)
        && desired
            .indexes
            .values()
            .all(|i| retarget_index(i, desired, "x").is_some())
}

/// Tables whose changes belong to a conversion of `root`: the table, its copy, the old table
/// aside, and the partitions on either side.
fn family(ctx: &Context, root: &QualifiedName) -> Vec<QualifiedName> {
    let mut out = vec![root.clone(), copy_name(root), aside_name(root)];
    for model in [ctx.from, ctx.to] {
        let mut i = 0;
        while i < out.len() {
            let parent = out[i].clone();
            for t in model.tables.values() {
                let child = t.partition_of.as_ref().is_some_and(|p| p.parent == parent);
                if child && !out.contains(&t.name) {
                    out.push(t.name.clone());
                }
            }
            i += 1;
        }
    }
    out
}

/// Whether a change is carried out by one of `roots`' conversions.
pub fn claims(ctx: &Context, roots: &[QualifiedName], change: &Change) -> bool {
    let table = match change {
        Change::CreateTable { table } | Change::DropTable { table } => &table.name,
        Change::RecreateTable { from, .. } => &from.name,
        Change::AddIndex { table, .. }
        | Change::DropIndex { table, .. }
        | Change::ReplaceIndex { table, .. }
        | Change::AddConstraint { table, .. }
        | Change::DropConstraint { table, .. }
        | Change::ValidateConstraint { table, .. }
        | Change::AlterColumn { table, .. }
        | Change::SetReplicaIdentity { table, .. } => table,
        _ => return false,
    };
    roots.iter().any(|r| family(ctx, r).contains(table))
}

pub fn steps(ctx: &Context, roots: &[QualifiedName]) -> Vec<Step> {
    roots.iter().flat_map(|r| root_steps(ctx, r)).collect()
}

fn root_steps(ctx: &Context, root: &QualifiedName) -> Vec<Step> {
    let Some(desired) = ctx.desired_table(root) else {
        return Vec::new();
    };
    let copy = copy_name(root);
    let aside = aside_name(root);
    if ctx.live_table(&aside).is_some() {
        return vec![drop_aside(root)];
    }
    let Some(live) = ctx.live_table(root) else {
        return Vec::new();
    };
    let columns: Vec<String> = desired.columns.iter().map(|c| c.name.clone()).collect();
    let rows = RowCopy {
        target: copy.clone(),
        target_key: desired.primary_key_columns(),
        rows: RowSource {
            query: ddl::tables::select_columns(root, &columns),
            source: root.clone(),
            alias: root.name.clone(),
            select_list: quote_ident_list(&columns),
            where_clause: None,
            columns: columns.clone(),
            reads: columns.clone(),
            functions: Vec::new(),
        },
    };
    let names = moved_rows::trigger_names(&copy);
    let mut steps = Vec::new();
    if ctx.live_table(&copy).is_none() {
        steps.push(create_copy(ctx, desired));
        steps.push(moved_rows::install_trigger(&rows, &names, &columns));
    } else if !trigger_exists(ctx.from, root, &names.trigger) {
        // The trigger is gone (dropped by hand?): the copy cannot be trusted to be in step.
        return Vec::new();
    }
    steps.push(moved_rows::copy_rows(&rows, live));
    if !trigger_exists(ctx.from, root, &moved_rows::checked_trigger(&copy)) {
        steps.push(moved_rows::compare(&rows));
    }
    steps.push(swap(ctx, live, desired));
    steps.push(drop_aside(root));
    steps
}

/// A `CREATE INDEX` of `table`'s index put on the copy under `name`, or `None` when the
/// definition is not in the shape `pg_get_indexdef` gives. `ON ONLY` (a partitioned parent's
/// index) is left out so that the index is built on every partition of the copy too.
fn retarget_index(index: &crate::model::Index, table: &Table, name: &str) -> Option<String> {
    retarget(&index.definition, &index.name, &table.name, name)
}

fn retarget(def: &str, index: &str, table: &QualifiedName, name: &str) -> Option<String> {
    let head = format!("INDEX {} ON ", quote_ident(index));
    let (start, rest) = def.split_once(&head)?;
    let only = format!("ONLY {table} ");
    let plain = format!("{table} ");
    let tail = rest
        .strip_prefix(&only)
        .or_else(|| rest.strip_prefix(&plain))?;
    Some(format!(
        "{start}INDEX {} ON {} {tail};",
        quote_ident(name),
        copy_name(table)
    ))
}

/// Whether a constraint owns an index (its name is then taken in the schema).
fn owns_index(kind: ConstraintKind) -> bool {
    matches!(
        kind,
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion
    )
}

fn create_copy(ctx: &Context, desired: &Table) -> Step {
    let copy = copy_name(&desired.name);
    let mut parent = desired.clone();
    parent.name = copy.clone();
    parent.comment = None;
    parent.constraints = desired
        .constraints
        .values()
        .map(|c| {
            let mut c = c.clone();
            if owns_index(c.kind) {
                c.name = temp("pc", &c.name);
            }
            (c.name.clone(), c)
        })
        .collect();
    let mut sql = vec![ddl::create_table(&parent, false)];
    for index in desired.indexes.values() {
        sql.extend(retarget_index(index, desired, &temp("pc", &index.name)));
    }
    let mut creates = vec![Resource::Relation(copy.clone())];
    for name in family(ctx, &desired.name).iter().skip(3) {
        let Some(partition) = ctx.desired_table(name) else {
            continue;
        };
        let mut partition = partition.clone();
        if let Some(of) = &mut partition.partition_of {
            if of.parent == desired.name {
                of.parent = copy.clone();
            }
        }
        sql.push(ddl::create_table(&partition, false));
        sql.extend(partition.indexes.values().map(ddl::create_index));
        creates.push(Resource::Relation(partition.name.clone()));
    }
    Step::new(
        Phase::Expand,
        format!(
            "create {copy}, the partitioned copy of {}, with its partitions",
            desired.name
        ),
        sql.join("\n"),
    )
    .creates(creates)
    .uses([Resource::Relation(desired.name.clone())])
}

/// One short transaction: the old table and its index names aside, the copy and its names in,
/// sequences handed over. Views reading the table are re-created around it by the cascade.
fn swap(ctx: &Context, live: &Table, desired: &Table) -> Step {
    let root = &desired.name;
    let copy = copy_name(root);
    let aside = aside_name(root);
    let index = |name: &str| QualifiedName::new(&root.schema, name);
    let mut sql = vec![
        ddl::tables::lock_exclusive(&[root, &copy]),
        ddl::tables::rename(root, &aside.name),
    ];
    for c in live.constraints.values().filter(|c| owns_index(c.kind)) {
        sql.push(ddl::tables::rename_constraint(
            &aside,
            &c.name,
            &temp("pco", &c.name),
        ));
    }
    for i in live.indexes.values() {
        sql.push(ddl::indexes::rename(&index(&i.name), &temp("pco", &i.name)));
    }
    sql.push(ddl::tables::rename(&copy, &root.name));
    for c in desired.constraints.values().filter(|c| owns_index(c.kind)) {
        sql.push(ddl::tables::rename_constraint(
            root,
            &temp("pc", &c.name),
            &c.name,
        ));
    }
    for i in desired.indexes.values() {
        sql.push(ddl::indexes::rename(&index(&temp("pc", &i.name)), &i.name));
    }
    for sequence in ctx.from.sequences.values() {
        if let Some(owner) = sequence.owned_by.as_ref().filter(|o| &o.table == root) {
            sql.push(ddl::sequences::owned_by(
                &sequence.name,
                root,
                &owner.column,
            ));
        }
    }
    Step::new(
        Phase::Validate,
        format!("swap the partitioned copy in for {root} (the old table kept as {aside})"),
        sql.join("\n"),
    )
    .lock(LockMode::AccessExclusive, root)
    .uses([Resource::Relation(copy)])
    .drops([Resource::Relation(root.clone())])
}

/// The old table, with the triggers that kept the copy in step, and their function.
fn drop_aside(root: &QualifiedName) -> Step {
    let aside = aside_name(root);
    let names = moved_rows::trigger_names(&copy_name(root));
    Step::new(
        Phase::Contract,
        format!("drop {aside}, the table {root} was before it was partitioned"),
        format!(
            "{}\n{}",
            ddl::tables::drop_if_exists(&aside),
            ddl::sync::drop_function(&names.function)
        ),
    )
    .lock(LockMode::AccessExclusive, &aside)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_is_put_on_the_copy_under_its_temporary_name_and_reaches_the_partitions() {
        let events = QualifiedName::new("public", "events");
        assert_eq!(
            retarget(
                "CREATE INDEX events_kind_idx ON ONLY public.events USING btree (kind)",
                "events_kind_idx",
                &events,
                "zdm_pc_events_kind_idx"
            )
            .as_deref(),
            Some("CREATE INDEX zdm_pc_events_kind_idx ON public.zdm_pc_events USING btree (kind);")
        );
        assert_eq!(
            retarget(
                "CREATE UNIQUE INDEX u ON public.events USING btree (kind, id)",
                "u",
                &events,
                "t"
            )
            .as_deref(),
            Some("CREATE UNIQUE INDEX t ON public.zdm_pc_events USING btree (kind, id);")
        );
        assert_eq!(
            retarget(
                "CREATE INDEX u ON public.other USING btree (a)",
                "u",
                &events,
                "t"
            ),
            None
        );
    }
}
