//! Enum values the files remove while live rows still hold them: the plan is refused
//! before anything runs, with the count of rows per column, at the statement that declares
//! the type. (The staged rebuild, `plan::recipes::enum_rebuild`, would fail on them
//! halfway; a removed value is never dropped silently.)

use super::WorkspaceError;
use crate::model::Model;
use crate::parse::{DesiredSchema, ObjectName, ParseError, ParseErrorKind, ParseErrors};
use crate::sql::{quote_ident, quote_literal};

pub async fn check_removed_enum_values(
    client: &tokio_postgres::Client,
    live: &Model,
    desired_model: &Model,
    desired: &DesiredSchema,
) -> Result<(), WorkspaceError> {
    let mut errors = Vec::new();
    for (name, wanted) in &desired_model.enums {
        let Some(current) = live.enums.get(name) else {
            continue;
        };
        let removed: Vec<String> = current
            .labels
            .iter()
            .filter(|l| !wanted.labels.contains(l))
            .cloned()
            .collect();
        if removed.is_empty() {
            continue;
        }
        let holders = holders(client, live, name, &removed).await?;
        if holders.is_empty() {
            continue;
        }
        let values: Vec<String> = removed.iter().map(|l| quote_literal(l)).collect();
        let message = format!(
            "type {name} no longer has the value(s) {}, but {} hold them",
            values.join(", "),
            holders.join(", ")
        );
        let statement = desired
            .statements
            .iter()
            .filter(|s| s.provides.contains(&ObjectName::Type(name.clone())))
            .min_by_key(|s| (s.span.file, s.span.start));
        let Some(statement) = statement else {
            return Err(WorkspaceError::Refused(message));
        };
        errors.push(ParseError {
            kind: ParseErrorKind::RemovedValueInUse,
            span: statement.span,
            diagnostic: desired
                .sources
                .diagnostic(statement.span, message)
                .with_help("update those rows to a value the type keeps first (a data migration), then plan again"),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        errors.sort_by_key(|e| (e.span.file, e.span.start));
        Err(ParseErrors(errors).into())
    }
}

/// `3 row(s) of public.orders.status` for each live column of the enum (or an array of it)
/// with rows holding one of `removed`.
async fn holders(
    client: &tokio_postgres::Client,
    live: &Model,
    name: &crate::model::QualifiedName,
    removed: &[String],
) -> Result<Vec<String>, WorkspaceError> {
    let mut holders = Vec::new();
    for table in live.tables.values() {
        for column in table.columns.iter().filter(|c| !c.inherited) {
            let sql = match column.data_type.strip_suffix("[]") {
                _ if column.data_type.trim_end_matches("[]") != name.to_string() => continue,
                Some(_) => format!(
                    "SELECT count(*) FROM {} WHERE {}::text[] && $1::text[]",
                    table.name,
                    quote_ident(&column.name)
                ),
                None => format!(
                    "SELECT count(*) FROM {} WHERE {}::text = ANY($1)",
                    table.name,
                    quote_ident(&column.name)
                ),
            };
            let rows: i64 = client
                .query_one(&sql, &[&removed])
                .await
                .map_err(|e| WorkspaceError::Refused(format!("counting {sql}: {e}")))?
                .get(0);
            if rows > 0 {
                holders.push(format!(
                    "{rows} row(s) of {}.{}",
                    table.name,
                    quote_ident(&column.name)
                ));
            }
        }
    }
    Ok(holders)
}
