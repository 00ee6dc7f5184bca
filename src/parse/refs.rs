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

struct Walker<'a> {
    ctx: &'a Ctx,
    out: Vec<ObjectName>,
    roles: &'a mut BTreeSet<String>,
}

/// Strings of a serialised name list: `[{"node":{"String":{"sval":"x"}}}, ...]`.
fn json_names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.pointer("/node/String/sval").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Walker<'_> {
    fn reference(&mut self, parts: &[String], make: fn(QualifiedName) -> ObjectName) {
        match parts {
            [] => {}
            [name] => {
                for schema in self.ctx.lookup_schemas() {
                    self.out
                        .push(make(QualifiedName::new(schema, name.clone())));
                }
            }
            [.., schema, name] => {
                self.out.push(ObjectName::Schema(schema.clone()));
                self.out
                    .push(make(QualifiedName::new(schema.clone(), name.clone())));
            }
        }
    }

    fn walk(&mut self, v: &Value) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| self.walk(i)),
            Value::Object(map) => {
                if map.contains_key("relname") && map.contains_key("relpersistence") {
                    let schema = map.get("schemaname").and_then(Value::as_str).unwrap_or("");
                    let name = map.get("relname").and_then(Value::as_str).unwrap_or("");
                    let parts: Vec<String> = [schema, name]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                    self.reference(&parts, ObjectName::Relation);
                } else if map.contains_key("names") && map.contains_key("typemod") {
                    let pct = map.get("pct_type").and_then(Value::as_bool) == Some(true);
                    let names = json_names(&map["names"]);
                    let builtin = names.len() == 1 && is_builtin_type(&names[0]);
                    if !pct && !builtin {
                        self.reference(&names, ObjectName::Type);
                    }
                } else if map.contains_key("funcname") && map.contains_key("agg_star") {
                    self.reference(&json_names(&map["funcname"]), ObjectName::Function);
                } else if map.contains_key("objname") && map.contains_key("objargs") {
                    self.reference(&json_names(&map["objname"]), ObjectName::Function);
                } else if map.contains_key("rolename")
                    && map.get("roletype").and_then(Value::as_i64)
                        == Some(protobuf::RoleSpecType::RolespecCstring as i64)
                {
                    if let Some(name) = map.get("rolename").and_then(Value::as_str) {
                        add_role(self.roles, name);
                    }
                }
                map.values().for_each(|v| self.walk(v));
            }
            _ => {}
        }
    }

    /// References that are plain name lists or strings in the tree (not recognisable nodes).
    fn typed(&mut self, node: &NodeEnum) {
        match node {
            NodeEnum::CommentStmt(s) => {
                if let Some(obj) = s.object.as_ref().and_then(|o| o.node.as_ref()) {
                    self.object(s.objtype, obj);
                }
            }
            NodeEnum::AlterOwnerStmt(s) => {
                if let Some(obj) = s.object.as_ref().and_then(|o| o.node.as_ref()) {
                    self.object(s.object_type, obj);
                }
            }
            NodeEnum::AlterObjectSchemaStmt(s) => {
                if let Some(obj) = s.object.as_ref().and_then(|o| o.node.as_ref()) {
                    self.object(s.object_type, obj);
                }
                self.out.push(ObjectName::Schema(s.newschema.clone()));
            }
            NodeEnum::RenameStmt(s) => {
                if let Some(obj) = s.object.as_ref().and_then(|o| o.node.as_ref()) {
                    self.object(s.rename_type, obj);
                }
            }
            NodeEnum::SecLabelStmt(s) => {
                if let Some(obj) = s.object.as_ref().and_then(|o| o.node.as_ref()) {
                    self.object(s.objtype, obj);
                }
            }
            NodeEnum::GrantStmt(s) => self.grant(s),
            NodeEnum::AlterDefaultPrivilegesStmt(s) => {
                for opt in &s.options {
                    if let Some(NodeEnum::DefElem(d)) = opt.node.as_ref() {
                        if d.defname == "schemas" {
                            if let Some(NodeEnum::List(l)) =
                                d.arg.as_ref().and_then(|a| a.node.as_ref())
                            {
                                for schema in string_list(&l.items) {
                                    self.out.push(ObjectName::Schema(schema));
                                }
                            }
                        }
                    }
                }
            }
            NodeEnum::GrantRoleStmt(s) => {
                for r in &s.granted_roles {
                    if let Some(NodeEnum::AccessPriv(p)) = r.node.as_ref() {
                        add_role(self.roles, &p.priv_name);
                    }
                }
            }
            NodeEnum::CreateRoleStmt(s) => add_role(self.roles, &s.role),
            // `subtype_diff = public.f` parses as a type name; it names a function.
            NodeEnum::CreateRangeStmt(s) => {
                for opt in &s.params {
                    let Some(NodeEnum::DefElem(d)) = opt.node.as_ref() else {
                        continue;
                    };
                    if d.defname != "subtype_diff" && d.defname != "canonical" {
                        continue;
                    }
                    if let Some(NodeEnum::TypeName(t)) =
                        d.arg.as_ref().and_then(|a| a.node.as_ref())
                    {
                        self.reference(&string_list(&t.names), ObjectName::Function);
                    }
                }
            }
            NodeEnum::CreateSeqStmt(s) => self.owned_by(&s.options),
            NodeEnum::AlterSeqStmt(s) => self.owned_by(&s.options),
            NodeEnum::CreateTrigStmt(s) => {
                self.reference(&string_list(&s.funcname), ObjectName::Function)
            }
            NodeEnum::AlterEnumStmt(s) => {
                self.reference(&string_list(&s.type_name), ObjectName::Type)
            }
            NodeEnum::AlterDomainStmt(s) => {
                self.reference(&string_list(&s.type_name), ObjectName::Type)
            }
            NodeEnum::AlterTypeStmt(s) => {
                self.reference(&string_list(&s.type_name), ObjectName::Type)
            }
            NodeEnum::CreateExtensionStmt(s) => {
                for opt in &s.options {
                    if let Some(NodeEnum::DefElem(d)) = opt.node.as_ref() {
                        if d.defname == "schema" {
                            if let Some(schema) = d.arg.as_deref().and_then(sval) {
                                self.out.push(ObjectName::Schema(schema.to_string()));
                            }
                        }
                    }
                }
            }
            NodeEnum::CreateSchemaStmt(s) => {
                let inner = Ctx {
                    search_path: vec![schema_stmt_name(s)],
                };
                let mut w = Walker {
                    ctx: &inner,
                    out: Vec::new(),
                    roles: self.roles,
                };
                for elt in s.schema_elts.iter().filter_map(|n| n.node.as_ref()) {
                    w.typed(elt);
                }
                // The generic walk above already ran with the outer context; redo the
                // nested elements with the schema as their search path.
                if let Ok(v) = serde_json::to_value(&s.schema_elts) {
                    w.walk(&v);
                }
                let inner_out = w.out;
                self.out.extend(inner_out);
            }
            NodeEnum::CreateFunctionStmt(s) => self.sql_function_body(s),
            _ => {}
        }
    }

    /// The object of COMMENT ON / ALTER ... OWNER TO / SET SCHEMA / RENAME.
    fn object(&mut self, objtype: i32, obj: &NodeEnum) {
        let Ok(kind) = ObjectType::try_from(objtype) else {
            return;
        };
        let parts = match obj {
            NodeEnum::List(l) => string_list(&l.items),
            NodeEnum::String(s) => vec![s.sval.clone()],
            _ => return, // TypeName, ObjectWithArgs: the generic walk has them
        };
        use ObjectType as O;
        match kind {
            O::ObjectTable
            | O::ObjectView
            | O::ObjectMatview
            | O::ObjectSequence
            | O::ObjectIndex
            | O::ObjectForeignTable => self.reference(&parts, ObjectName::Relation),
            O::ObjectColumn
            | O::ObjectTabconstraint
            | O::ObjectTrigger
            | O::ObjectPolicy
            | O::ObjectRule
                if parts.len() >= 2 =>
            {
                self.reference(&parts[..parts.len() - 1], ObjectName::Relation)
            }
            O::ObjectType | O::ObjectDomain => self.reference(&parts, ObjectName::Type),
            O::ObjectSchema => self.out.push(ObjectName::Schema(parts[0].clone())),
            O::ObjectExtension => self.out.push(ObjectName::Extension(parts[0].clone())),
            _ => {}
        }
    }

    fn grant(&mut self, s: &protobuf::GrantStmt) {
        use ObjectType as O;
        let all_in_schema = s.targtype == protobuf::GrantTargetType::AclTargetAllInSchema as i32;
        for obj in s.objects.iter().filter_map(|o| o.node.as_ref()) {
            match obj {
                NodeEnum::String(name) if all_in_schema || s.objtype == O::ObjectSchema as i32 => {
                    self.out.push(ObjectName::Schema(name.sval.clone()))
                }
                NodeEnum::List(l)
                    if s.objtype == O::ObjectType as i32 || s.objtype == O::ObjectDomain as i32 =>
                {
                    self.reference(&string_list(&l.items), ObjectName::Type)
                }
                _ => {}
            }
        }
    }

    fn owned_by(&mut self, options: &[Node]) {
        for opt in options {
            if let Some(NodeEnum::DefElem(d)) = opt.node.as_ref() {
                if d.defname == "owned_by" {
                    if let Some(NodeEnum::List(l)) = d.arg.as_ref().and_then(|a| a.node.as_ref()) {
                        let parts = string_list(&l.items);
                        if parts.len() >= 2 {
                            self.reference(&parts[..parts.len() - 1], ObjectName::Relation);
                        }
                    }
                }
            }
        }
    }

    /// `LANGUAGE sql` functions with a string body: parse the body for what it refers to.
    /// (Bodies are not checked while loading, so this only helps the order.)
    fn sql_function_body(&mut self, s: &protobuf::CreateFunctionStmt) {
        let mut language = None;
        let mut body = None;
        for opt in &s.options {
            if let Some(NodeEnum::DefElem(d)) = opt.node.as_ref() {
                match (
                    d.defname.as_str(),
                    d.arg.as_ref().and_then(|a| a.node.as_ref()),
                ) {
                    ("language", Some(NodeEnum::String(l))) => language = Some(l.sval.clone()),
                    ("as", Some(NodeEnum::List(l))) if l.items.len() == 1 => {
                        body = sval(&l.items[0]).map(str::to_string)
                    }
                    _ => {}
                }
            }
        }
        if language.as_deref() != Some("sql") {
            return;
        }
        let Some(body) = body else { return };
        if let Ok(parsed) = pg_query::parse(&body, 0) {
            if let Ok(v) = serde_json::to_value(&parsed.protobuf) {
                self.walk(&v);
            }
        }
    }
}

