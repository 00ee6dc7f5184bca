//! The source text of the named CHECK constraints in the desired files. `pg_get_constraintdef`
//! is not a fixpoint: a `varchar IN (...)` list comes back as `(x)::text = ANY (ARRAY[...])`,
//! and that text, applied again, is stored differently from the original. Adding a constraint
//! from its source text makes the live database hold what the desired files would build.

use pg_query::protobuf::{self, ConstrType};
use pg_query::{DeparseOptions, NodeEnum};

use super::refs::{qualify_range_var, Ctx};
use crate::model::QualifiedName;

/// A named CHECK constraint as written in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckSource {
    pub table: QualifiedName,
    pub name: String,
    /// The expression, deparsed from the statement's parse tree (comments and layout gone).
    pub expression: String,
}

/// The named CHECK constraints `node` (a `CREATE TABLE` or `ALTER TABLE`) defines.
pub(crate) fn named_checks(node: &NodeEnum, ctx: &Ctx) -> Vec<CheckSource> {
    let mut out = Vec::new();
    let mut collect = |table: &QualifiedName, constraint: &protobuf::Constraint| {
        if constraint.contype != ConstrType::ConstrCheck as i32 || constraint.conname.is_empty() {
            return;
        }
        if let Some(expression) = constraint.raw_expr.as_deref().and_then(deparse_expression) {
            out.push(CheckSource {
                table: table.clone(),
                name: constraint.conname.clone(),
                expression,
            });
        }
    };
    match node {
        NodeEnum::CreateStmt(create) => {
            let Some(relation) = &create.relation else {
                return out;
            };
            let table = qualify_range_var(relation, ctx);
            for element in create.table_elts.iter().filter_map(|e| e.node.as_ref()) {
                match element {
                    NodeEnum::Constraint(c) => collect(&table, c),
                    NodeEnum::ColumnDef(column) => {
                        for c in column.constraints.iter().filter_map(|c| c.node.as_ref()) {
                            if let NodeEnum::Constraint(c) = c {
                                collect(&table, c);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        NodeEnum::AlterTableStmt(alter) => {
            let Some(relation) = &alter.relation else {
                return out;
            };
            let table = qualify_range_var(relation, ctx);
            for command in alter.cmds.iter().filter_map(|c| c.node.as_ref()) {
                if let NodeEnum::AlterTableCmd(command) = command {
                    if let Some(NodeEnum::Constraint(c)) =
                        command.def.as_deref().and_then(|d| d.node.as_ref())
                    {
                        collect(&table, c);
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// An expression as text, by deparsing `SELECT <expression>`.
pub(crate) fn deparse_expression(expression: &protobuf::Node) -> Option<String> {
    let target = protobuf::Node {
        node: Some(NodeEnum::ResTarget(Box::new(protobuf::ResTarget {
            val: Some(Box::new(expression.clone())),
            ..Default::default()
        }))),
    };
    let select = protobuf::SelectStmt {
        target_list: vec![target],
        op: protobuf::SetOperation::SetopNone as i32,
        limit_option: protobuf::LimitOption::Default as i32,
        ..Default::default()
    };
    let text = NodeEnum::SelectStmt(Box::new(select))
        .deparse(DeparseOptions::default())
        .ok()?;
    text.strip_prefix("SELECT ").map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(sql: &str) -> Vec<(String, String, String)> {
        let parsed = pg_query::parse(sql, 0).unwrap();
        parsed
            .protobuf
            .stmts
            .iter()
            .filter_map(|s| s.stmt.as_ref()?.node.as_ref())
            .flat_map(|node| named_checks(node, &Ctx::new()))
            .map(|c| (c.table.to_string(), c.name, c.expression))
            .collect()
    }

    #[test]
    fn table_column_and_alter_table_checks() {
        assert_eq!(
            checks(
                "CREATE TABLE app.orders (
                    status varchar(10) CONSTRAINT valid_status CHECK (status IN ('a', 'b')),
                    amount numeric CHECK (amount > 0), -- unnamed: PostgreSQL names it
                    CONSTRAINT \"Big\" CHECK (amount < /* comment */ 1000)
                 );
                 ALTER TABLE orders ADD CONSTRAINT recent CHECK (amount::int <> 7) NOT VALID;"
            ),
            [
                (
                    "app.orders".to_string(),
                    "valid_status".to_string(),
                    "status IN ('a', 'b')".to_string()
                ),
                ("app.orders".into(), "Big".into(), "amount < 1000".into()),
                (
                    "public.orders".into(),
                    "recent".into(),
                    "amount::int <> 7".into()
                ),
            ]
        );
    }
}
