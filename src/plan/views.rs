//! Views pin what they read: PostgreSQL refuses to drop or retype a column or drop a table
//! that a view reads. The planner drops such views first (or re-creates them around the step,
//! see `recipes::cascade`); a step that would still run into a live view that no step drops
//! carries a `may-fail` hazard naming the view and why.

use std::collections::BTreeSet;

use super::resource::Resource;
use super::{Hazard, HazardKind, Step};
use crate::model::{Model, QualifiedName};
use crate::sql::quote_ident;

/// The hazard message for dropping `table`'s `column` (or the whole table, `None`), when live
/// views that no step drops read it.
pub(crate) fn dropping_read_by_views(
    live: &Model,
    table: &QualifiedName,
    column: Option<&str>,
    handled: &BTreeSet<QualifiedName>,
) -> Option<String> {
    let views: BTreeSet<String> = live
        .view_reads
        .iter()
        .filter(|r| &r.table == table && (column.is_none() || r.column.as_deref() == column))
        .filter(|r| !handled.contains(&r.view))
        .map(|r| r.view.to_string())
        .collect();
    if views.is_empty() {
        return None;
    }
    let what = match column {
        Some(c) => format!("{table}.{}", quote_ident(c)),
        None => table.to_string(),
    };
    let views: Vec<String> = views.into_iter().collect();
    Some(if views.len() == 1 {
        format!(
            "view {} reads {what}: PostgreSQL refuses to drop or retype it while the view exists, and no transactional step of this plan re-creates the view around it",
            views[0]
        )
    } else {
        format!(
            "views {} read {what}: PostgreSQL refuses to drop or retype it while they exist, and no transactional step of this plan re-creates them around it",
            views.join(", ")
        )
    })
}

/// Flag every step that drops or retypes a column, or drops a table, that a live view reads
/// when no step of the plan drops (or re-creates) that view.
pub(crate) fn flag_drops_read_by_views(live: &Model, steps: &mut [Step]) {
    if live.view_reads.is_empty() {
        return;
    }
    let handled: BTreeSet<QualifiedName> = steps
        .iter()
        .flat_map(|s| &s.drops)
        .filter_map(|r| match r {
            Resource::Relation(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    for step in steps {
        let messages: Vec<String> = step
            .drops
            .iter()
            .chain(&step.repoints)
            .filter_map(|dropped| match dropped {
                Resource::Column(table, column) => {
                    dropping_read_by_views(live, table, Some(column), &handled)
                }
                Resource::Relation(table) if live.tables.contains_key(table) => {
                    dropping_read_by_views(live, table, None, &handled)
                }
                _ => None,
            })
            .collect();
        for message in messages {
            step.hazards.push(Hazard {
                kind: HazardKind::MayFail,
                message,
            });
        }
    }
}
