//! What a hand-written migration means beyond the schema it ends with, for `--rewrite`: the
//! renames (a diff of the end state alone would see a drop and an add, and lose the data), the
//! `USING` of a type change, and the `UPDATE ... SET new_column = expression` that fills a
//! column the migration adds (zdm's backfill: a sync trigger, then batches). Read from
//! pg_query's tree, like [`super::summary`].

use pg_query::protobuf::{self, AlterTableType, ObjectType};
use pg_query::NodeEnum;

use crate::model::{Model, QualifiedName};
use crate::parse::{deparse_expression, MigrationStatement};
use crate::plan::Transform;

/// The transformations the plan needs, and the statements it cannot carry (row changes that
/// are not a backfill of a new column), by byte offset with what to tell about each.
#[derive(Debug, Default)]
pub struct Intent {
    pub transforms: Vec<Transform>,
    pub not_carried: Vec<(usize, String)>,
}

/// A table as the migration goes: its name before the migration and now.
struct Renamed {
    original: QualifiedName,
    current: QualifiedName,
    /// (original column, current column).
    columns: Vec<(String, String)>,
}

#[derive(Default)]
struct Tracker {
    tables: Vec<Renamed>,
    /// (original table, current column, expression).
    backfills: Vec<(QualifiedName, String, String)>,
    usings: Vec<(QualifiedName, String, String)>,
}

impl Tracker {
    fn table(&mut self, current: QualifiedName) -> &mut Renamed {
        let at = match self.tables.iter().position(|t| t.current == current) {
            Some(at) => at,
            None => {
                self.tables.push(Renamed {
                    original: current.clone(),
                    current,
                    columns: Vec::new(),
                });
                self.tables.len() - 1
            }
        };
        &mut self.tables[at]
    }

    fn rename_column(&mut self, table: QualifiedName, from: &str, to: &str) {
        let table = self.table(table);
        match table.columns.iter_mut().find(|(_, now)| now == from) {
            Some((_, now)) => *now = to.to_string(),
            None => table.columns.push((from.to_string(), to.to_string())),
        }
    }

    /// The table's and a column's names after the whole migration.
    fn final_names(&self, original: &QualifiedName, column: &str) -> (QualifiedName, String) {
        let table = self.tables.iter().find(|t| &t.original == original);
        let name = table.map_or_else(|| original.clone(), |t| t.current.clone());
        let column = table
            .and_then(|t| t.columns.iter().find(|(_, now)| now == column))
            .map_or(column.to_string(), |(_, now)| now.clone());
        (name, column)
    }

    fn into_transforms(self) -> Vec<Transform> {
        let mut out = Vec::new();
        for t in &self.tables {
            if t.original != t.current {
                out.push(Transform::RenameTable {
                    table: t.current.clone(),
                    from: t.original.clone(),
                });
            }
            for (from, now) in t.columns.iter().filter(|(from, now)| from != now) {
                out.push(Transform::RenameColumn {
                    table: t.current.clone(),
                    column: now.clone(),
                    from: from.clone(),
                });
            }
        }
        for (table, column, expression) in &self.backfills {
            let (table, column) = self.final_names(table, column);
            out.push(Transform::Backfill {
                table,
                column,
                expression: expression.clone(),
            });
        }
        for (table, column, expression) in &self.usings {
            let (table, column) = self.final_names(table, column);
            out.push(Transform::UsingType {
                table,
                column,
                expression: expression.clone(),
            });
        }
        out
    }
}

/// The intent of `statements`, unqualified names taken in `default_schema`; `start` is the
/// schema before the migration (an UPDATE of a column it already has is a row change, not a
/// backfill).
pub fn intent(statements: &[MigrationStatement], default_schema: &str, start: &Model) -> Intent {
    let mut tracker = Tracker::default();
    let mut not_carried = Vec::new();
    let name = |r: &protobuf::RangeVar| {
        let schema = if r.schemaname.is_empty() {
            default_schema
        } else {
            &r.schemaname
        };
        QualifiedName::new(schema, r.relname.clone())
    };
    for statement in statements {
        match &statement.node {
            NodeEnum::RenameStmt(r) => {
                let Some(relation) = r.relation.as_ref() else {
                    continue;
                };
                let table = name(relation);
                match ObjectType::try_from(r.rename_type) {
                    Ok(ObjectType::ObjectColumn) => {
                        tracker.rename_column(table, &r.subname, &r.newname)
                    }
                    Ok(ObjectType::ObjectTable) => {
                        let renamed = QualifiedName::new(table.schema.clone(), r.newname.clone());
                        tracker.table(table).current = renamed;
                    }
                    _ => {}
                }
            }
            NodeEnum::AlterTableStmt(a) => {
                let Some(relation) = a.relation.as_ref() else {
                    continue;
                };
                let table = name(relation);
                for (column, expression) in usings(a) {
                    let original = tracker.table(table.clone()).original.clone();
                    tracker.usings.push((original, column, expression));
                }
            }
            NodeEnum::UpdateStmt(u) => {
                let Some(relation) = u.relation.as_ref() else {
                    continue;
                };
                let table = name(relation);
                let original = tracker.table(table.clone()).original.clone();
                let existing = |column: &str| {
                    start
                        .tables
                        .get(&original)
                        .is_some_and(|t| t.columns.iter().any(|c| c.name == column))
                };
                match backfills(u) {
                    Some(sets) if sets.iter().all(|(c, _)| !existing(c)) => {
                        for (column, expression) in sets {
                            tracker
                                .backfills
                                .push((original.clone(), column, expression));
                        }
                    }
                    _ => not_carried.push((
                        statement.start,
                        format!(
                            "this UPDATE of {table} changes rows the schema plan does not carry; run it yourself, in batches, after expand"
                        ),
                    )),
                }
            }
            NodeEnum::InsertStmt(_) | NodeEnum::DeleteStmt(_) => not_carried.push((
                statement.start,
                "this statement changes rows, which the schema plan does not carry; run it yourself after expand".to_string(),
            )),
            _ => {}
        }
    }
    Intent {
        transforms: tracker.into_transforms(),
        not_carried,
    }
}