fn add_role(roles: &mut BTreeSet<String>, name: &str) {
    let lower = name.to_ascii_lowercase();
    if !name.is_empty()
        && !matches!(
            lower.as_str(),
            "public" | "current_user" | "session_user" | "current_role"
        )
    {
        roles.insert(name.to_string());
    }
}

/// Types that an unqualified name finds in `pg_catalog` (which is searched first).
fn is_builtin_type(name: &str) -> bool {
    const BUILTIN: &[&str] = &[
        "bool",
        "boolean",
        "bytea",
        "char",
        "name",
        "int2",
        "int4",
        "int8",
        "int",
        "integer",
        "smallint",
        "bigint",
        "text",
        "oid",
        "json",
        "jsonb",
        "jsonpath",
        "xml",
        "float4",
        "float8",
        "real",
        "money",
        "macaddr",
        "macaddr8",
        "inet",
        "cidr",
        "bpchar",
        "varchar",
        "date",
        "time",
        "timetz",
        "timestamp",
        "timestamptz",
        "interval",
        "bit",
        "varbit",
        "numeric",
        "decimal",
        "uuid",
        "tsvector",
        "tsquery",
        "regclass",
        "regtype",
        "regproc",
        "regprocedure",
        "regoper",
        "regoperator",
        "regconfig",
        "regdictionary",
        "regnamespace",
        "regrole",
        "regcollation",
        "point",
        "line",
        "lseg",
        "box",
        "path",
        "polygon",
        "circle",
        "int4range",
        "int8range",
        "numrange",
        "tsrange",
        "tstzrange",
        "daterange",
        "int4multirange",
        "int8multirange",
        "nummultirange",
        "tsmultirange",
        "tstzmultirange",
        "datemultirange",
        "record",
        "void",
        "trigger",
        "event_trigger",
        "anyelement",
        "anyarray",
        "anynonarray",
        "anyenum",
        "anyrange",
        "anymultirange",
        "anycompatible",
        "anycompatiblearray",
        "anycompatiblenonarray",
        "anycompatiblerange",
        "anycompatiblemultirange",
        "cstring",
        "internal",
        "language_handler",
        "fdw_handler",
        "index_am_handler",
        "tsm_handler",
        "table_am_handler",
        "pg_lsn",
        "txid_snapshot",
        "pg_snapshot",
        "xid",
        "xid8",
        "cid",
        "tid",
        "serial",
        "serial2",
        "serial4",
        "serial8",
        "smallserial",
        "bigserial",
        "refcursor",
        "aclitem",
        "gtsvector",
        "unknown",
    ];
    BUILTIN.contains(&name)
}
