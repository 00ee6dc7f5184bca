//! Load a parsed desired schema into a (shadow) database.
//!
//! The session gets `check_function_bodies = off` (bodies may name objects created later); the
//! roles the files name are created first as bare `NOLOGIN` roles (roles are cluster-wide, not
//! part of the schema files); statements run in load order, in batches of consecutive
//! statements sent as one message (one round trip each; a batch that fails runs again one
//! statement at a time, each in autocommit). A statement failing with a "something it needs
//! does not exist (yet)" error is deferred and retried after the others, round after round,
//! until a round makes no progress; then the first such failure is the error. Any other
//! failure stops the load at once.

use thiserror::Error;
use tokio_postgres::error::{ErrorPosition, SqlState};
use tokio_postgres::Client;

use crate::parse::{DesiredSchema, Statement, StatementKind};
use crate::source::{char_to_byte_offset, Diagnostic, Span};
use crate::sql::quote_ident;

/// What the load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Statements that ran successfully.
    pub executed: usize,
    /// Failed attempts that were deferred and retried (0 when the load order was right).
    pub retries: usize,
    /// Roles that did not exist and were created as bare roles.
    pub roles_created: Vec<String>,
    /// The schema's notes plus the loader's own (skipped statements).
    pub notes: Vec<String>,
}

