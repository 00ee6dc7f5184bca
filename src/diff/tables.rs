//! Differences between the tables of two models, down to columns, constraints and indexes.

use super::{paired, Change};
use crate::model::{Kind, Model, ObjectId, QualifiedName, Table};
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn diff_tables(from: &Model, to: &Model, changes: &mut Vec<Change>) {
    let rebuilt: BTreeSet<&QualifiedName> = from
        .tables
        .iter()
        .filter(|(name, old)| {
            to.tables
                .get(name)
                .is_some_and(|new| needs_recreate(old, new))
        })
        .map(|(name, _)| name)
        .collect();
    for (name, old, new) in paired(&from.tables, &to.tables) {
        // A partition goes with a parent that is re-created: dropping the parent drops it.
        let under_rebuilt = under_any(from, &name, &rebuilt) || under_any(to, &name, &rebuilt);
        match (old, new) {
            (None, Some(new)) => {
                changes.push(Change::CreateTable { table: new.clone() });
                push_new_table_extras(new, changes);
            }
            (Some(old), None) => changes.push(Change::DropTable { table: old.clone() }),
            (Some(old), Some(new)) => {
                if needs_recreate(old, new) || under_rebuilt {
                    changes.push(Change::RecreateTable {
                        from: old.clone(),
                        to: new.clone(),
                    });
                    push_new_table_extras(new, changes);
                } else {
                    diff_table(from, to, old, new, changes);
                }
            }
            (None, None) => {}
        }
    }
}

/// Whether `name` is a partition (at any depth) of one of `parents` in `model`.
fn under_any(model: &Model, name: &QualifiedName, parents: &BTreeSet<&QualifiedName>) -> bool {
    let mut seen = BTreeSet::new();
    let mut current = model.tables.get(name).and_then(|t| t.partition_of.as_ref());
    while let Some(partition_of) = current {
        if parents.contains(&partition_of.parent) {
            return true;
        }
        if !seen.insert(&partition_of.parent) {
            return false;
        }
        current = model
            .tables
            .get(&partition_of.parent)
            .and_then(|t| t.partition_of.as_ref());
    }
    false
}

/// Partitioning is fixed at creation: a different kind, key or parent means a new table.
fn needs_recreate(old: &Table, new: &Table) -> bool {
    old.kind != new.kind
        || old.partition_key != new.partition_key
        || old.partition_of != new.partition_of
}

/// Indexes and comments of a table that is created whole (its columns and constraints are
/// part of `CREATE TABLE`).
fn push_new_table_extras(table: &Table, changes: &mut Vec<Change>) {
    for index in table.indexes.values() {
        changes.push(Change::AddIndex {
            table: table.name.clone(),
            index: index.clone(),
        });
    }
    push_comment_changes(&Table::empty_like(table), table, changes);
    push_replica_identity(&Table::empty_like(table), table, changes);
}

/// After the table's indexes and constraints (the plan orders it after the index it names).
fn push_replica_identity(old: &Table, new: &Table, changes: &mut Vec<Change>) {
    if old.replica_identity != new.replica_identity {
        changes.push(Change::SetReplicaIdentity {
            table: new.name.clone(),
            replica_identity: new.replica_identity.clone(),
        });
    }
}

