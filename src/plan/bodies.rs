//! Routines whose bodies PostgreSQL does not track (PL/pgSQL, SQL written as a string): a step
//! that drops a table or column such a body names succeeds, and the routine fails the next
//! time it runs that statement. The planner cannot re-create its way around that (the body is
//! the files'), so the step carries a `may-fail` hazard naming the routine.

use super::resource::Resource;
use super::{Hazard, HazardKind, Step};
use crate::model::{Model, QualifiedName};
use crate::parse::bodies::{body_names, BodyNames};
use crate::sql::quote_ident;

/// Flag every step that drops a column or table that the body of a routine the plan keeps
/// names. The body that counts is the desired one: by the time anything is dropped
/// (contract), a changed routine has been replaced.
pub(crate) fn flag_drops_named_by_bodies(live: &Model, desired: &Model, steps: &mut [Step]) {
    let bodies: Vec<(String, BodyNames)> = desired
        .routines
        .iter()
        .filter(|(key, _)| live.routines.contains_key(*key))
        .filter_map(|(_, r)| Some((r.id.to_string(), body_names(&r.definition)?)))
        .collect();
    if bodies.is_empty() {
        return;
    }
    for step in steps {
        let mut messages = Vec::new();
        for dropped in &step.drops {
            let (table, column) = match dropped {
                Resource::Column(table, column) => (table, Some(column.as_str())),
                Resource::Relation(table) if live.tables.contains_key(table) => (table, None),
                _ => continue,
            };
            for (routine, names) in &bodies {
                if names_what(names, table, column) {
                    messages.push(message(routine, table, column));
                }
            }
        }
        step.hazards
            .extend(messages.into_iter().map(|message| Hazard {
                kind: HazardKind::MayFail,
                message,
            }));
    }
}

fn names_what(names: &BodyNames, table: &QualifiedName, column: Option<&str>) -> bool {
    names.names_table(&table.schema, &table.name)
        && column.is_none_or(|c| names.columns.contains(c))
}

fn message(routine: &str, table: &QualifiedName, column: Option<&str>) -> String {
    let what = match column {
        Some(c) => format!("column {table}.{}", quote_ident(c)),
        None => format!("table {table}"),
    };
    format!(
        "the body of {routine} names {what}, and PostgreSQL does not track bodies: the drop succeeds and the routine fails when it next runs that statement; change the routine in the files first"
    )
}
