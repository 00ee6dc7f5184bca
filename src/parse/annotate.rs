//! `-- zdm:` annotations: `backfill <expr>`, `renamed-from <name>`, `using <expr>`, `data`, on the
//! line(s) directly above a column definition or a `CREATE TABLE` line, or at the end of a
//! column definition's line.

use pg_query::protobuf::{self, AlterTableType, Token};
use pg_query::NodeEnum;

use super::refs::{qualify_range_var, Ctx};
use super::{check_expression, Errors, FileStatement, ParseErrorKind};
use crate::model::QualifiedName;
use crate::source::{FileId, SourceSet, Span};

const EXPECTED: &str = "expected zdm:backfill <expr>, zdm:backfill-from <query>, zdm:renamed-from <name>, zdm:using <expr> or zdm:data";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnotationKind {
    /// `-- zdm:backfill <expr>`: a derived column, computed by `<expr>` (syntax-checked).
    Backfill(String),
    /// `-- zdm:renamed-from <name>`: the column (or table, in the same schema) was called
    /// `<name>` before. Holds the name unquoted and case-folded, as PostgreSQL reads it.
    RenamedFrom(String),
    /// `-- zdm:using <expr>`: how to convert the old column value to the new type
    /// (syntax-checked).
    Using(String),
    /// `-- zdm:data`: the table holds reference data; the rows the files `INSERT` into it are
    /// managed by primary key (see `crate::data`).
    Data,
    /// `-- zdm:backfill-from SELECT ...` on a table: its rows come from the query over one
    /// live table (see `crate::sql::ddl::moved_rows`).
    BackfillFrom(crate::sql::ddl::moved_rows::RowSource),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub kind: AnnotationKind,
    pub table: QualifiedName,
    /// `None` for an annotation on the table itself (only `renamed-from`).
    pub column: Option<String>,
    /// The comment holding the annotation.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TargetKind {
    /// A `CREATE TABLE` statement (its first line).
    Table,
    Column(String),
    /// A table element that is not a column (a table constraint): annotations on it are errors.
    Other,
}

/// Something an annotation may attach to.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub kind: TargetKind,
    pub table: QualifiedName,
    /// Byte offset where it starts (statement start for a table, column name for a column).
    pub start: usize,
}

/// Annotation targets of one statement.
pub(crate) fn targets(node: &NodeEnum, ctx: &Ctx, stmt_start: usize) -> Vec<Target> {
    let mut out = Vec::new();
    let create = |s: &protobuf::CreateStmt, out: &mut Vec<Target>| {
        let Some(rv) = &s.relation else { return };
        let table = qualify_range_var(rv, ctx);
        out.push(Target {
            kind: TargetKind::Table,
            table: table.clone(),
            start: stmt_start,
        });
        for elt in &s.table_elts {
            match elt.node.as_ref() {
                Some(NodeEnum::ColumnDef(c)) => out.push(Target {
                    kind: TargetKind::Column(c.colname.clone()),
                    table: table.clone(),
                    start: c.location.max(0) as usize,
                }),
                Some(NodeEnum::Constraint(c)) => out.push(Target {
                    kind: TargetKind::Other,
                    table: table.clone(),
                    start: c.location.max(0) as usize,
                }),
                _ => {}
            }
        }
    };
    match node {
        NodeEnum::CreateStmt(s) => create(s, &mut out),
        NodeEnum::CreateForeignTableStmt(s) => {
            if let Some(base) = &s.base_stmt {
                create(base, &mut out)
            }
        }
        NodeEnum::AlterTableStmt(s) => {
            let Some(rv) = &s.relation else { return out };
            let table = qualify_range_var(rv, ctx);
            for cmd in &s.cmds {
                if let Some(NodeEnum::AlterTableCmd(c)) = cmd.node.as_ref() {
                    if c.subtype != AlterTableType::AtAddColumn as i32 {
                        continue;
                    }
                    if let Some(NodeEnum::ColumnDef(col)) =
                        c.def.as_ref().and_then(|d| d.node.as_ref())
                    {
                        out.push(Target {
                            kind: TargetKind::Column(col.colname.clone()),
                            table: table.clone(),
                            start: col.location.max(0) as usize,
                        });
                    }
                }
            }
        }
        _ => {}
    }
    out
}

struct Placed<'a> {
    target: &'a Target,
    start_line: usize,
    end_line: usize,
}

