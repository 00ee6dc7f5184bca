//! The expand/contract machinery that spans object kinds: online renames and type changes,
//! sync triggers, NOT NULL through a helper check, backfills, rows and keys that move, a
//! table turned partitioned. Planned from the annotations (transforms) and the live model,
//! so that each re-plan between phases continues where the previous phase stopped; the
//! per-kind recipes (`plan/recipes`) call in here, not the other way round, except for the
//! per-kind pieces these recipes are built from (index builds, constraints, tables).

pub mod backfill;
pub mod moved_keys;
pub mod moved_rows;
pub mod not_null;
pub mod partition_swap;
pub mod renames;
pub mod retype;
pub mod sync;

use super::{Context, Step};
use crate::diff::Change;

/// Steps of the annotation-driven recipes (renames, online type changes, moved rows). The
/// changes they own are claimed in [`claims`].
pub fn transform_steps(ctx: &Context) -> Vec<Step> {
    let mut steps = renames::steps(ctx);
    steps.extend(retype::steps(ctx));
    steps.extend(moved_rows::steps(ctx));
    steps
}

/// Whether `change` belongs to a rename, an online type change or a row move under way (the
/// new column, the old one, the shadow column and its helper indexes and constraints): the
/// recipe finds its intermediate objects in the live model and carries on from there.
pub fn claims(ctx: &Context, changes: &[Change], change: &Change) -> bool {
    renames::claims(ctx, changes, change)
        || retype::claims(ctx, change)
        || moved_rows::claims(ctx, change)
}

/// The rest of a derived-column recipe whose expand already ran: the sync trigger is in the
/// live database, the change that created it is done, so no recipe above produces its
/// backfill (a nullable column no longer differs at all) or its removal.
pub fn leftover_sync_triggers(ctx: &Context, steps: &[Step]) -> Vec<Step> {
    let mut out = Vec::new();
    for transform in &ctx.options.transforms {
        let crate::plan::Transform::Backfill {
            table,
            column,
            expression,
        } = transform
        else {
            continue;
        };
        let names = sync::derived_trigger_names(table, column);
        let already = steps.iter().any(|s| {
            s.phase == crate::plan::Phase::Contract
                && s.op.drops_sync_function() == Some(&names.function)
        });
        if already || !sync::trigger_exists(ctx.from, table, &names.trigger) {
            continue;
        }
        let filled = steps.iter().any(|s| {
            s.backfill
                .as_ref()
                .is_some_and(|b| &b.table == table && &b.column == column)
        });
        let exists = ctx
            .live_table(table)
            .is_some_and(|t| t.column(column).is_some());
        if !filled && exists {
            let mut fill = backfill::backfill_step(ctx, table, column, expression);
            if let Some(b) = fill.backfill.as_mut() {
                // A row whose expression is NULL has nothing to fill: the backfill is done
                // when no other row lacks its value.
                b.pending_only_where = Some(format!("({expression}) IS NOT NULL"));
            }
            out.push(fill);
        }
        let sources = sync::columns_read(ctx.live_table(table), expression, column);
        out.push(sync::drop_derived(table, column, &sources));
    }
    out
}
