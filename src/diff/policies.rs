//! Row-level security: policies pair by identity (table + name) through [`super::keyed`];
//! each table's `ENABLE` / `FORCE` flags are compared here.
//!
//! A renamed policy is a drop plus a create (names are never guessed): the new one is created
//! in expand and the old one dropped in contract, so the table never has fewer policies than
//! either side wants in between.

use super::keyed::{Keyed, Verdict};
use super::Change;
use crate::model::{Model, Object, Policy, RowSecurity};

impl Keyed for Policy {
    fn object(&self) -> Object {
        Object::Policy(self.clone())
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn verdict(&self, to: &Self) -> Verdict {
        let same_kind = self.command == to.command && self.permissive == to.permissive;
        // ALTER POLICY can set an expression but never remove one.
        let keeps_expressions = (self.using.is_none() || to.using.is_some())
            && (self.with_check.is_none() || to.with_check.is_some());
        if self.roles == to.roles && self.using == to.using && self.with_check == to.with_check {
            if same_kind {
                Verdict::Same
            } else {
                Verdict::Recreate
            }
        } else if same_kind && keeps_expressions {
            Verdict::Replace
        } else {
            // Dropped and created in one transaction (see `recipes::cascade`): no other
            // session ever sees the table without the policy.
            Verdict::Recreate
        }
    }
}

/// `ENABLE` / `FORCE ROW LEVEL SECURITY` that differ, for every table the desired side has.
/// A table that is re-created (or dropped and created) starts with neither flag set.
pub fn diff_row_security(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    let recreated = |table: &crate::model::QualifiedName| {
        changes.iter().any(|c| match c {
            Change::RecreateTable { to, .. } => &to.name == table,
            _ => false,
        })
    };
    let mut found = Vec::new();
    for table in to.tables.keys() {
        let old = if recreated(table) {
            RowSecurity::default()
        } else {
            from.row_security.get(table).copied().unwrap_or_default()
        };
        let new = to.row_security.get(table).copied().unwrap_or_default();
        if old != new {
            found.push(Change::SetRowSecurity {
                table: table.clone(),
                from: old,
                to: new,
            });
        }
    }
    changes.extend(found);
}
