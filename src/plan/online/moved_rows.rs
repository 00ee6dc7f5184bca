//! Rows moved into a new table (`-- zdm:backfill-from SELECT ... FROM source`), online:
//!
//! - expand: the table is created with its primary key (the copy upserts by it) but its
//!   CHECKs and foreign keys added `NOT VALID`; a row trigger on the source keeps it in step
//!   with the old application's inserts, updates and deletes;
//! - backfill: the existing source rows are copied in keyset batches (`apply::backfill`);
//! - validate: the constraints are validated, and the table is compared with its query
//!   (counts and checksum, first differing keys);
//! - contract: the trigger goes, before the source columns it reads (when the files drop them,
//!   their own contract steps do).
//!
//! Planned from the transform and the live model, so that each re-plan between phases
//! carries on: the new table missing means expand has not run; the table there with its
//! trigger means backfill, check and contract are left.

use crate::diff::Change;
use crate::model::{ConstraintKind, Model, QualifiedName, Table};
use crate::plan::resource::Resource;
use crate::plan::{Backfill, Context, LockMode, Phase, Step, TableWork, Transform};
use crate::sql::ddl::moved_rows::{RowCopy, RowSource};
use crate::sql::{ddl, quote_ident};

use super::sync::{trigger_exists, SyncTrigger};
use crate::plan::recipes::{constraints, helper_name, tables};

/// The trigger on the source (and its function in schema `zdm`) that keeps `target` in step.
pub(super) fn trigger_names(target: &QualifiedName) -> SyncTrigger {
    let base = format!("{}_{}", target.schema, target.name);
    SyncTrigger {
        function: QualifiedName::new("zdm", helper_name("rows", &base)),
        trigger: helper_name("rows", &base),
    }
}

/// The second trigger of the pair (BEFORE UPDATE OR DELETE, same function).
fn before_trigger(target: &QualifiedName) -> String {
    helper_name("rowsb", &format!("{}_{}", target.schema, target.name))
}

/// The BEFORE trigger's name once the copy has been checked: the check leaves no other trace
/// in the schema, and a re-plan (for contract) must know that it passed.
pub(super) fn checked_trigger(target: &QualifiedName) -> String {
    helper_name("rowsv", &format!("{}_{}", target.schema, target.name))
}

/// Whether the live source table still has the trigger that fills `target`.
pub fn sync_trigger_exists(live: &Model, target: &QualifiedName, rows: &RowSource) -> bool {
    trigger_exists(live, &rows.source, &trigger_names(target).trigger)
}

fn moved<'a>(ctx: &'a Context) -> impl Iterator<Item = (&'a QualifiedName, &'a RowSource)> {
    ctx.options.transforms.iter().filter_map(|t| match t {
        Transform::BackfillFrom { table, rows } => Some((table, rows)),
        _ => None,
    })
}

/// The new table's creation belongs to this recipe (it holds back its constraints).
pub fn claims(ctx: &Context, change: &Change) -> bool {
    match change {
        Change::CreateTable { table } => moved(ctx).any(|(t, _)| *t == table.name),
        _ => false,
    }
}

pub fn steps(ctx: &Context) -> Vec<Step> {
    let mut steps = Vec::new();
    for (target, rows) in moved(ctx) {
        let (Some(desired), Some(source)) =
            (ctx.desired_table(target), ctx.live_table(&rows.source))
        else {
            continue;
        };
        let copy = RowCopy {
            target: target.clone(),
            target_key: desired.primary_key_columns(),
            rows: rows.clone(),
        };
        let names = trigger_names(target);
        let reads: Vec<String> = rows
            .reads
            .iter()
            .filter(|c| source.column(c).is_some())
            .cloned()
            .collect();
        if ctx.live_table(target).is_none() {
            steps.extend(create(ctx, desired));
            steps.push(install_trigger(&copy, &names, &reads));
        } else if !trigger_exists(ctx.from, &rows.source, &names.trigger) {
            continue;
        }
        steps.push(copy_rows(&copy, source));
        if !trigger_exists(ctx.from, &rows.source, &checked_trigger(target)) {
            steps.push(compare(&copy));
        }
        let mut drop = names.drop_step(
            &rows.source,
            format!(
                "drop the triggers on {} that keep {target} in step",
                rows.source
            ),
            &reads,
        );
        drop.sql = [
            ddl::sync::drop_trigger(&before_trigger(target), &rows.source),
            ddl::sync::drop_trigger(&checked_trigger(target), &rows.source),
            drop.sql,
        ]
        .join("\n");
        steps.push(drop);
    }
    steps
}

