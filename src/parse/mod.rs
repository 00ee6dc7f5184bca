//! The desired schema's statements, from its source files.
//!
//! [`parse_desired`] splits every file into statements with pg_query (keeping byte spans),
//! rejects what does not belong in a schema file (DML, transaction control, `DROP`, psql
//! meta-commands, ...), reads `-- zdm:` annotations, works out what each statement provides and
//! requires, and orders the statements so that they load (see [`DesiredSchema::statements`]).
//! This is the only module that uses pg_query.

mod annotate;
pub mod bodies;
mod checks;
mod classify;
mod event_triggers;
mod extensions;
mod ffi;
mod lexer;
mod migration;
mod moved_rows;
mod order;
mod recreate;
mod refs;
mod views;

use std::collections::BTreeSet;
use std::fmt;

use pg_query::NodeEnum;
use thiserror::Error;

use crate::model::QualifiedName;
use crate::source::{char_to_byte_offset, Diagnostic, FileId, SourceSet, Span};

pub use annotate::{Annotation, AnnotationKind};
pub(crate) use checks::deparse_expression;
pub use checks::CheckSource;
use classify::{classify, search_path_setting};
pub use extensions::pinned_extension_versions;
pub use migration::{migration_statements, MigrationStatement, MigrationSyntaxError};
pub use recreate::SeedInsert;
pub use views::ViewSource;

/// The parsed desired schema.
#[derive(Debug, Clone)]
pub struct DesiredSchema {
    pub sources: SourceSet,
    /// Statements in load order: dependencies first, otherwise by file path then offset.
    pub statements: Vec<Statement>,
    /// Annotations in file order.
    pub annotations: Vec<Annotation>,
    /// The `INSERT`s into tables marked `-- zdm:data`, in file order.
    pub seeds: Vec<SeedInsert>,
    /// Roles named by GRANT/REVOKE, OWNER TO, policies, default privileges, CREATE/ALTER ROLE,
    /// ... (never PUBLIC, CURRENT_USER, SESSION_USER, CURRENT_ROLE).
    pub roles: BTreeSet<String>,
    /// Things worth telling the user that are not errors (DO blocks, skipped CREATE ROLE, ...).
    pub notes: Vec<String>,
}

/// One statement of a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// From the statement's first token to its end, without the terminating `;`.
    pub span: Span,
    pub text: String,
    pub kind: StatementKind,
    /// True for statements that must never run against the live database (`DO` blocks).
    pub shadow_only: bool,
    pub provides: Vec<ObjectName>,
    /// References to objects (unqualified names: one entry per schema of the search path in
    /// effect). Built-in types and `pg_catalog`/`information_schema` objects are left out;
    /// references to objects no statement provides are kept (built-in functions, extension
    /// objects) and simply do not constrain the order.
    pub requires: Vec<ObjectName>,
    /// The session settings in effect for this statement: the texts of the `SET`/`RESET`/
    /// `set_config` statements that precede it in its file, in order. A loader replays them
    /// (after `RESET ALL`) before running the statement, since load order is not file order.
    pub settings: Vec<String>,
    /// The named CHECK constraints it defines, as written. Left empty when session settings
    /// are in effect: the text could mean something else in a session without them.
    pub checks: Vec<CheckSource>,
    /// The query of the plain view it creates, as written; `None` under session settings too.
    pub view_source: Option<ViewSource>,
    /// The event trigger it creates, alters or comments on, by name.
    pub event_trigger: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// Schema definition: CREATE/ALTER/COMMENT/GRANT/REVOKE/...
    Ddl,
    /// `SET`/`RESET`/`SELECT pg_catalog.set_config(...)`: applies to the loading session only.
    SessionSetting,
    /// A `DO` block: run in the shadow database only (`shadow_only`).
    DoBlock,
    /// `CREATE ROLE name`: roles are cluster-wide; the loader creates every named role as a
    /// bare role beforehand and skips this statement.
    CreateRole(String),
}

