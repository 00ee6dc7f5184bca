//! `zdm lint`: hand-written migration files checked for the statements that block
//! application traffic, rewrite or scan tables under strong locks, or lose data.
//!
//! Each file is split by `parse/` (pg_query), each statement turned into a
//! [`summary::StatementSummary`], and every rule in [`rules::ALL`] looks at it together with the
//! file's state before it ([`state::FileState`]: transaction, `lock_timeout`, ...). A finding
//! can be silenced by `-- zdm:lint-ignore RULE reason` on the line above its statement.

mod coercion;
pub mod db;
pub mod intent;
pub mod rewrite;
pub mod rules;
mod state;
pub mod summary;

use serde::Serialize;
use thiserror::Error;

use crate::source::{Location, SourceFile, SourceSet};
use db::DbFacts;
use rules::{Context, Held};
use state::FileState;
use summary::{LockMode, StatementSummary};

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run the style rules too (types, re-runnable statements).
    pub style: bool,
    /// Statements outside BEGIN/COMMIT run in one transaction (the migration tool wraps the
    /// file).
    pub assume_in_transaction: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    #[serde(skip)]
    pub location: Location,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub lock: Option<LockMode>,
    /// How long the lock is held (`scan`, `rewrite`, `index-build`, ...).
    pub held: Held,
    pub instead: &'static str,
    /// Set when a `-- zdm:lint-ignore` silenced the finding: the reason given.
    pub ignored: Option<String>,
}

#[derive(Debug, Error)]
pub enum LintError {
    #[error("{location}: syntax error: {message}")]
    Syntax { location: Location, message: String },
    #[error("{location}: zdm:lint-ignore names unknown rule `{rule}` (zdm lint --explain lists the rules)")]
    UnknownRule { location: Location, rule: String },
}

/// Every statement of every file, summarised, per file.
pub fn summaries(sources: &SourceSet) -> Result<Vec<Vec<StatementSummary>>, LintError> {
    sources
        .files()
        .iter()
        .map(|file| {
            let statements =
                crate::parse::migration_statements(&file.text).map_err(|e| LintError::Syntax {
                    location: location(file, e.offset),
                    message: e.message,
                })?;
            Ok(statements
                .iter()
                .map(|s| summary::summarize(s.start, s.end, &s.node))
                .collect())
        })
        .collect()
}

/// All findings of all files, ignored ones included (with their reason), in file order.
pub fn lint(
    sources: &SourceSet,
    options: &Options,
    db: Option<&DbFacts>,
) -> Result<Vec<Finding>, LintError> {
    let all = summaries(sources)?;
    let mut findings = Vec::new();
    for (file, statements) in sources.files().iter().zip(&all) {
        findings.extend(lint_file(file, statements, options, db)?);
    }
    Ok(findings)
}

/// One in-memory file (tests, examples).
pub fn lint_text(
    path: &str,
    text: &str,
    options: &Options,
    db: Option<&DbFacts>,
) -> Result<Vec<Finding>, LintError> {
    lint(&SourceSet::from_texts([(path, text)]), options, db)
}

fn lint_file(
    file: &SourceFile,
    statements: &[StatementSummary],
    options: &Options,
    db: Option<&DbFacts>,
) -> Result<Vec<Finding>, LintError> {
    let mut state = FileState::new(options.assume_in_transaction);
    let mut findings = Vec::new();
    let mut previous_end = 0;
    for statement in statements {
        let before = &file.text[previous_end..statement.start];
        if contract_marker(before) {
            state.in_contract = true;
        }
        let ignores = ignores(file, before, previous_end)?;
        let mut summary = statement.clone();
        summary.in_transaction = state.in_transaction;
        summary.lock_timeout_set = state.lock_timeout_set();
        let cx = Context {
            statement: &summary,
            state: &state,
            db,
        };
        for rule in rules::ALL.iter().filter(|r| options.style || !r.style) {
            let Some(hit) = (rule.check)(&cx) else {
                continue;
            };
            let at = location(file, statement.start);
            findings.push(Finding {
                rule: rule.id,
                file: at.path.display().to_string(),
                line: at.line,
                column: at.column,
                location: at,
                message: hit.message,
                lock: hit.lock,
                held: hit.held,
                instead: rule.instead,
                ignored: ignores
                    .iter()
                    .find(|(id, _)| id == rule.id || id == "all")
                    .map(|(_, reason)| reason.clone()),
            });
        }
        state.advance(&summary);
        previous_end = statement.end;
    }
    Ok(findings)
}

pub(crate) fn location(file: &SourceFile, offset: usize) -> Location {
    let (line, column) = file.line_col(offset);
    Location {
        path: file.path.clone(),
        line,
        column,
    }
}

/// zdm's own `plan --format sql` marks its contract phase, and a hand-written file may say
/// `-- zdm:phase contract`: drops after it are the contract step of an expand/contract
/// migration, not drops under a running application.
fn contract_marker(between: &str) -> bool {
    between.lines().any(|l| {
        let l = l.trim();
        l == "-- ===== phase: contract =====" || l == "-- zdm:phase contract"
    })
}

/// `-- zdm:lint-ignore RULE reason` comments on the last comment lines directly above a
/// statement: (rule id, reason).
fn ignores(
    file: &SourceFile,
    between: &str,
    between_start: usize,
) -> Result<Vec<(String, String)>, LintError> {
    let mut out = Vec::new();
    let mut offset = between_start;
    for line in between.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("-- zdm:lint-ignore") {
            let rest = rest.trim();
            let (rule, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if rule != "all" && rules::find(rule).is_none() {
                let column = line.len() - trimmed.len();
                return Err(LintError::UnknownRule {
                    location: location(file, offset + column),
                    rule: rule.to_string(),
                });
            }
            out.push((rule.to_string(), reason.trim().to_string()));
        } else if !trimmed.trim().is_empty() && !trimmed.starts_with("--") {
            // Only the comment block right above the statement counts.
            out.clear();
        }
        offset += line.len();
    }
    Ok(out)
}
