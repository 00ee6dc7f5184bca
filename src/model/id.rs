//! One identity for the object kinds beyond the table layer (views, routines, triggers), and
//! for what they depend on: what diff pairs by, what comments and hazards name, and what the
//! planner orders by.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::{Aggregate, Policy, QualifiedName, Routine, Trigger, View};
use crate::sql::quote_ident;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Table,
    /// A column of a table or view (`member` is the column).
    Column,
    Type,
    View,
    MaterializedView,
    Function,
    Procedure,
    /// An aggregate (`args` are its argument types, like a routine's).
    Aggregate,
    /// A trigger (`name` is its table, `member` the trigger).
    Trigger,
    /// A row-level security policy (`name` is its table, `member` the policy).
    Policy,
    /// A schema (`schema` and `name` are both its name).
    Schema,
    Sequence,
    /// An extension (`schema` and `name` are both its name: extensions are not in a schema).
    Extension,
    Collation,
    Domain,
    /// `ALTER DEFAULT PRIVILEGES`: `name` is its scope, e.g. `for role app in schema public
    /// on tables` (`schema` empty).
    DefaultPrivileges,
    /// An event trigger (`schema` and `name` are both its name: database-wide).
    EventTrigger,
    /// A table's constraint (`name` is its table, `member` the constraint): what a comment
    /// on it names.
    Constraint,
    /// An index of a table or materialized view (`name` is its relation, `member` the index,
    /// which lives in the relation's schema): what a comment on it names.
    Index,
}

impl Kind {
    /// The words SQL uses for the kind (`COMMENT ON <words> ...`, `DROP <words> ...`).
    pub fn sql(self) -> &'static str {
        match self {
            Kind::Table => "TABLE",
            Kind::Column => "COLUMN",
            Kind::Type => "TYPE",
            Kind::View => "VIEW",
            Kind::MaterializedView => "MATERIALIZED VIEW",
            Kind::Function => "FUNCTION",
            Kind::Procedure => "PROCEDURE",
            Kind::Aggregate => "AGGREGATE",
            Kind::Trigger => "TRIGGER",
            Kind::Policy => "POLICY",
            Kind::Schema => "SCHEMA",
            Kind::Sequence => "SEQUENCE",
            Kind::Extension => "EXTENSION",
            Kind::Collation => "COLLATION",
            Kind::Domain => "DOMAIN",
            Kind::DefaultPrivileges => "DEFAULT PRIVILEGES",
            Kind::EventTrigger => "EVENT TRIGGER",
            Kind::Constraint => "CONSTRAINT",
            Kind::Index => "INDEX",
        }
    }

    /// Relations share one namespace per schema (`pg_class`).
    pub fn is_relation(self) -> bool {
        matches!(self, Kind::Table | Kind::View | Kind::MaterializedView)
    }
}

impl fmt::Display for Kind {
    /// `materialized view`, `function`, `default privileges`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sql().to_lowercase())
    }
}

/// `kind` + schema-qualified `name` (+ argument types of a routine, + the column or trigger
/// inside a relation).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectId {
    pub kind: Kind,
    pub schema: String,
    pub name: String,
    /// A routine's input argument types (`oidvectortypes(proargtypes)`, e.g. `integer, text`):
    /// what tells overloads apart. Parameter names are not part of the identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<String>,
    /// A column's or trigger's own name (`name` is its relation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

impl ObjectId {
    pub fn new(kind: Kind, schema: impl Into<String>, name: impl Into<String>) -> Self {
        ObjectId {
            kind,
            schema: schema.into(),
            name: name.into(),
            args: None,
            member: None,
        }
    }

    pub fn routine(kind: Kind, name: &QualifiedName, args: impl Into<String>) -> Self {
        ObjectId {
            args: Some(args.into()),
            ..ObjectId::new(kind, name.schema.clone(), name.name.clone())
        }
    }

    pub fn schema(name: impl Into<String>) -> Self {
        let name = name.into();
        ObjectId::new(Kind::Schema, name.clone(), name)
    }

    pub fn extension(name: impl Into<String>) -> Self {
        let name = name.into();
        ObjectId::new(Kind::Extension, name.clone(), name)
    }

    pub fn event_trigger(name: impl Into<String>) -> Self {
        let name = name.into();
        ObjectId::new(Kind::EventTrigger, name.clone(), name)
    }

    /// An object of `kind` named by its schema-qualified name (a table, type, domain, ...).
    pub fn named(kind: Kind, name: &QualifiedName) -> Self {
        ObjectId::new(kind, name.schema.clone(), name.name.clone())
    }

    pub fn table(name: &QualifiedName) -> Self {
        ObjectId::named(Kind::Table, name)
    }

    /// Default privileges of one scope (see [`Kind::DefaultPrivileges`]).
    pub fn default_privileges(scope: impl Into<String>) -> Self {
        ObjectId::new(Kind::DefaultPrivileges, String::new(), scope)
    }