/// Find, check and attach the annotations of one file.
pub(crate) fn annotations(
    sources: &SourceSet,
    file: FileId,
    input: &str,
    statements: &[FileStatement],
    errors: &mut Errors,
) -> Vec<Annotation> {
    let Ok(scanned) = pg_query::scan(input) else {
        return Vec::new();
    };
    let tokens = scanned.tokens;
    let src = sources.file(file);
    let is_comment = |t: &protobuf::ScanToken| {
        t.token == Token::SqlComment as i32 || t.token == Token::CComment as i32
    };
    let placed: Vec<Placed> = statements
        .iter()
        .flat_map(|s| s.targets.iter())
        .map(|target| {
            let end = match target.kind {
                TargetKind::Table => target.start,
                _ => element_end(&tokens, target.start),
            };
            Placed {
                target,
                start_line: src.line_col(target.start).0,
                end_line: src.line_col(end).0,
            }
        })
        .collect();
    // Lines whose first token is a comment.
    let comment_line_starts: std::collections::BTreeSet<usize> = tokens
        .iter()
        .filter(|t| is_comment(t))
        .map(|t| t.start as usize)
        .filter(|&s| {
            let line = src.line_col(s).0;
            input[src.line_start(line)..s].trim().is_empty()
        })
        .map(|s| src.line_col(s).0)
        .collect();

    let mut out = Vec::new();
    for tok in tokens
        .iter()
        .filter(|t| t.token == Token::SqlComment as i32)
    {
        let (start, end) = (tok.start as usize, tok.end as usize);
        let text = &input[start..end];
        let body = text[2..].trim_start();
        let Some(rest) = body.strip_prefix("zdm:") else {
            continue;
        };
        let span = Span::new(file, start, end);
        let kind_offset = end - rest.len();
        let kind_word = rest.split_whitespace().next().unwrap_or("");
        if rest.is_empty() || rest.starts_with(char::is_whitespace) {
            errors.push(
                ParseErrorKind::Annotation,
                Span::new(file, kind_offset, kind_offset),
                "annotation kind missing after `zdm:`",
                Some(EXPECTED),
            );
            continue;
        }
        let after_kind = &rest[kind_word.len()..];
        let arg = after_kind.trim();
        let arg_offset = end - after_kind.trim_start().len();
        if !matches!(
            kind_word,
            "backfill" | "backfill-from" | "renamed-from" | "using" | "data"
        ) {
            errors.push(
                ParseErrorKind::Annotation,
                Span::new(file, kind_offset, kind_offset + kind_word.len()),
                format!("unknown annotation `zdm:{kind_word}`"),
                Some(EXPECTED),
            );
            continue;
        }
        if kind_word == "data" && !arg.is_empty() {
            errors.push(
                ParseErrorKind::Annotation,
                Span::new(file, arg_offset, arg_offset + arg.len()),
                "`zdm:data` takes no argument",
                None,
            );
            continue;
        }
        if arg.is_empty() && kind_word != "data" {
            let what = if kind_word == "renamed-from" {
                "a name"
            } else if kind_word == "backfill-from" {
                "a query"
            } else {
                "an expression"
            };
            errors.push(
                ParseErrorKind::Annotation,
                Span::new(file, kind_offset, kind_offset + kind_word.len()),
                format!("`zdm:{kind_word}` needs {what}"),
                None,
            );
            continue;
        }

        // What does it attach to?
        let line = src.line_col(start).0;
        let own_line = input[src.line_start(line)..start].trim().is_empty();
        let target: Result<&Target, &str> = if own_line {
            let mut next = line + 1;
            loop {
                if next > src.line_count() {
                    break Err("annotation at the end of the file is not attached to anything");
                }
                let line_text = src.line_text(next);
                if line_text.trim().is_empty() {
                    break Err("annotation is not attached to anything: a blank line separates it from what follows");
                }
                if comment_line_starts.contains(&next) {
                    next += 1;
                    continue;
                }
                let found = placed
                    .iter()
                    .find(|p| p.target.kind == TargetKind::Table && p.start_line == next)
                    .or_else(|| {
                        placed.iter().find(|p| {
                            p.start_line == next && matches!(p.target.kind, TargetKind::Column(_))
                        })
                    });
                break found.map(|p| p.target).ok_or(
                    "annotation is not attached to a column definition or a CREATE TABLE line",
                );
            }
        } else {
            let element = placed
                .iter()
                .filter(|p| {
                    p.target.kind != TargetKind::Table
                        && p.start_line <= line
                        && line <= p.end_line
                        && p.target.start < start
                })
                .max_by_key(|p| p.target.start);
            match element {
                Some(p) if matches!(p.target.kind, TargetKind::Column(_)) => Ok(p.target),
                Some(_) => Err("annotation is on a table constraint, not on a column definition"),
                None => placed
                    .iter()
                    .find(|p| p.target.kind == TargetKind::Table && p.start_line == line)
                    .map(|p| p.target)
                    .ok_or(
                        "annotation is not attached to a column definition or a CREATE TABLE line",
                    ),
            }
        };
        let target = match target {
            Ok(t) => t,
            Err(message) => {
                errors.push(
                    ParseErrorKind::Annotation,
                    Span::new(file, start, end),
                    message,
                    Some("put it on the line directly above a column definition or CREATE TABLE line, or at the end of the column's line"),
                );
                continue;
            }
        };
        let column = match &target.kind {
            TargetKind::Column(c) => Some(c.clone()),
            _ => None,
        };

        // The argument.
        let kind = match kind_word {
            "data" if column.is_some() => {
                errors.push(
                    ParseErrorKind::Annotation,
                    Span::new(file, kind_offset, kind_offset + kind_word.len()),
                    "`zdm:data` applies to a table (the line above CREATE TABLE), not to a column",
                    None,
                );
                continue;
            }
            "data" => AnnotationKind::Data,
            "backfill-from" => match backfill_from(arg, column.as_deref(), &target.table) {
                Ok(rows) => AnnotationKind::BackfillFrom(rows),
                Err((offset, message)) => {
                    let at = arg_offset + offset.min(arg.len());
                    errors.push(
                        ParseErrorKind::Annotation,
                        Span::new(file, at, at),
                        message,
                        None,
                    );
                    continue;
                }
            },
            "renamed-from" => match crate::sql::split_qualified_name(arg) {
                Ok(parts) if parts.len() == 1 => {
                    AnnotationKind::RenamedFrom(parts.into_iter().next().unwrap_or_default())
                }
                _ => {
                    errors.push(
                        ParseErrorKind::Annotation,
                        Span::new(file, arg_offset, arg_offset + arg.len()),
                        format!("`zdm:renamed-from` expects one (optionally quoted) name, got `{arg}`"),
                        Some("a table can only be renamed within its schema; give the old name without a schema"),
                    );
                    continue;
                }
            },
            kind => {
                if column.is_none() {
                    errors.push(
                        ParseErrorKind::Annotation,
                        Span::new(file, kind_offset, kind_offset + kind.len()),
                        format!("`zdm:{kind}` applies to a column, not to a table"),
                        None,
                    );
                    continue;
                }
                if let Err((offset, message)) = check_expression(arg) {
                    let at = arg_offset + offset;
                    errors.push(
                        ParseErrorKind::Annotation,
                        Span::new(file, at, at),
                        format!("in `zdm:{kind}` expression: {message}"),
                        None,
                    );
                    continue;
                }
                if kind == "backfill" {
                    AnnotationKind::Backfill(arg.to_string())
                } else {
                    AnnotationKind::Using(arg.to_string())
                }
            }
        };
        out.push(Annotation {
            kind,
            table: target.table.clone(),
            column,
            span,
        });
    }
    out
}