#[derive(Debug, Error)]
pub enum LoadError {
    /// A statement failed; the diagnostic points at the statement (at the server's error
    /// position within it when the server gives one) and carries the server's message.
    #[error("{diagnostic}")]
    Statement {
        diagnostic: Diagnostic,
        /// The failing statement.
        span: Span,
        /// The server's SQLSTATE, e.g. `42P01`.
        code: String,
    },
    #[error("creating role {role}: {source}")]
    Role {
        role: String,
        #[source]
        source: tokio_postgres::Error,
    },
    /// Setting up the session or talking to the server failed (not a statement's fault).
    #[error("loading the desired schema: {0}")]
    Connection(#[source] tokio_postgres::Error),
}

/// SQLSTATEs that mean "something this statement needs does not exist yet": worth a retry once
/// the other statements ran. Duplicates (42P07, 42710) are not: nothing is ever dropped while
/// loading, so a retry cannot fix them.
fn is_dependency_error(code: &SqlState) -> bool {
    [
        SqlState::UNDEFINED_TABLE,     // 42P01
        SqlState::UNDEFINED_OBJECT,    // 42704 (types, ...)
        SqlState::INVALID_SCHEMA_NAME, // 3F000
        SqlState::UNDEFINED_FUNCTION,  // 42883
        SqlState::UNDEFINED_COLUMN,    // 42703 (a column added by a later ALTER TABLE)
        SqlState::INVALID_FOREIGN_KEY, // 42830 (referenced key added by a later ALTER TABLE)
        SqlState::WRONG_OBJECT_TYPE,   // 42809 (e.g. PARTITION OF a table made partitioned later)
    ]
    .contains(code)
}

/// Load `schema` into the database `client` is connected to.
pub async fn load(client: &Client, schema: &DesiredSchema) -> Result<LoadReport, LoadError> {
    let mut report = LoadReport {
        notes: schema.notes.clone(),
        ..LoadReport::default()
    };
    client
        .batch_execute("SET check_function_bodies = off")
        .await
        .map_err(LoadError::Connection)?;
    report.roles_created = create_roles(client, schema).await?;

    let mut pending: Vec<&Statement> = schema
        .statements
        .iter()
        .filter(|s| match &s.kind {
            StatementKind::Ddl | StatementKind::DoBlock => true,
            // Applied as each statement's context (see `Statement::settings`).
            StatementKind::SessionSetting => false,
            StatementKind::CreateRole(_) => false,
        })
        .collect();
    let mut session: Vec<String> = Vec::new();
    loop {
        let mut deferred: Vec<(&Statement, tokio_postgres::Error)> = Vec::new();
        let attempted = pending.len();
        for group in batches(&pending) {
            if group[0].settings != session {
                apply_settings(client, schema, group[0]).await?;
                session = group[0].settings.clone();
            }
            if group.len() > 1 && run_batch(client, group).await {
                report.executed += group.len();
                continue;
            }
            for &statement in group {
                match client.batch_execute(&statement.text).await {
                    Ok(()) => report.executed += 1,
                    Err(e) if e.code().is_some_and(is_dependency_error) => {
                        deferred.push((statement, e))
                    }
                    Err(e) => return Err(statement_error(schema, statement, e)),
                }
            }
        }
        if deferred.is_empty() {
            break;
        }
        if deferred.len() == attempted {
            let (statement, e) = deferred.swap_remove(0);
            return Err(statement_error(schema, statement, e));
        }
        report.retries += deferred.len();
        pending = deferred.into_iter().map(|(s, _)| s).collect();
    }
    load_seeds(client, schema).await?;
    Ok(report)
}

/// At most this many statements go to the server in one message.
const BATCH_STATEMENTS: usize = 200;
/// ... and at most this much text, so that a batch that fails and is run again one statement
/// at a time costs little.
const BATCH_BYTES: usize = 256 * 1024;

/// Runs of consecutive statements under the same session settings, bounded in count and size.
fn batches<'a, 's>(pending: &'a [&'s Statement]) -> Vec<&'a [&'s Statement]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, statement) in pending.iter().enumerate() {
        let full = i - start >= BATCH_STATEMENTS || bytes + statement.text.len() > BATCH_BYTES;
        if i > start && (full || statement.settings != pending[start].settings) {
            out.push(&pending[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += statement.text.len();
    }
    if start < pending.len() {
        out.push(&pending[start..]);
    }
    out
}

/// Run `group` as one multi-statement message: one round trip, one implicit transaction.
/// False when any statement failed; the transaction is then rolled back whole, and the caller
/// runs the group again one statement at a time, which defers what needs a later statement and
/// names the statement that failed (with its file position). Statements that refuse a
/// transaction block (`CREATE INDEX CONCURRENTLY`) or a new enum value used in the same
/// transaction take that path too.
async fn run_batch(client: &Client, group: &[&Statement]) -> bool {
    // A newline before each `;`: a statement may end in a `--` comment.
    let text: Vec<&str> = group.iter().map(|s| s.text.as_str()).collect();
    if client.batch_execute(&text.join("\n;\n")).await.is_ok() {
        return true;
    }
    // A file's own BEGIN may have left a transaction open and aborted.
    let _ = client.batch_execute("ROLLBACK").await;
    false
}

/// The rows the files declare for tables marked `-- zdm:data`, after the whole schema (they
/// may reference any table), each in the search path of its table's schema.
async fn load_seeds(client: &Client, schema: &DesiredSchema) -> Result<(), LoadError> {
    for seed in &schema.seeds {
        let path = format!(
            "BEGIN; SET LOCAL search_path TO {}, public",
            crate::sql::quote_ident(&seed.table.schema)
        );
        client
            .batch_execute(&path)
            .await
            .map_err(LoadError::Connection)?;
        if let Err(e) = client.batch_execute(&seed.text).await {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(error_at(schema, seed.span, &seed.text, e));
        }
        client
            .batch_execute("COMMIT")
            .await
            .map_err(LoadError::Connection)?;
    }
    Ok(())
}

async fn create_roles(client: &Client, schema: &DesiredSchema) -> Result<Vec<String>, LoadError> {
    create_bare_roles(client, &schema.roles).await
}

/// Create each of `roles` that the cluster lacks as a bare `NOLOGIN` role (the shadow
/// database's stand-ins for the live cluster's roles). Returns those created.
pub async fn create_bare_roles(
    client: &Client,
    roles: &std::collections::BTreeSet<String>,
) -> Result<Vec<String>, LoadError> {
    let names: Vec<&str> = roles.iter().map(String::as_str).collect();
    let existing: Vec<String> = client
        .query(
            "SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1)",
            &[&names],
        )
        .await
        .map_err(LoadError::Connection)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut created = Vec::new();
    for role in roles {
        if existing.contains(role) {
            continue;
        }
        let sql = format!("CREATE ROLE {} NOLOGIN", quote_ident(role));
        match client.batch_execute(&sql).await {
            Ok(()) => created.push(role.clone()),
            // Created concurrently by another session (roles are cluster-wide).
            Err(e)
                if e.code() == Some(&SqlState::DUPLICATE_OBJECT)
                    || e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {}
            Err(e) => {
                return Err(LoadError::Role {
                    role: role.clone(),
                    source: e,
                })
            }
        }
    }
    Ok(created)
}

/// Reset the session and replay the settings in effect for `statement`.
async fn apply_settings(
    client: &Client,
    schema: &DesiredSchema,
    statement: &Statement,
) -> Result<(), LoadError> {
    client
        .batch_execute("RESET ALL")
        .await
        .map_err(LoadError::Connection)?;
    for setting in &statement.settings {
        if let Err(e) = client.batch_execute(setting).await {
            let mut err = statement_error(schema, statement, e);
            if let LoadError::Statement { diagnostic, .. } = &mut err {
                diagnostic.message = format!(
                    "session setting `{setting}` (in effect for this statement) failed: {}",
                    diagnostic.message
                );
            }
            return Err(err);
        }
    }
    client
        .batch_execute("SET check_function_bodies = off")
        .await
        .map_err(LoadError::Connection)
}

fn statement_error(
    schema: &DesiredSchema,
    statement: &Statement,
    error: tokio_postgres::Error,
) -> LoadError {
    error_at(schema, statement.span, &statement.text, error)
}

/// The server's error for the statement `text` at `span`, at the server's position in it.
fn error_at(
    schema: &DesiredSchema,
    span: Span,
    text: &str,
    error: tokio_postgres::Error,
) -> LoadError {
    let Some(db) = error.as_db_error() else {
        return LoadError::Connection(error);
    };
    let mut offset = span.start;
    let mut help = Vec::new();
    match db.position() {
        Some(ErrorPosition::Original(p)) => {
            let chars = (*p as usize).saturating_sub(1);
            offset += char_to_byte_offset(text, chars);
        }
        Some(ErrorPosition::Internal { query, .. }) => {
            help.push(format!("in the internal query `{query}`"));
        }
        // Some errors come without a position (`REFERENCES nowhere`): point at the first
        // mention of the missing object's name instead of the statement's start.
        None if is_dependency_error(db.code()) => {
            if let Some(at) = guess_position(text, db.message()) {
                offset += at;
            }
        }
        None => {}
    }
    if let Some(detail) = db.detail() {
        help.push(detail.to_string());
    }
    if let Some(hint) = db.hint() {
        help.push(hint.to_string());
    }
    let mut diagnostic = schema
        .sources
        .diagnostic((span.file, offset), db.message().to_string());
    if !help.is_empty() {
        diagnostic = diagnostic.with_help(help.join("; "));
    }
    LoadError::Statement {
        diagnostic,
        span,
        code: db.code().code().to_string(),
    }
}

/// Byte offset in `text` of the first identifier-bounded, case-insensitive mention of the name
/// an error message quotes (`relation "app.nowhere" does not exist`), trying the full name and
/// then its last part.
fn guess_position(text: &str, message: &str) -> Option<usize> {
    let quoted = message.split('"').nth(1).filter(|q| !q.is_empty())?;
    let mut candidates = vec![quoted];
    if let Some((_, last)) = quoted.rsplit_once('.') {
        candidates.push(last);
    }
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths outside ASCII; only search when it did not.
    if lower.len() != text.len() {
        return None;
    }
    let is_ident = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    candidates.into_iter().find_map(|name| {
        let needle = name.to_lowercase();
        lower.match_indices(&needle).map(|(i, _)| i).find(|&i| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + needle.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::guess_position;

    #[test]
    fn guesses_the_missing_name() {
        let text = "CREATE TABLE t (a int REFERENCES nowhere(id), b int REFERENCES App.Else)";
        assert_eq!(
            guess_position(text, "relation \"nowhere\" does not exist"),
            text.find("nowhere")
        );
        assert_eq!(
            guess_position(text, "relation \"app.else\" does not exist"),
            text.find("App.Else")
        );
        assert_eq!(
            guess_position(text, "relation \"t\" does not exist"),
            text.find("t (")
        );
        assert_eq!(guess_position(text, "no quotes"), None);
    }
}
