//! Type changes PostgreSQL cannot carry out by itself: found before planning, not when the
//! `ALTER COLUMN ... TYPE` fails half-way through an apply.

use crate::model::{Model, QualifiedName};
use crate::parse::{DesiredSchema, ObjectName, ParseError, ParseErrorKind};
use crate::source::{FileId, Span};
use crate::sql::quote_ident;

/// For every column whose type changes without a `-- zdm:using` annotation, ask the live
/// server whether the conversion zdm would write (`col::new_type`) exists: `PREPARE`d against
/// the live table, never run. An error names the column at its definition in the files.
pub(super) async fn check_type_changes(
    client: &tokio_postgres::Client,
    live: &Model,
    desired_model: &Model,
    desired: &DesiredSchema,
    errors: &mut Vec<ParseError>,
) {
    for (name, table) in &desired_model.tables {
        let Some(live_table) = live.tables.get(name) else {
            continue;
        };
        for column in table.columns.iter().filter(|c| !c.inherited) {
            let Some(before) = live_table.column(&column.name) else {
                continue;
            };
            if before.data_type == column.data_type
                || annotated(desired, name, &column.name)
                // Between user-defined types zdm converts through text, which always parses.
                || before.data_type.contains('.')
                || column.data_type.contains('.')
            {
                continue;
            }
            let col = quote_ident(&column.name);
            let sql = format!("SELECT ({col})::{} FROM {name} LIMIT 0", column.data_type);
            let Err(e) = client.prepare(&sql).await else {
                continue;
            };
            let reason = e
                .as_db_error()
                .map_or_else(|| e.to_string(), |db| db.message().to_string());
            let span = column_span(desired, name, &column.name);
            let diagnostic = desired
                .sources
                .diagnostic(
                    span,
                    format!(
                        "column {name}.{col} cannot change from {} to {}: {reason}",
                        before.data_type, column.data_type
                    ),
                )
                .with_help(format!(
                    "say how to convert the old values: `-- zdm:using <expr>` on the line above the column, an expression of {col} giving {}",
                    column.data_type
                ));
            errors.push(ParseError {
                kind: ParseErrorKind::Annotation,
                span,
                diagnostic,
            });
        }
    }
}

fn annotated(desired: &DesiredSchema, table: &QualifiedName, column: &str) -> bool {
    desired.annotations.iter().any(|a| {
        &a.table == table
            && a.column.as_deref() == Some(column)
            && matches!(a.kind, crate::parse::AnnotationKind::Using(_))
    })
}

/// Where `column` is defined: its name inside the `CREATE TABLE` that provides `table`
/// (the statement's start when the name cannot be found in it).
fn column_span(desired: &DesiredSchema, table: &QualifiedName, column: &str) -> Span {
    let statement = desired
        .statements
        .iter()
        .find(|s| s.provides.contains(&ObjectName::Relation(table.clone())));
    let Some(statement) = statement else {
        return Span::new(FileId(0), 0, 0);
    };
    let text = desired.sources.text(statement.span);
    let ident = quote_ident(column);
    let body = text.find('(').unwrap_or(0);
    let found = text[body..]
        .match_indices(ident.as_str())
        .map(|(i, _)| body + i)
        .find(|&i| {
            let before = text[..i].chars().next_back();
            let after = text[i + ident.len()..].chars().next();
            before.is_some_and(|c| c == '(' || c == ',' || c.is_whitespace())
                && after.is_some_and(char::is_whitespace)
        });
    match found {
        Some(at) => Span::new(
            statement.span.file,
            statement.span.start + at,
            statement.span.start + at + ident.len(),
        ),
        None => statement.span,
    }
}
