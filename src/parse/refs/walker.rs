//! The walk behind `requires`: every name a statement refers to, found by the shape of the
//! nodes in the tree's serde serialisation (which reaches fields `pg_query`'s `nodes()` skips),
//! plus the roles it names.

use std::collections::BTreeSet;

use pg_query::protobuf::{self, ObjectType};
use pg_query::{Node, NodeEnum};
use serde_json::Value;

use super::{schema_stmt_name, string_list, sval, Ctx};
use crate::model::QualifiedName;
use crate::parse::ObjectName;

pub(super) struct Walker<'a> {
    pub(super) ctx: &'a Ctx,
    pub(super) out: Vec<ObjectName>,
    pub(super) roles: &'a mut BTreeSet<String>,
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

    pub(super) fn walk(&mut self, v: &Value) {
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
    pub(super) fn typed(&mut self, node: &NodeEnum) {
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
            NodeEnum::CreateEventTrigStmt(s) => {
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