/// The table without its CHECKs and foreign keys, then those `NOT VALID` (expand) and
/// validated (validate): the copy and the trigger write rows the constraints check one by one,
/// and what the old application wrote before is checked by `VALIDATE` without a long lock.
fn create(ctx: &Context, desired: &Table) -> Vec<Step> {
    let held_back =
        |kind: ConstraintKind| matches!(kind, ConstraintKind::Check | ConstraintKind::ForeignKey);
    let mut bare = desired.clone();
    bare.constraints
        .retain(|_, c| c.inherited || !held_back(c.kind));
    let mut steps = tables::create(ctx, &bare);
    for constraint in desired
        .constraints
        .values()
        .filter(|c| !c.inherited && held_back(c.kind))
    {
        let mut not_valid = constraint.clone();
        not_valid.validated = false;
        steps.push(constraints::add_to_new_table(
            ctx,
            &desired.name,
            &not_valid,
        ));
        if constraint.validated {
            steps.extend(constraints::validate(&desired.name, constraint));
        }
    }
    steps
}

pub(super) fn install_trigger(copy: &RowCopy, names: &SyncTrigger, reads: &[String]) -> Step {
    let source = &copy.rows.source;
    let mut uses = vec![
        Resource::Relation(source.clone()),
        Resource::Relation(copy.target.clone()),
    ];
    uses.extend(
        copy.rows
            .columns
            .iter()
            .map(|c| Resource::Column(copy.target.clone(), c.clone())),
    );
    uses.extend(
        reads
            .iter()
            .map(|c| Resource::Column(source.clone(), c.clone())),
    );
    Step::new(
        Phase::Expand,
        format!(
            "keep {} in step with {source} while the old application writes",
            copy.target
        ),
        format!(
            "{}\nDROP TRIGGER IF EXISTS {before} ON {source};\n\
             DROP TRIGGER IF EXISTS {checked} ON {source};\n\
             CREATE TRIGGER {before} BEFORE UPDATE OR DELETE ON {source} FOR EACH ROW EXECUTE FUNCTION {}();",
            names.install_sql_on(source, &copy.trigger_body(), "AFTER INSERT OR UPDATE"),
            names.function,
            before = quote_ident(&before_trigger(&copy.target)),
            checked = quote_ident(&checked_trigger(&copy.target)),
        ),
    )
    .lock(LockMode::ShareRowExclusive, source)
    .uses(uses)
}

pub(super) fn copy_rows(copy: &RowCopy, source: &Table) -> Step {
    let key = source.primary_key_columns();
    let key_types: Vec<String> = key
        .iter()
        .map(|k| {
            source
                .column(k)
                .map_or_else(|| "text".into(), |c| c.data_type.clone())
        })
        .collect();
    let mut step = Step::new(
        Phase::Backfill,
        format!(
            "copy the rows of {} into {} in batches",
            copy.rows.source, copy.target
        ),
        copy.batch_sql(&key, "", 1000),
    )
    .lock(LockMode::RowExclusive, &copy.target)
    .work(TableWork::Scan)
    .uses([Resource::Relation(copy.target.clone())]);
    step.backfill = Some(Backfill {
        table: copy.rows.source.clone(),
        column: copy.target.to_string(),
        expression: copy.rows.query.clone(),
        key,
        key_types,
        pending_only_where: None,
        rows: Some(copy.clone()),
    });
    step
}

/// The check, and on success the BEFORE trigger renamed to say so (a catalog update under a
/// short ACCESS EXCLUSIVE at the end of the scan, retried on the lock timeout like any other).
pub(super) fn compare(copy: &RowCopy) -> Step {
    let source = &copy.rows.source;
    Step::new(
        Phase::Validate,
        format!(
            "check that {} holds exactly the rows of its query (counts, checksum)",
            copy.target
        ),
        format!(
            "{}\n{}",
            copy.check_sql(),
            ddl::triggers::rename_if_exists(
                source,
                &before_trigger(&copy.target),
                &checked_trigger(&copy.target)
            ),
        ),
    )
    .lock(LockMode::AccessExclusive, source)
    .work(TableWork::Scan)
    .uses([Resource::Relation(copy.target.clone())])
}
