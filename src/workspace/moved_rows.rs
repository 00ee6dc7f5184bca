//! `-- zdm:backfill-from` checked against the live database before anything is planned: the
//! query is `PREPARE`d (never run), its output columns must be columns of the new table with
//! the same types, and the keys the copy needs must exist. Errors point into the annotation.

use tokio_postgres::Client;

use crate::model::{Model, Table};
use crate::parse::{Annotation, AnnotationKind, DesiredSchema, ParseError, ParseErrorKind};
use crate::source::Span;
use crate::sql::ddl::moved_rows::RowSource;
use crate::sql::quote_ident;

/// Check every `zdm:backfill-from` whose work is not done yet (the new table does not exist,
/// or its sync trigger still does): once it is, the query may name columns that are gone.
pub(super) async fn check(
    client: &Client,
    live: &Model,
    desired_model: &Model,
    desired: &DesiredSchema,
    errors: &mut Vec<ParseError>,
) {
    for a in &desired.annotations {
        let AnnotationKind::BackfillFrom(rows) = &a.kind else {
            continue;
        };
        if live.tables.contains_key(&a.table)
            && !crate::plan::moved_rows_trigger_exists(live, &a.table, rows)
        {
            continue;
        }
        let mut push = |at: usize, message: String| {
            let span = Span::new(a.span.file, at, at);
            errors.push(ParseError {
                kind: ParseErrorKind::Annotation,
                span,
                diagnostic: desired.sources.diagnostic(span, message),
            });
        };
        let query_at = query_start(desired, a, rows);
        let Some(target) = desired_model.tables.get(&a.table) else {
            continue;
        };
        if let Err(message) = check_live_source(live, rows) {
            push(query_at, message);
            continue;
        }
        if let Err(message) = check_target(target, rows) {
            push(a.span.start, message);
            continue;
        }
        if let Some(message) = aggregate_called(client, rows).await {
            push(query_at, message);
            continue;
        }
        match output_types(client, rows).await {
            Err((offset, message)) => push(query_at + offset, message),
            Ok(types) => {
                for message in type_mismatches(client, target, &types).await {
                    push(query_at, message);
                }
            }
        }
    }
}

/// Byte offset of the query inside the annotation comment.
fn query_start(desired: &DesiredSchema, a: &Annotation, rows: &RowSource) -> usize {
    let text = desired.sources.text(a.span);
    text.find(rows.query.as_str())
        .map_or(a.span.start, |i| a.span.start + i)
}

fn check_live_source(live: &Model, rows: &RowSource) -> Result<(), String> {
    let Some(source) = live.tables.get(&rows.source) else {
        return Err(format!(
            "`zdm:backfill-from` reads {}, which does not exist in the live database",
            rows.source
        ));
    };
    if source.primary_key_columns().is_empty() {
        return Err(format!(
            "`zdm:backfill-from` reads {}, which has no primary key: zdm copies its rows in keyset batches on the primary key",
            rows.source
        ));
    }
    Ok(())
}

/// The new table must have a primary key the query fills (the trigger upserts by it), and
/// every column the query leaves out must be nullable or have a default.
fn check_target(target: &Table, rows: &RowSource) -> Result<(), String> {
    let key = target.primary_key_columns();
    if key.is_empty() {
        return Err(format!(
            "{} has no primary key: zdm keeps it in step by upserting on its primary key",
            target.name
        ));
    }
    if let Some(k) = key.iter().find(|k| !rows.columns.contains(k)) {
        return Err(format!(
            "the `zdm:backfill-from` query does not give primary key column {} of {}",
            quote_ident(k),
            target.name
        ));
    }
    if let Some(c) = rows.columns.iter().find(|c| target.column(c).is_none()) {
        return Err(format!(
            "the `zdm:backfill-from` query gives column {}, which {} does not have",
            quote_ident(c),
            target.name
        ));
    }
    let required = target.columns.iter().find(|c| {
        c.not_null
            && c.default.is_none()
            && c.identity.is_none()
            && c.generated.is_none()
            && !rows.columns.contains(&c.name)
    });
    if let Some(c) = required {
        return Err(format!(
            "column {} of {} is NOT NULL without a default, and the `zdm:backfill-from` query does not give it",
            quote_ident(&c.name),
            target.name
        ));
    }
    Ok(())
}

/// An aggregate the query calls (by name: a row trigger would aggregate one row).
async fn aggregate_called(client: &Client, rows: &RowSource) -> Option<String> {
    if rows.functions.is_empty() {
        return None;
    }
    let row = client
        .query_opt(
            "SELECT proname::text FROM pg_catalog.pg_proc WHERE prokind = 'a' AND proname = ANY($1) LIMIT 1",
            &[&rows.functions],
        )
        .await
        .ok()??;
    let name: String = row.get(0);
    Some(format!(
        "the `zdm:backfill-from` query calls aggregate {name}(): a row trigger on {} cannot keep an aggregate in step; copy one row per source row",
        rows.source
    ))
}

/// The query's output columns and their type oids, from `PREPARE` against the live database.
async fn output_types(
    client: &Client,
    rows: &RowSource,
) -> Result<Vec<(String, u32, String)>, (usize, String)> {
    const WRAP: &str = "SELECT * FROM (";
    let sql = format!("{WRAP}{}) AS zdm_q LIMIT 0", rows.query);
    match client.prepare(&sql).await {
        Ok(statement) => Ok(statement
            .columns()
            .iter()
            .map(|c| {
                (
                    c.name().to_string(),
                    c.type_().oid(),
                    c.type_().name().to_string(),
                )
            })
            .collect()),
        Err(e) => Err(match e.as_db_error() {
            Some(db) => {
                let offset = match db.position() {
                    Some(tokio_postgres::error::ErrorPosition::Original(p)) => {
                        let chars = (*p as usize).saturating_sub(1 + WRAP.len());
                        crate::source::char_to_byte_offset(&rows.query, chars).min(rows.query.len())
                    }
                    _ => 0,
                };
                (
                    offset,
                    format!(
                        "the `zdm:backfill-from` query does not type-check against the live database: {}",
                        db.message()
                    ),
                )
            }
            None => (0, e.to_string()),
        }),
    }
}

/// Output columns whose type is not the target column's (the type as the live database
/// knows it; a type that does not exist there yet, e.g. a new enum, is not compared).
async fn type_mismatches(
    client: &Client,
    target: &Table,
    types: &[(String, u32, String)],
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, oid, type_name) in types {
        let Some(column) = target.column(name) else {
            continue;
        };
        let wanted = client
            .query_one(
                "SELECT to_regtype($1)::oid, format_type(to_regtype($1), NULL)",
                &[&column.data_type],
            )
            .await;
        let Ok(row) = wanted else { continue };
        let wanted_oid: Option<u32> = row.get(0);
        if wanted_oid.is_some_and(|w| w != *oid) {
            out.push(format!(
                "the `zdm:backfill-from` query gives {} as {type_name}, but {}.{} is {}: cast it (`... ::{} AS {}`)",
                quote_ident(name),
                target.name,
                quote_ident(name),
                column.data_type,
                column.data_type,
                quote_ident(name),
            ));
        }
    }
    out
}