/// `ALTER COLUMN c TYPE t USING expression`: (column, expression).
fn usings(a: &protobuf::AlterTableStmt) -> Vec<(String, String)> {
    a.cmds
        .iter()
        .filter_map(|c| match c.node.as_ref() {
            Some(NodeEnum::AlterTableCmd(cmd))
                if cmd.subtype == AlterTableType::AtAlterColumnType as i32 =>
            {
                match cmd.def.as_deref().and_then(|d| d.node.as_ref()) {
                    Some(NodeEnum::ColumnDef(def)) => def
                        .raw_default
                        .as_deref()
                        .and_then(deparse_expression)
                        .map(|e| (cmd.name.clone(), e)),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

/// `UPDATE t SET c = expression [, ...]` over every row, or over the rows where the one
/// column set is still NULL: (column, expression) each. None for any other UPDATE.
fn backfills(u: &protobuf::UpdateStmt) -> Option<Vec<(String, String)>> {
    if !u.from_clause.is_empty() || u.returning_clause.is_some() {
        return None;
    }
    let sets: Vec<(String, String)> = u
        .target_list
        .iter()
        .map(|t| match t.node.as_ref() {
            Some(NodeEnum::ResTarget(r)) if r.indirection.is_empty() => Some((
                r.name.clone(),
                r.val.as_deref().and_then(deparse_expression)?,
            )),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let only_nulls = |column: &str| match u.where_clause.as_deref().and_then(|w| w.node.as_ref()) {
        Some(NodeEnum::NullTest(t)) if t.nulltesttype == protobuf::NullTestType::IsNull as i32 => {
            matches!(
                t.arg.as_deref().and_then(|a| a.node.as_ref()),
                Some(NodeEnum::ColumnRef(r)) if r.fields.last().and_then(|f| f.node.as_ref())
                    == Some(&NodeEnum::String(protobuf::String { sval: column.to_string() }))
            )
        }
        _ => false,
    };
    match (&u.where_clause, sets.as_slice()) {
        (None, _) => Some(sets),
        (Some(_), [(column, _)]) if only_nulls(column) => Some(sets),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transforms(sql: &str) -> Vec<Transform> {
        let statements = crate::parse::migration_statements(sql).unwrap();
        intent(&statements, "public", &Model::default()).transforms
    }

    #[test]
    fn renames_follow_the_table_through_the_migration() {
        let found = transforms(
            "ALTER TABLE users RENAME COLUMN name TO full_name;\n\
             ALTER TABLE users RENAME TO people;\n\
             ALTER TABLE people RENAME COLUMN full_name TO display_name;",
        );
        let people = QualifiedName::new("public", "people");
        assert_eq!(
            found,
            [
                Transform::RenameTable {
                    table: people.clone(),
                    from: QualifiedName::new("public", "users"),
                },
                Transform::RenameColumn {
                    table: people,
                    column: "display_name".into(),
                    from: "name".into(),
                },
            ]
        );
    }

    #[test]
    fn update_of_a_new_column_is_a_backfill_and_using_is_kept() {
        let found = transforms(
            "ALTER TABLE users ADD COLUMN display_name text;\n\
             UPDATE users SET display_name = concat(first_name, ' ', last_name) WHERE display_name IS NULL;\n\
             ALTER TABLE orders ALTER COLUMN amount TYPE bigint USING amount::bigint;",
        );
        assert_eq!(
            found,
            [
                Transform::Backfill {
                    table: QualifiedName::new("public", "users"),
                    column: "display_name".into(),
                    expression: "concat(first_name, ' ', last_name)".into(),
                },
                Transform::UsingType {
                    table: QualifiedName::new("public", "orders"),
                    column: "amount".into(),
                    expression: "amount::bigint".into(),
                },
            ]
        );
    }

    #[test]
    fn other_row_changes_are_not_carried() {
        let statements = crate::parse::migration_statements(
            "UPDATE users SET a = 1 WHERE id = 7;\nDELETE FROM users;",
        )
        .unwrap();
        let found = intent(&statements, "public", &Model::default());
        assert!(found.transforms.is_empty());
        assert_eq!(found.not_carried.len(), 2);
    }
}
