//! `zdm lint --rewrite`: the schema a hand-written migration ends with, found by running it in
//! a shadow database that holds the starting schema (a copy of the live one, or the schema
//! files loaded), never on the live database. The caller plans from the start to that end.

use thiserror::Error;
use tokio_postgres::error::ErrorPosition;
use tokio_postgres::Client;

use super::intent::{intent, Intent};
use super::location;
use crate::catalog::{introspect, CatalogError};
use crate::model::Model;
use crate::parse::MigrationStatement;
use crate::source::{char_to_byte_offset, Location, SourceFile};

#[derive(Debug, Error)]
pub enum RewriteError {
    #[error("{location}: syntax error: {message}")]
    Syntax { location: Location, message: String },
    /// A statement the server refused in the shadow copy; nothing ran on the live database.
    #[error("{location}: the migration fails on a shadow copy of the starting schema (nothing ran on the live database): {message}")]
    Statement { location: Location, message: String },
    #[error("reading the shadow copy after the migration: {0}")]
    Catalog(#[from] CatalogError),
    #[error("the shadow copy: {0}")]
    Connection(#[source] tokio_postgres::Error),
}

/// The migration's statements, parsed.
pub fn statements(file: &SourceFile) -> Result<Vec<MigrationStatement>, RewriteError> {
    crate::parse::migration_statements(&file.text).map_err(|e| RewriteError::Syntax {
        location: location(file, e.offset),
        message: e.message,
    })
}

/// What the migration ends with and means.
pub struct EndState {
    pub model: Model,
    pub intent: Intent,
}

/// Run `statements` of `file` one by one in the shadow database `client` is connected to
/// (already holding the starting schema `start`), and read the schema they leave. Objects the
/// migration creates belong to the shadow's role there, and on the live database to whoever
/// applies the plan: their owners are left out, as for schema files.
pub async fn run_in_shadow(
    client: &Client,
    file: &SourceFile,
    statements: &[MigrationStatement],
    start: &Model,
) -> Result<EndState, RewriteError> {
    let default_schema: String = client
        .query_one("SELECT coalesce(current_schema(), 'public')::text", &[])
        .await
        .map_err(RewriteError::Connection)?
        .get(0);
    for statement in statements {
        let text = &file.text[statement.start..statement.end];
        if let Err(e) = client.batch_execute(text).await {
            return Err(statement_error(file, statement.start, text, &e));
        }
    }
    // A migration that leaves its transaction open: its changes are not made.
    // (SAVEPOINT is refused outside a transaction block.)
    if client
        .batch_execute("SAVEPOINT zdm_still_open")
        .await
        .is_ok()
    {
        return Err(RewriteError::Statement {
            location: location(file, file.text.len()),
            message: "the migration ends inside a transaction (BEGIN without COMMIT)".to_string(),
        });
    }
    let mut model = introspect(client).await?;
    let loader = crate::catalog::current_role(client).await?;
    model.owners.retain(|key, owner| {
        *owner != loader && !(key == "SCHEMA public" && owner == "pg_database_owner")
    });
    Ok(EndState {
        model,
        intent: intent(statements, &default_schema, start),
    })
}

fn statement_error(
    file: &SourceFile,
    start: usize,
    text: &str,
    error: &tokio_postgres::Error,
) -> RewriteError {
    let Some(db) = error.as_db_error() else {
        return RewriteError::Statement {
            location: location(file, start),
            message: error.to_string(),
        };
    };
    let offset = match db.position() {
        Some(ErrorPosition::Original(p)) => {
            start + char_to_byte_offset(text, (*p as usize).saturating_sub(1))
        }
        _ => start,
    };
    let mut message = db.message().to_string();
    for extra in [db.detail(), db.hint()].into_iter().flatten() {
        message.push_str("; ");
        message.push_str(extra);
    }
    RewriteError::Statement {
        location: location(file, offset),
        message,
    }
}