/// An object a statement creates or refers to. Relations (tables, views, sequences, indexes,
/// ...) share one namespace in PostgreSQL, as do types (incl. enums, domains, table row types).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectName {
    Schema(String),
    Relation(QualifiedName),
    Type(QualifiedName),
    /// Functions, procedures and aggregates, by name (overloads are not told apart).
    Function(QualifiedName),
    Extension(String),
}

impl ObjectName {
    pub fn schema(&self) -> Option<&str> {
        match self {
            ObjectName::Relation(q) | ObjectName::Type(q) | ObjectName::Function(q) => {
                Some(&q.schema)
            }
            ObjectName::Schema(_) | ObjectName::Extension(_) => None,
        }
    }
}

impl fmt::Display for ObjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::sql::quote_ident;
        match self {
            ObjectName::Schema(s) => write!(f, "schema {}", quote_ident(s)),
            ObjectName::Relation(q) => write!(f, "relation {q}"),
            ObjectName::Type(q) => write!(f, "type {q}"),
            ObjectName::Function(q) => write!(f, "function {q}"),
            ObjectName::Extension(e) => write!(f, "extension {}", quote_ident(e)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// PostgreSQL's parser rejected the text.
    Syntax,
    /// A statement that does not belong in a schema file (DML, DROP, BEGIN, VACUUM, ...).
    Rejected,
    /// A psql meta-command (`\connect`, `\i`, ...): not SQL.
    MetaCommand,
    /// A malformed, unknown or unattached `-- zdm:` annotation.
    Annotation,
    /// A role the files name that the live cluster does not have (zdm never creates roles).
    MissingRole,
    /// An event trigger the plan would create or alter while the live role is no superuser.
    NeedsSuperuser,
    /// An enum value the files remove that live rows still hold.
    RemovedValueInUse,
}

/// One error, at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{diagnostic}")]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub span: Span,
    pub diagnostic: Diagnostic,
}

/// Every error found (in file order); `Display` is one `path:line:col: message` line each.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct ParseErrors(pub Vec<ParseError>);

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ParseErrors {
    /// All errors with their source lines and carets.
    pub fn render(&self) -> String {
        self.0
            .iter()
            .map(|e| e.diagnostic.render())
            .collect::<Vec<_>>()
            .join("\n\n")
    }
}

/// Collects errors while parsing.
pub(crate) struct Errors<'a> {
    sources: &'a SourceSet,
    list: Vec<ParseError>,
}

impl Errors<'_> {
    pub(crate) fn push(
        &mut self,
        kind: ParseErrorKind,
        span: Span,
        message: impl Into<String>,
        help: Option<&str>,
    ) {
        let mut diagnostic = self.sources.diagnostic(span, message);
        if let Some(h) = help {
            diagnostic = diagnostic.with_help(h);
        }
        self.list.push(ParseError {
            kind,
            span,
            diagnostic,
        });
    }
}

/// A statement of one file, before ordering.
pub(crate) struct FileStatement {
    pub statement: Statement,
    /// Tables and columns that annotations may attach to.
    pub targets: Vec<annotate::Target>,
}

