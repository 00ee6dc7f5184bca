//! What each statement provides (creates) and requires (refers to), for load ordering, and the
//! roles it names.
//!
//! `provides` comes from a typed look at the statement. `requires` comes from a walk over the
//! *whole* tree: `pg_query`'s own `nodes()` only visits the node types it needs for its table
//! lists (it skips column definitions, constraints, type names, ...), so the walk goes over the
//! tree's serde serialisation instead, which reaches every field. Nodes are recognised by their
//! shape (a `RangeVar` is the object with `relname` and `relpersistence`, and so on).

use std::collections::BTreeSet;

use pg_query::protobuf::{self, ObjectType};
use pg_query::{Node, NodeEnum};
use serde_json::Value;

mod walker;

use walker::Walker;

use super::ObjectName;
use crate::model::QualifiedName;

/// Name-resolution context: the `search_path` in effect (from the file's preceding `SET`s).
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub search_path: Vec<String>,
}

impl Ctx {
    pub fn new() -> Self {
        Ctx {
            search_path: vec!["public".into()],
        }
    }

    /// The schema unqualified new objects go to.
    pub fn creation_schema(&self) -> String {
        self.search_path
            .first()
            .cloned()
            .unwrap_or_else(|| "public".into())
    }

    /// Schemas an unqualified reference may resolve to (every schema of the path).
    fn lookup_schemas(&self) -> Vec<String> {
        if self.search_path.is_empty() {
            vec!["public".into()]
        } else {
            self.search_path.clone()
        }
    }

    fn qualify(&self, schema: Option<&str>, name: &str) -> QualifiedName {
        match schema {
            Some(s) if !s.is_empty() => QualifiedName::new(s, name),
            _ => QualifiedName::new(self.creation_schema(), name),
        }
    }
}

/// The sval of a `String` node.
pub(crate) fn sval(node: &Node) -> Option<&str> {
    match node.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(&s.sval),
        _ => None,
    }
}

/// The strings of a name list (`[schema,] name`).
pub(crate) fn string_list(nodes: &[Node]) -> Vec<String> {
    nodes.iter().filter_map(sval).map(str::to_string).collect()
}

/// `[.., schema, name]` -> qualified name.
fn qualified_from_parts(parts: &[String], ctx: &Ctx) -> Option<QualifiedName> {
    match parts {
        [] => None,
        [name] => Some(ctx.qualify(None, name)),
        [.., schema, name] => Some(ctx.qualify(Some(schema), name)),
    }
}

pub(crate) fn qualify_range_var(rv: &protobuf::RangeVar, ctx: &Ctx) -> QualifiedName {
    ctx.qualify(Some(&rv.schemaname), &rv.relname)
}

/// Objects a statement creates.
pub(crate) fn provides(node: &NodeEnum, ctx: &Ctx) -> Vec<ObjectName> {
    let mut out = Vec::new();
    let rel = |out: &mut Vec<ObjectName>, q: QualifiedName, with_type: bool| {
        if with_type {
            out.push(ObjectName::Type(q.clone()));
        }
        out.push(ObjectName::Relation(q));
    };
    match node {
        NodeEnum::CreateStmt(s) => create_stmt_provides(s, ctx, &mut out),
        NodeEnum::CreateForeignTableStmt(s) => {
            if let Some(base) = &s.base_stmt {
                create_stmt_provides(base, ctx, &mut out);
            }
        }
        NodeEnum::CreateTableAsStmt(s) => {
            if let Some(rv) = s.into.as_ref().and_then(|i| i.rel.as_ref()) {
                rel(&mut out, qualify_range_var(rv, ctx), true);
            }
        }
        NodeEnum::ViewStmt(s) => {
            if let Some(rv) = &s.view {
                rel(&mut out, qualify_range_var(rv, ctx), true);
            }
        }
        NodeEnum::CreateSeqStmt(s) => {
            if let Some(rv) = &s.sequence {
                rel(&mut out, qualify_range_var(rv, ctx), false);
            }
        }
        NodeEnum::IndexStmt(s) => {
            if let (false, Some(rv)) = (s.idxname.is_empty(), &s.relation) {
                let table = qualify_range_var(rv, ctx);
                rel(
                    &mut out,
                    QualifiedName::new(table.schema, s.idxname.clone()),
                    false,
                );
            }
        }
        NodeEnum::CompositeTypeStmt(s) => {
            if let Some(rv) = &s.typevar {
                rel(&mut out, qualify_range_var(rv, ctx), true);
            }
        }
        NodeEnum::CreateEnumStmt(s) => type_from(&s.type_name, ctx, &mut out),
        NodeEnum::CreateRangeStmt(s) => type_from(&s.type_name, ctx, &mut out),
        NodeEnum::CreateDomainStmt(s) => type_from(&s.domainname, ctx, &mut out),
        NodeEnum::DefineStmt(s) => {
            let parts = string_list(&s.defnames);
            if let Some(q) = qualified_from_parts(&parts, ctx) {
                if s.kind == ObjectType::ObjectType as i32 {
                    out.push(ObjectName::Type(q));
                } else if s.kind == ObjectType::ObjectAggregate as i32 {
                    out.push(ObjectName::Function(q));
                }
            }
        }
        NodeEnum::CreateFunctionStmt(s) => {
            if let Some(q) = qualified_from_parts(&string_list(&s.funcname), ctx) {
                out.push(ObjectName::Function(q));
            }
        }
        NodeEnum::CreateSchemaStmt(s) => {
            let name = schema_stmt_name(s);
            if !name.is_empty() {
                out.push(ObjectName::Schema(name.clone()));
                let inner = Ctx {
                    search_path: vec![name],
                };
                for elt in s.schema_elts.iter().filter_map(|n| n.node.as_ref()) {
                    out.extend(provides(elt, &inner));
                }
            }
        }
        NodeEnum::CreateExtensionStmt(s) => out.push(ObjectName::Extension(s.extname.clone())),
        _ => {}
    }
    out
}