fn diff_table(from: &Model, to: &Model, old: &Table, new: &Table, changes: &mut Vec<Change>) {
    let table = &new.name;
    super::inheritance::diff_parents(old, new, changes);
    if old.unlogged != new.unlogged {
        changes.push(Change::SetUnlogged {
            table: table.clone(),
            unlogged: new.unlogged,
        });
    }
    // A partition's own DEFAULT / NOT NULL on a column it inherits (both sides inherit it).
    for after in new.columns.iter().filter(|c| c.inherited) {
        let Some(before) = old.column(&after.name).filter(|c| c.inherited) else {
            continue;
        };
        // Without an override on either side the parent's own change reaches the partition.
        let own = before.overrides_parent || after.overrides_parent;
        // PostgreSQL 18: a partition's NOT NULL constraint keeps the name it had when it was
        // attached, where PARTITION OF gives it the parent's.
        let renamed = old.partition_of.is_some()
            && old.partition_of == new.partition_of
            && before.not_null
            && after.not_null
            && before.not_null_name.is_some()
            && after.not_null_name.is_some()
            && before.not_null_name != after.not_null_name;
        if renamed || own && (before.default != after.default || before.not_null != after.not_null)
        {
            // Only the partition's DEFAULT / NOT NULL: its type follows the parent's.
            let mut from = after.clone();
            from.default = before.default.clone();
            from.not_null = before.not_null;
            from.not_null_name = before.not_null_name.clone();
            changes.push(Change::AlterColumn {
                table: table.clone(),
                from,
                to: after.clone(),
            });
        }
    }
    let old_columns = super::inheritance::pairable_columns(old, from, new);
    let new_columns = super::inheritance::pairable_columns(new, to, old);
    for (_, before, after) in paired(&old_columns, &new_columns) {
        match (before, after) {
            (None, Some(column)) => changes.push(Change::AddColumn {
                table: table.clone(),
                column: (*column).clone(),
            }),
            (Some(column), None) => changes.push(Change::DropColumn {
                table: table.clone(),
                column: (*column).clone(),
            }),
            (Some(before), Some(after)) => {
                let differences = super::change::column_differences(before, after);
                // Inherited NOT NULL names are compared for partitions only (above).
                if differences
                    .iter()
                    .any(|d| *d != super::change::INHERITED_NOT_NULL_NAME)
                {
                    changes.push(Change::AlterColumn {
                        table: table.clone(),
                        from: (*before).clone(),
                        to: (*after).clone(),
                    });
                }
            }
            (None, None) => {}
        }
    }

    let (old_local, new_local) = super::inheritance::pairable_constraints(old, new, to);
    for (_, before, after) in paired(&old_local, &new_local) {
        match (before, after) {
            (None, Some(c)) => changes.push(Change::AddConstraint {
                table: table.clone(),
                constraint: c.clone(),
            }),
            (Some(c), None) => changes.push(Change::DropConstraint {
                table: table.clone(),
                constraint: c.clone(),
            }),
            (Some(before), Some(after)) => {
                let same_shape = before.definition == after.definition
                    && before.deferrable == after.deferrable
                    && before.initially_deferred == after.initially_deferred;
                if !same_shape {
                    changes.push(Change::DropConstraint {
                        table: table.clone(),
                        constraint: before.clone(),
                    });
                    changes.push(Change::AddConstraint {
                        table: table.clone(),
                        constraint: after.clone(),
                    });
                } else if !before.validated && after.validated {
                    changes.push(Change::ValidateConstraint {
                        table: table.clone(),
                        constraint: after.clone(),
                    });
                }
                // A validated live constraint satisfies a desired NOT VALID one: nothing to do.
            }
            (None, None) => {}
        }
    }

    for (_, before, after) in paired(&old.indexes, &new.indexes) {
        match (before, after) {
            (None, Some(index)) => changes.push(Change::AddIndex {
                table: table.clone(),
                index: index.clone(),
            }),
            (Some(index), None) => changes.push(Change::DropIndex {
                table: table.clone(),
                index: index.clone(),
            }),
            (Some(before), Some(after)) => {
                if before.definition != after.definition || !before.valid {
                    changes.push(Change::ReplaceIndex {
                        table: table.clone(),
                        from: before.clone(),
                        to: after.clone(),
                    });
                }
            }
            (None, None) => {}
        }
    }
    push_comment_changes(old, new, changes);
    push_replica_identity(old, new, changes);
}

/// Comment changes on the table and on everything in it that exists on the new side.
fn push_comment_changes(old: &Table, new: &Table, changes: &mut Vec<Change>) {
    let table = &new.name;
    let mut set = |target: ObjectId, before: Option<&String>, after: Option<&String>| {
        if before != after {
            changes.push(Change::SetComment {
                target,
                comment: after.cloned(),
            });
        }
    };
    set(
        ObjectId::table(table),
        old.comment.as_ref(),
        new.comment.as_ref(),
    );
    for column in &new.columns {
        let before = old.column(&column.name).and_then(|c| c.comment.as_ref());
        set(
            ObjectId::member(Kind::Column, table, &column.name),
            before,
            column.comment.as_ref(),
        );
    }
    for constraint in new.constraints.values().filter(|c| !c.inherited) {
        let before = old
            .constraints
            .get(&constraint.name)
            .and_then(|c| c.comment.as_ref());
        set(
            ObjectId::member(Kind::Constraint, table, &constraint.name),
            before,
            constraint.comment.as_ref(),
        );
    }
    for index in new.indexes.values() {
        let before = old
            .indexes
            .get(&index.name)
            .and_then(|i| i.comment.as_ref());
        set(
            ObjectId::member(Kind::Index, table, &index.name),
            before,
            index.comment.as_ref(),
        );
    }
}

impl Table {
    /// The same table with nothing in it: the "before" of a table that is being created.
    fn empty_like(table: &Table) -> Table {
        Table {
            name: table.name.clone(),
            kind: table.kind,
            unlogged: table.unlogged,
            partition_key: None,
            partition_of: None,
            inherits: Vec::new(),
            columns: Vec::new(),
            constraints: BTreeMap::new(),
            indexes: BTreeMap::new(),
            comment: None,
            replica_identity: Default::default(),
            stats: Default::default(),
        }
    }
}