    /// The top-level object this one is shown under in `zdm diff`. A column (of a view's
    /// comment, a column grant) is grouped as a table under its own name, as it always was.
    pub fn group(&self) -> ObjectId {
        match self.kind {
            Kind::Column => ObjectId {
                kind: Kind::Table,
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// The kind and the name, e.g. `materialized view public.totals`.
    pub fn label(&self) -> String {
        format!("{} {self}", self.kind)
    }

    /// A column or trigger of relation `relation`.
    pub fn member(kind: Kind, relation: &QualifiedName, member: impl Into<String>) -> Self {
        ObjectId {
            member: Some(member.into()),
            ..ObjectId::new(kind, relation.schema.clone(), relation.name.clone())
        }
    }

    /// An index's own schema-qualified name (it lives in its relation's schema).
    pub fn index_name(&self) -> QualifiedName {
        QualifiedName::new(self.schema.clone(), self.member.clone().unwrap_or_default())
    }

    /// The schema-qualified name (for a column or trigger: its relation's).
    pub fn qualified(&self) -> QualifiedName {
        QualifiedName::new(self.schema.clone(), self.name.clone())
    }

    /// The object clause of `COMMENT ON` / `DROP`: `VIEW public.v`,
    /// `FUNCTION public.f(integer)`, `TRIGGER t ON public.orders`, `COLUMN public.v.c`.
    pub fn sql(&self) -> String {
        match self.kind {
            Kind::Trigger | Kind::Policy | Kind::Constraint => format!(
                "{} {} ON {}",
                self.kind.sql(),
                quote_ident(self.member.as_deref().unwrap_or_default()),
                self.qualified()
            ),
            // `AGGREGATE name()` is a syntax error: a zero-argument aggregate is `name(*)`.
            // (An ordered-set aggregate's argument types may be run together without its
            // `ORDER BY`: PostgreSQL finds it by the flat list.)
            Kind::Aggregate if self.args.as_deref() == Some("") => {
                format!("AGGREGATE {}(*)", self.qualified())
            }
            Kind::Index => format!("INDEX {}", self.index_name()),
            _ => format!("{} {self}", self.kind.sql()),
        }
    }
}

impl fmt::Display for ObjectId {
    /// `public.v`, `public.f(integer, text)`, `public.orders.audit`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Schema => return f.write_str(&quote_ident(&self.schema)),
            Kind::Extension | Kind::EventTrigger => return f.write_str(&quote_ident(&self.name)),
            Kind::DefaultPrivileges => return f.write_str(&self.name),
            _ => {}
        }
        write!(f, "{}", self.qualified())?;
        if let Some(args) = &self.args {
            write!(f, "({args})")?;
        }
        if let Some(member) = &self.member {
            write!(f, ".{}", quote_ident(member))?;
        }
        Ok(())
    }
}

/// `dependent` needs `referenced` (a `pg_depend` edge, or a trigger's table and function).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Dependency {
    pub dependent: ObjectId,
    pub referenced: ObjectId,
}

/// One object of the kinds diffed by identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Object {
    View(View),
    Routine(Routine),
    Aggregate(Aggregate),
    Trigger(Trigger),
    Policy(Policy),
}

impl Object {
    pub fn id(&self) -> &ObjectId {
        match self {
            Object::View(v) => &v.id,
            Object::Routine(r) => &r.id,
            Object::Aggregate(a) => &a.id,
            Object::Trigger(t) => &t.id,
            Object::Policy(p) => &p.id,
        }
    }

    pub fn comment(&self) -> Option<&str> {
        match self {
            Object::View(v) => v.comment.as_deref(),
            Object::Routine(r) => r.comment.as_deref(),
            Object::Aggregate(a) => a.comment.as_deref(),
            Object::Trigger(t) => t.comment.as_deref(),
            Object::Policy(p) => p.comment.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `COMMENT ON` clause of every target a comment change can have (the text that
    /// `diff::CommentTarget` spelt before).
    #[test]
    fn comment_targets_are_spelt_as_postgresql_takes_them() {
        let t = QualifiedName::new("app", "Orders");
        let cases = [
            (ObjectId::schema("My App"), "SCHEMA \"My App\""),
            (ObjectId::named(Kind::Type, &t), "TYPE app.\"Orders\""),
            (
                ObjectId::named(Kind::Sequence, &t),
                "SEQUENCE app.\"Orders\"",
            ),
            (ObjectId::table(&t), "TABLE app.\"Orders\""),
            (
                ObjectId::member(Kind::Column, &t, "Total"),
                "COLUMN app.\"Orders\".\"Total\"",
            ),
            (
                ObjectId::member(Kind::Constraint, &t, "orders_pkey"),
                "CONSTRAINT orders_pkey ON app.\"Orders\"",
            ),
            (
                ObjectId::member(Kind::Index, &t, "Orders by day"),
                "INDEX app.\"Orders by day\"",
            ),
        ];
        for (id, sql) in cases {
            assert_eq!(id.sql(), sql, "{id:?}");
        }
    }

    #[test]
    fn labels_name_the_kind_and_the_object_as_zdm_diff_shows_them() {
        let orders = QualifiedName::new("public", "Orders");
        let cases = [
            (ObjectId::schema("app"), "schema app"),
            (ObjectId::extension("pg trgm"), "extension \"pg trgm\""),
            (ObjectId::table(&orders), "table public.\"Orders\""),
            (
                ObjectId::named(Kind::MaterializedView, &orders),
                "materialized view public.\"Orders\"",
            ),
            (
                ObjectId::member(Kind::Trigger, &orders, "audit"),
                "trigger public.\"Orders\".audit",
            ),
            (
                ObjectId::member(Kind::Column, &orders, "id").group(),
                "table public.\"Orders\".id",
            ),
            (
                ObjectId::default_privileges("for role app on tables"),
                "default privileges for role app on tables",
            ),
        ];
        for (id, label) in cases {
            assert_eq!(id.label(), label, "{id:?}");
        }
    }
}
