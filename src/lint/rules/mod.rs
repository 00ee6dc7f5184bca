//! The rules, one per file, and their catalogue: id, title, why, the safe alternative, and a
//! bad and a good example (which are also each rule's tests).

use super::db::DbFacts;
use super::state::FileState;
use super::summary::{
    AlterAction, ColumnSummary, ConstraintSummary, LockMode, StatementKind, StatementSummary,
};

mod adding_exclusion_constraint;
mod adding_required_field;
mod ban_char_field;
mod ban_drop_database;
mod changing_column_type;
mod cluster;
mod concurrently_in_transaction;
mod constraint_missing_not_valid;
mod disallowed_unique_constraint;
mod dropping_column;
mod dropping_table;
mod enum_value_used_in_transaction;
mod lock_timeout_missing;
mod multiple_exclusive_locks;
mod prefer_bigint;
mod prefer_identity;
mod prefer_robust_stmts;
mod prefer_text_field;
mod prefer_timestamptz;
mod reindex_without_concurrently;
mod renaming_column;
mod renaming_table;
mod require_concurrent_index_creation;
mod require_concurrent_index_deletion;
mod setting_not_null;
mod transaction_nesting;
mod update_whole_table;
mod vacuum_full;
mod volatile_default;

/// How long the statement's lock is held, as far as the file tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Held {
    /// A catalog change: milliseconds once granted (but everything queues while it waits).
    Briefly,
    /// While every row is read (a validation, a NOT NULL check).
    Scan,
    /// While the table and its indexes are rewritten.
    Rewrite,
    /// While the index is built.
    IndexBuild,
    /// Until the transaction ends.
    UntilCommit,
    /// Not a lock finding.
    NotApplicable,
}

impl Held {
    pub fn describe(self) -> &'static str {
        match self {
            Held::Briefly => "briefly once granted, while every later query queues behind it",
            Held::Scan => "while the whole table is scanned",
            Held::Rewrite => "while the whole table is rewritten",
            Held::IndexBuild => "while the index is built",
            Held::UntilCommit => "until the transaction commits",
            Held::NotApplicable => "",
        }
    }
}

/// What one rule says about one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub message: String,
    pub lock: Option<LockMode>,
    pub held: Held,
}

/// What a rule sees: the statement, the file's state before it, and the live database's
/// facts when `--db` was given.
pub struct Context<'a> {
    pub statement: &'a StatementSummary,
    pub state: &'a FileState,
    pub db: Option<&'a DbFacts>,
}

pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub why: &'static str,
    /// The safe alternative, printed with every finding.
    pub instead: &'static str,
    pub bad: &'static str,
    pub good: &'static str,
    /// Style rules (types, robustness) run only with `--style`; the others are about locks,
    /// rewrites, scans and lost data.
    pub style: bool,
    pub check: fn(&Context) -> Option<Hit>,
}

/// Every rule, in the order findings are reported for one statement.
pub const ALL: &[&Rule] = &[
    &require_concurrent_index_creation::RULE,
    &require_concurrent_index_deletion::RULE,
    &volatile_default::RULE,
    &adding_required_field::RULE,
    &setting_not_null::RULE,
    &constraint_missing_not_valid::RULE,
    &disallowed_unique_constraint::RULE,
    &adding_exclusion_constraint::RULE,
    &changing_column_type::RULE,
    &renaming_column::RULE,
    &renaming_table::RULE,
    &dropping_column::RULE,
    &dropping_table::RULE,
    &ban_drop_database::RULE,
    &vacuum_full::RULE,
    &cluster::RULE,
    &reindex_without_concurrently::RULE,
    &update_whole_table::RULE,
    &lock_timeout_missing::RULE,
    &multiple_exclusive_locks::RULE,
    &concurrently_in_transaction::RULE,
    &enum_value_used_in_transaction::RULE,
    &transaction_nesting::RULE,
    &prefer_bigint::RULE,
    &prefer_identity::RULE,
    &prefer_text_field::RULE,
    &ban_char_field::RULE,
    &prefer_timestamptz::RULE,
    &prefer_robust_stmts::RULE,
];