pub(crate) fn schema_stmt_name(s: &protobuf::CreateSchemaStmt) -> String {
    if s.schemaname.is_empty() {
        s.authrole
            .as_ref()
            .map(|r| r.rolename.clone())
            .unwrap_or_default()
    } else {
        s.schemaname.clone()
    }
}

fn type_from(names: &[Node], ctx: &Ctx, out: &mut Vec<ObjectName>) {
    if let Some(q) = qualified_from_parts(&string_list(names), ctx) {
        out.push(ObjectName::Type(q));
    }
}

fn create_stmt_provides(s: &protobuf::CreateStmt, ctx: &Ctx, out: &mut Vec<ObjectName>) {
    let Some(rv) = &s.relation else { return };
    let table = qualify_range_var(rv, ctx);
    out.push(ObjectName::Relation(table.clone()));
    out.push(ObjectName::Type(table.clone()));
    // Implicit sequences of serial and identity columns (`<table>_<column>_seq`).
    for elt in &s.table_elts {
        if let Some(NodeEnum::ColumnDef(c)) = elt.node.as_ref() {
            let serial = c.type_name.as_ref().is_some_and(|t| {
                let names = string_list(&t.names);
                names.len() == 1
                    && matches!(
                        names[0].as_str(),
                        "serial" | "serial2" | "serial4" | "serial8" | "smallserial" | "bigserial"
                    )
            });
            let identity = c.constraints.iter().any(|n| {
                matches!(n.node.as_ref(), Some(NodeEnum::Constraint(k))
                    if k.contype == protobuf::ConstrType::ConstrIdentity as i32)
            });
            if serial || identity {
                out.push(ObjectName::Relation(QualifiedName::new(
                    table.schema.clone(),
                    format!("{}_{}_seq", table.name, c.colname),
                )));
            }
        }
    }
}

/// Objects a statement refers to, and roles it names.
pub(crate) fn requires(
    node: &NodeEnum,
    json: &Value,
    ctx: &Ctx,
    roles: &mut BTreeSet<String>,
) -> Vec<ObjectName> {
    let mut w = Walker {
        ctx,
        out: Vec::new(),
        roles,
    };
    w.walk(json);
    w.typed(node);
    let mut out = w.out;
    // The schemas of everything the statement creates.
    for p in provides(node, ctx) {
        if let Some(schema) = p.schema() {
            out.push(ObjectName::Schema(schema.to_string()));
        }
    }
    out.retain(|o| match o {
        ObjectName::Schema(s) => !is_system_schema(s),
        other => other.schema().is_none_or(|s| !is_system_schema(s)),
    });
    let provided: BTreeSet<ObjectName> = provides(node, ctx).into_iter().collect();
    let mut seen = BTreeSet::new();
    out.retain(|o| !provided.contains(o) && seen.insert(o.clone()));
    out
}

fn is_system_schema(s: &str) -> bool {
    s == "pg_catalog" || s == "information_schema"
}
