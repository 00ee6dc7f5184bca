//! Views are not managed by zdm, but they still pin what they read: PostgreSQL refuses to drop
//! a column or table that a view reads. A step that would do so carries a `may-fail` hazard
//! naming the views, so the plan says it before contract runs into it.

use std::collections::BTreeSet;

use super::resource::Resource;
use super::{Hazard, HazardKind, Step};
use crate::model::{Model, QualifiedName};
use crate::sql::quote_ident;

/// The hazard message for dropping `table`'s `column` (or the whole table, `None`), when live
/// views read it.
pub(crate) fn dropping_read_by_views(
    live: &Model,
    table: &QualifiedName,
    column: Option<&str>,
) -> Option<String> {
    let views: BTreeSet<String> = live
        .view_reads
        .iter()
        .filter(|r| &r.table == table && (column.is_none() || r.column.as_deref() == column))
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
            "view {} reads {what}: PostgreSQL refuses to drop it while the view exists; drop or redefine the view first (zdm does not manage views)",
            views[0]
        )
    } else {
        format!(
            "views {} read {what}: PostgreSQL refuses to drop it while they exist; drop or redefine them first (zdm does not manage views)",
            views.join(", ")
        )
    })
}

/// Flag every step that drops a column or table a live view reads.
pub(crate) fn flag_drops_read_by_views(live: &Model, steps: &mut [Step]) {
    if live.view_reads.is_empty() {
        return;
    }
    for step in steps {
        let messages: Vec<String> = step
            .drops
            .iter()
            .filter_map(|dropped| match dropped {
                Resource::Column(table, column) => {
                    dropping_read_by_views(live, table, Some(column))
                }
                Resource::Relation(table) if live.tables.contains_key(table) => {
                    dropping_read_by_views(live, table, None)
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