/// The query of a `zdm:backfill-from`, which belongs on a table.
fn backfill_from(
    arg: &str,
    column: Option<&str>,
    table: &QualifiedName,
) -> Result<crate::sql::ddl::moved_rows::RowSource, (usize, String)> {
    if column.is_some() {
        return Err((
            0,
            "`zdm:backfill-from` applies to a table (the line above CREATE TABLE), not to a column"
                .into(),
        ));
    }
    super::moved_rows::row_source(arg, &table.schema)
        .map_err(|(at, message)| (at, format!("in `zdm:backfill-from` query: {message}")))
}

/// End (byte offset just past the last token) of a table element or ALTER TABLE sub-command
/// that starts at `start`: it runs until a `,`, `)` or `;` at its own parenthesis depth.
fn element_end(tokens: &[protobuf::ScanToken], start: usize) -> usize {
    let mut depth = 0usize;
    let mut last_end = start;
    for t in tokens.iter().filter(|t| t.start as usize >= start) {
        let tok = t.token;
        if tok == Token::SqlComment as i32 || tok == Token::CComment as i32 {
            continue;
        }
        if tok == Token::Ascii40 as i32 {
            depth += 1;
        } else if tok == Token::Ascii41 as i32 {
            if depth == 0 {
                break;
            }
            depth -= 1;
        } else if (tok == Token::Ascii44 as i32 && depth == 0) || tok == Token::Ascii59 as i32 {
            break;
        }
        last_end = t.end as usize;
    }
    last_end
}