/// Parse, check and order the desired schema. Returns every error found (a syntax error stops
/// the parse of its file only).
pub fn parse_desired(sources: SourceSet) -> Result<DesiredSchema, ParseErrors> {
    let mut errors = Errors {
        sources: &sources,
        list: Vec::new(),
    };
    let mut statements = Vec::new();
    let mut annotations = Vec::new();
    let mut roles = BTreeSet::new();
    let mut notes = Vec::new();
    let mut skipped = Vec::new();
    for file in sources.ids() {
        let Some(input) = parse_input(&sources, file, &mut errors) else {
            continue;
        };
        let parsed = match pg_query::parse(&input, 0) {
            Ok(p) => p,
            Err(e) => {
                let (message, offset) = match ffi::syntax_error(&input) {
                    Some(raw) if raw.cursor_chars > 0 => (
                        raw.message,
                        char_to_byte_offset(&input, raw.cursor_chars - 1),
                    ),
                    Some(raw) => (raw.message, 0),
                    None => (e.to_string(), 0),
                };
                errors.push(
                    ParseErrorKind::Syntax,
                    Span::new(file, offset, offset),
                    message,
                    None,
                );
                continue;
            }
        };
        let (file_statements, file_skipped) = file_statements(
            &sources,
            file,
            &input,
            &parsed.protobuf,
            &mut errors,
            &mut roles,
            &mut notes,
        );
        skipped.extend(file_skipped);
        annotations.extend(annotate::annotations(
            &sources,
            file,
            &input,
            &file_statements,
            &mut errors,
        ));
        statements.extend(file_statements.into_iter().map(|s| s.statement));
    }
    let data_tables: BTreeSet<QualifiedName> = annotations
        .iter()
        .filter(|a| a.kind == AnnotationKind::Data)
        .map(|a| a.table.clone())
        .collect();
    let seeds = recreate::check_skipped(
        &sources,
        &skipped,
        &statements,
        &data_tables,
        &mut errors,
        &mut notes,
    );
    if !errors.list.is_empty() {
        let mut list = errors.list;
        list.sort_by_key(|e| (e.span.file, e.span.start));
        return Err(ParseErrors(list));
    }
    let statements = order::load_order(statements);
    Ok(DesiredSchema {
        sources,
        statements,
        annotations,
        seeds,
        roles,
        notes,
    })
}

/// The text handed to the parser: the file with psql meta-commands (reported) and a BOM blanked
/// out, byte for byte, so offsets stay the file's. `None` when the file cannot be parsed at all.
fn parse_input(sources: &SourceSet, file: FileId, errors: &mut Errors) -> Option<String> {
    let text = &sources.file(file).text;
    let mut bytes = text.as_bytes().to_vec();
    if text.starts_with('\u{feff}') {
        bytes[..3].fill(b' ');
    }
    for (start, end) in lexer::meta_command_lines(text) {
        let command = text[start..end].split_whitespace().next().unwrap_or("\\");
        // pg_dump (since the August 2025 minor releases) brackets its output with
        // `\restrict KEY` / `\unrestrict KEY`, which only guard psql against injected
        // meta-commands: harmless here, so pg_dump output stays a valid desired schema.
        if command == "\\restrict" || command == "\\unrestrict" {
            bytes[start..end].fill(b' ');
            continue;
        }
        errors.push(
            ParseErrorKind::MetaCommand,
            Span::new(file, start, end),
            format!("psql meta-command `{command}` in a schema file"),
            Some("schema files are plain SQL run statement by statement; meta-commands such as \\connect or \\i are not SQL"),
        );
        bytes[start..end].fill(b' ');
    }
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        errors.push(
            ParseErrorKind::Syntax,
            Span::new(file, nul, nul + 1),
            "NUL byte in a schema file",
            None,
        );
        return None;
    }
    // Blanking replaced whole lines' bytes (each multi-byte character by several spaces), which
    // is still valid UTF-8.
    String::from_utf8(bytes).ok()
}

