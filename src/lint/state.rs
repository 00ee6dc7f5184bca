//! What the file has done before a statement: transaction, `lock_timeout`, tables it created,
//! columns proven not null by a validated check, enum values added in the open transaction, and
//! the ACCESS EXCLUSIVE locks the open transaction holds. The driver advances it statement by
//! statement; rules only read it.

use std::collections::{BTreeMap, BTreeSet};

use super::summary::{AlterAction, ConstraintKind, LockMode, StatementKind, StatementSummary};

#[derive(Debug, Clone, Default)]
pub struct FileState {
    pub in_transaction: bool,
    /// Set by `SET lock_timeout` (for the session) or `SET LOCAL` (until the transaction ends).
    session_lock_timeout: bool,
    local_lock_timeout: bool,
    /// Every statement outside BEGIN/COMMIT counts as inside one transaction (migration tools
    /// that wrap each file: Rails, Django, Flyway, Alembic).
    pub assume_in_transaction: bool,
    pub tables_created: BTreeSet<String>,
    /// (table, column) with a validated `CHECK (column IS NOT NULL)`.
    pub proven_not_null: BTreeSet<(String, String)>,
    /// Constraint name -> (table, column) of a `CHECK (column IS NOT NULL) NOT VALID`.
    pending_not_null: BTreeMap<String, (String, String)>,
    /// Column types created in this file: (table, column) -> type name.
    pub column_types: BTreeMap<(String, String), (String, Vec<i64>)>,
    pub enum_values_in_transaction: Vec<(String, String)>,
    pub exclusive_tables_in_transaction: Vec<String>,
    /// After zdm's `-- ===== phase: contract =====` marker or a `-- zdm:phase contract` line:
    /// drops here run once the application no longer uses what they drop.
    pub in_contract: bool,
    /// Transaction nesting seen (a BEGIN inside a BEGIN).
    pub nested_begin: bool,
}

impl FileState {
    pub fn new(assume_in_transaction: bool) -> Self {
        FileState {
            assume_in_transaction,
            in_transaction: assume_in_transaction,
            ..FileState::default()
        }
    }

    pub fn lock_timeout_set(&self) -> bool {
        self.session_lock_timeout || self.local_lock_timeout
    }

    /// Whether the statement works on a table this file created (its locks block nobody).
    pub fn is_new_table(&self, table: Option<&str>) -> bool {
        table.is_some_and(|t| self.tables_created.contains(t))
    }

    pub fn advance(&mut self, s: &StatementSummary) {
        match &s.kind {
            StatementKind::Begin => {
                self.nested_begin = self.in_transaction && !self.assume_in_transaction;
                self.in_transaction = true;
            }
            StatementKind::Commit | StatementKind::Rollback => self.end_transaction(),
            StatementKind::LockTimeout { enabled, local } => {
                if *local {
                    self.local_lock_timeout = *enabled;
                } else {
                    self.session_lock_timeout = *enabled;
                    self.local_lock_timeout = false;
                }
            }
            StatementKind::CreateTable { columns, .. } => {
                if let Some(table) = &s.table {
                    self.tables_created.insert(table.clone());
                    for c in columns {
                        self.record_column(table, c);
                    }
                }
            }
            StatementKind::AlterTable { actions } => self.alter(s.table.as_deref(), actions),
            StatementKind::AddEnumValue { type_name, value } if self.in_transaction => self
                .enum_values_in_transaction
                .push((type_name.clone(), value.clone())),
            _ => {}
        }
        if s.lock == Some(LockMode::AccessExclusive) && self.in_transaction {
            if let Some(table) = &s.table {
                if !self.exclusive_tables_in_transaction.contains(table)
                    && !self.tables_created.contains(table)
                {
                    self.exclusive_tables_in_transaction.push(table.clone());
                }
            }
        }
        if !self.in_transaction {
            // Autocommit: the statement's own transaction is over.
            self.enum_values_in_transaction.clear();
            self.exclusive_tables_in_transaction.clear();
        }
    }

    fn end_transaction(&mut self) {
        self.in_transaction = self.assume_in_transaction;
        self.local_lock_timeout = false;
        self.enum_values_in_transaction.clear();
        self.exclusive_tables_in_transaction.clear();
    }

    fn record_column(&mut self, table: &str, c: &super::summary::ColumnSummary) {
        if let Some(t) = &c.type_name {
            self.column_types.insert(
                (table.to_string(), c.name.clone()),
                (t.name.clone(), t.modifiers.clone()),
            );
        }
    }

    fn alter(&mut self, table: Option<&str>, actions: &[AlterAction]) {
        let Some(table) = table else { return };
        for action in actions {
            match action {
                AlterAction::AddColumn(c) => self.record_column(table, c),
                AlterAction::AddConstraint(c) if c.kind == ConstraintKind::Check => {
                    if let Some(column) = &c.proves_not_null {
                        let key = (table.to_string(), column.clone());
                        if c.not_valid {
                            self.pending_not_null.insert(c.name.clone(), key);
                        } else {
                            self.proven_not_null.insert(key);
                        }
                    }
                }
                AlterAction::ValidateConstraint { name } => {
                    if let Some(key) = self.pending_not_null.remove(name) {
                        self.proven_not_null.insert(key);
                    }
                }
                _ => {}
            }
        }
    }
}