/// A style finding: no lock involved.
fn style_hit(message: String) -> Hit {
    Hit {
        message,
        lock: None,
        held: Held::NotApplicable,
    }
}

/// A constraint's name for messages (unnamed ones get PostgreSQL's generated name).
fn display(name: &str) -> &str {
    if name.is_empty() {
        "(unnamed)"
    } else {
        name
    }
}

impl Context<'_> {
    /// The statement's table as written, for messages.
    pub fn table(&self) -> &str {
        self.statement.table.as_deref().unwrap_or("the table")
    }

    pub fn is_new_table(&self) -> bool {
        self.state.is_new_table(self.statement.table.as_deref())
    }

    /// With `--db`: the table has fewer rows than [`SMALL_TABLE_ROWS`].
    pub fn small_table(&self) -> bool {
        self.live_rows().is_some_and(|rows| rows < SMALL_TABLE_ROWS)
    }

    /// With `--db`: the table has no rows (by `reltuples`, or no pages when never analysed).
    pub fn empty_table(&self) -> bool {
        self.live_rows() == Some(0.0)
    }

    fn live_rows(&self) -> Option<f64> {
        self.db?.rows(self.statement.table.as_deref()?)
    }

    pub fn alter_actions(&self) -> &[AlterAction] {
        match &self.statement.kind {
            StatementKind::AlterTable { actions } => actions,
            _ => &[],
        }
    }

    /// Columns added by ALTER TABLE ... ADD COLUMN.
    pub fn added_columns(&self) -> Vec<&ColumnSummary> {
        self.alter_actions()
            .iter()
            .filter_map(|a| match a {
                AlterAction::AddColumn(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    /// Columns of a new table or added to an existing one (for the type rules).
    pub fn new_columns(&self) -> Vec<&ColumnSummary> {
        match &self.statement.kind {
            StatementKind::CreateTable { columns, .. } => columns.iter().collect(),
            _ => self.added_columns(),
        }
    }

    /// Constraints added by ADD CONSTRAINT or inline on an added column.
    pub fn added_constraints(&self) -> Vec<&ConstraintSummary> {
        let mut out = Vec::new();
        for action in self.alter_actions() {
            match action {
                AlterAction::AddConstraint(c) => out.push(c),
                AlterAction::AddColumn(column) => out.extend(column.constraints.iter()),
                _ => {}
            }
        }
        out
    }
}

/// Below this many rows (`pg_class.reltuples`, with `--db`) a plain CREATE INDEX blocks writes
/// for well under a second, so it is not reported.
pub const SMALL_TABLE_ROWS: f64 = 10_000.0;

pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.id == id)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Rule;
    use crate::lint::{lint_text, Options};

    fn ids(text: &str) -> Vec<String> {
        let options = Options {
            style: true,
            ..Options::default()
        };
        lint_text("example.sql", text, &options, None)
            .expect("examples parse")
            .into_iter()
            .map(|f| f.rule.to_string())
            .collect()
    }

    /// `text` gives no finding of `rule`.
    pub fn assert_clean(rule: &Rule, text: &str) {
        let found = ids(text);
        assert!(
            !found.iter().any(|id| id == rule.id),
            "{}: reported on\n{text}",
            rule.id
        );
    }

    /// The rule's bad example gives at least one finding of this rule; its good example none.
    pub fn check_examples(rule: &Rule) {
        let bad = ids(rule.bad);
        assert!(
            bad.iter().any(|id| id == rule.id),
            "{}: bad example not found (found {bad:?})\n{}",
            rule.id,
            rule.bad
        );
        let good = ids(rule.good);
        assert!(
            !good.iter().any(|id| id == rule.id),
            "{}: good example reported\n{}",
            rule.id,
            rule.good
        );
    }
}