fn file_statements(
    sources: &SourceSet,
    file: FileId,
    input: &str,
    parsed: &pg_query::protobuf::ParseResult,
    errors: &mut Errors,
    roles: &mut BTreeSet<String>,
    notes: &mut Vec<String>,
) -> (Vec<FileStatement>, Vec<recreate::SkippedStatement>) {
    let mut ctx = refs::Ctx::new();
    let mut settings: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for raw in &parsed.stmts {
        let Some(node) = raw.stmt.as_ref().and_then(|s| s.node.as_ref()) else {
            continue;
        };
        let loc = usize::try_from(raw.stmt_location).unwrap_or(0);
        let start = lexer::skip_trivia(input, loc);
        let end = match usize::try_from(raw.stmt_len).unwrap_or(0) {
            0 => input.len(),
            len => loc + len,
        };
        let end = start + input[start..end.max(start)].trim_end().len();
        let span = Span::new(file, start, end);
        let text = sources.file(file).text[start..end].to_string();
        if let Some(what) = recreate::skipped(node, &ctx) {
            skipped.push(recreate::SkippedStatement { span, what });
            continue;
        }
        let kind = match classify(node) {
            Ok(kind) => kind,
            Err((message, help)) => {
                let label = statement_label(&text);
                errors.push(
                    ParseErrorKind::Rejected,
                    span,
                    message.replace("{}", &label),
                    Some(help),
                );
                continue;
            }
        };
        let json = serde_json::to_value(node).unwrap_or_default();
        let provides = refs::provides(node, &ctx);
        let requires = refs::requires(node, &json, &ctx, roles);
        let targets = annotate::targets(node, &ctx, start);
        let (checks, view_source) = if settings.is_empty() {
            (
                checks::named_checks(node, &ctx),
                views::view_source(node, &json, &ctx),
            )
        } else {
            (Vec::new(), None)
        };
        let shadow_only = kind == StatementKind::DoBlock;
        let location = sources.location(span);
        match &kind {
            StatementKind::DoBlock => notes.push(format!(
                "{location}: DO block runs in the shadow database only, never against the live database"
            )),
            StatementKind::CreateRole(name) => notes.push(format!(
                "{location}: CREATE ROLE {} is not run: roles are cluster-wide; zdm creates the roles the files name as bare roles in the shadow database",
                crate::sql::quote_ident(name)
            )),
            _ => {}
        }
        let statement = Statement {
            span,
            text,
            kind: kind.clone(),
            shadow_only,
            provides,
            requires,
            settings: settings.clone(),
            checks,
            view_source,
            event_trigger: event_triggers::named(node),
        };
        if kind == StatementKind::SessionSetting {
            if let Some(path) = search_path_setting(node) {
                ctx.search_path = path;
            }
            settings.push(statement.text.clone());
        }
        out.push(FileStatement { statement, targets });
    }
    (out, skipped)
}

/// First word (plus the object kind after CREATE/ALTER/DROP), upper-cased, for messages.
fn statement_label(text: &str) -> String {
    let mut words = text.split(|c: char| !c.is_alphanumeric() && c != '_');
    let words: Vec<String> = words
        .by_ref()
        .filter(|w| !w.is_empty())
        .take(2)
        .map(|w| w.to_uppercase())
        .collect();
    match words.as_slice() {
        [first, second] if matches!(first.as_str(), "DROP" | "CREATE" | "ALTER") => {
            format!("{first} {second}")
        }
        [first, ..] => first.clone(),
        [] => String::from("statement"),
    }
}

/// Check that `expr` is one SQL expression; on a syntax error, the byte offset within `expr`
/// and the message.
pub(crate) fn check_expression(expr: &str) -> Result<(), (usize, String)> {
    const PREFIX: &str = "SELECT ";
    let sql = format!("{PREFIX}{expr}");
    match pg_query::parse(&sql, 0) {
        Ok(parsed) => {
            let single = parsed.protobuf.stmts.len() == 1
                && matches!(
                    parsed.protobuf.stmts[0].stmt.as_ref().and_then(|s| s.node.as_ref()),
                    Some(NodeEnum::SelectStmt(s))
                        if s.target_list.len() == 1
                            && s.from_clause.is_empty()
                            && s.where_clause.is_none()
                            && s.group_clause.is_empty()
                            && s.having_clause.is_none()
                            && s.sort_clause.is_empty()
                            && s.limit_count.is_none()
                            && s.op == pg_query::protobuf::SetOperation::SetopNone as i32
                );
            if single {
                Ok(())
            } else {
                Err((0, "expected a single expression".to_string()))
            }
        }
        Err(e) => match ffi::syntax_error(&sql) {
            Some(raw) if raw.cursor_chars > PREFIX.len() => Err((
                char_to_byte_offset(expr, raw.cursor_chars - 1 - PREFIX.len()),
                raw.message,
            )),
            Some(raw) => Err((0, raw.message)),
            None => Err((0, e.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(statement_label("drop table x"), "DROP TABLE");
        assert_eq!(statement_label("insert into x values (1)"), "INSERT");
    }

    #[test]
    fn expressions() {
        assert!(check_expression("a || ' ' || b").is_ok());
        assert_eq!(check_expression("a ||| (").unwrap_err().0, 7);
        assert!(check_expression("1 FROM t").is_err());
    }
}
