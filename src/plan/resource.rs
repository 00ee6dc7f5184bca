//! The objects steps create, use and drop: the vertices that order steps in the graph.

use crate::model::{Column, Kind, Model, ObjectId, QualifiedName, Table};
use std::fmt;

/// Something in the database a step can depend on.
///
/// Tables, sequences and indexes share one namespace per schema in PostgreSQL (`pg_class`), so
/// they are all `Relation`s: a new index cannot take a name until the old table of that name is
/// gone, and the graph sees that.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Resource {
    Schema(String),
    Extension(String),
    Type(QualifiedName),
    Collation(QualifiedName),
    Relation(QualifiedName),
    Column(QualifiedName, String),
    Constraint(QualifiedName, String),
    /// A CHECK or foreign key once validated (`INHERIT` needs the parent's CHECKs validated
    /// on the child).
    Validated(QualifiedName, String),
    /// A column's NOT NULL flag (a primary key needs it before it can use an index).
    NotNull(QualifiedName, String),
    /// A function or procedure (overloads are different routines).
    Routine(ObjectId),
    Trigger(ObjectId),
    Policy(ObjectId),
    /// An event trigger, by name (database-wide).
    EventTrigger(String),
    /// What `ALTER DEFAULT PRIVILEGES` sets: objects created after it get those grants.
    DefaultPrivileges,
}

impl Resource {
    /// The resource an object (or what it depends on) is in the graph. Views are relations:
    /// they share the namespace of tables, sequences and indexes.
    pub fn of(id: &ObjectId) -> Resource {
        match id.kind {
            Kind::Table | Kind::View | Kind::MaterializedView | Kind::Sequence => {
                Resource::Relation(id.qualified())
            }
            Kind::Schema => Resource::Schema(id.schema.clone()),
            Kind::Column => Resource::Column(id.qualified(), id.member.clone().unwrap_or_default()),
            // A domain is a type: what uses it names it as one.
            Kind::Type | Kind::Domain => Resource::Type(id.qualified()),
            Kind::Collation => Resource::Collation(id.qualified()),
            Kind::Extension => Resource::Extension(id.name.clone()),
            Kind::DefaultPrivileges => Resource::DefaultPrivileges,
            Kind::Function | Kind::Procedure | Kind::Aggregate => Resource::Routine(id.clone()),
            Kind::Trigger => Resource::Trigger(id.clone()),
            Kind::Policy => Resource::Policy(id.clone()),
            Kind::EventTrigger => Resource::EventTrigger(id.name.clone()),
            Kind::Constraint => {
                Resource::Constraint(id.qualified(), id.member.clone().unwrap_or_default())
            }
            // An index is a relation of its own, in its table's schema.
            Kind::Index => Resource::Relation(id.index_name()),
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::sql::quote_ident;
        match self {
            Resource::Schema(s) => write!(f, "schema {}", quote_ident(s)),
            Resource::Extension(e) => write!(f, "extension {}", quote_ident(e)),
            Resource::Type(t) => write!(f, "type {t}"),
            Resource::Collation(c) => write!(f, "collation {c}"),
            Resource::Relation(r) => write!(f, "{r}"),
            Resource::Column(t, c) => write!(f, "{t}.{}", quote_ident(c)),
            Resource::Constraint(t, c) => write!(f, "constraint {} on {t}", quote_ident(c)),
            Resource::Validated(t, c) => {
                write!(f, "validated constraint {} on {t}", quote_ident(c))
            }
            Resource::NotNull(t, c) => write!(f, "not null on {t}.{}", quote_ident(c)),
            Resource::Routine(id) => write!(f, "{} {id}", id.kind.sql().to_lowercase()),
            Resource::Trigger(id) => write!(f, "trigger {id}"),
            Resource::Policy(id) => write!(f, "policy {id}"),
            Resource::EventTrigger(name) => write!(f, "event trigger {}", quote_ident(name)),
            Resource::DefaultPrivileges => write!(f, "default privileges"),
        }
    }
}

/// What a column needs: its table, the types and sequences its type and default name.
pub fn column_uses(model: &Model, table: &QualifiedName, column: &Column) -> Vec<Resource> {
    let mut out = vec![Resource::Relation(table.clone())];
    out.extend(type_uses(model, &column.data_type));
    out.extend(collation_uses(model, column.collation.as_deref()));
    if let Some(default) = &column.default {
        out.extend(expression_uses(model, default));
    }
    if let Some(generated) = &column.generated {
        out.extend(expression_uses(model, generated));
    }
    out
}

/// User-defined types named by a `format_type` rendering (`public.mood`, `public.mood[]`):
/// enums, domains, composite types, and a table's row type (the table itself).
pub fn type_uses(model: &Model, data_type: &str) -> Vec<Resource> {
    let base = data_type.trim_end_matches("[]");
    let types = model
        .enums
        .keys()
        .chain(model.domains.keys())
        .chain(model.composites.keys());
    let mut out: Vec<Resource> = types
        .filter(|name| name.to_string() == base)
        .map(|name| Resource::Type(name.clone()))
        .collect();
    // A range type's step creates its multirange too.
    out.extend(
        model
            .ranges
            .values()
            .filter(|r| r.is_type_of(data_type))
            .map(|r| Resource::Type(r.name.clone())),
    );
    out.extend(
        model
            .tables
            .keys()
            .filter(|name| name.to_string() == base)
            .map(|name| Resource::Relation(name.clone())),
    );
    out
}

/// Sequences, enum, composite and range types and domains named in an expression (`nextval('public.s'::regclass)`).
///
/// Catalog renderings qualify every name, so a textual search for the qualified name is
/// reliable enough to order steps; a missed edge only loses an ordering hint, and the
/// graph's other edges (table before column) still hold.
pub fn expression_uses(model: &Model, expression: &str) -> Vec<Resource> {
    let mut out = Vec::new();
    for name in model.sequences.keys() {
        if expression.contains(&format!("'{name}'")) {
            out.push(Resource::Relation(name.clone()));
        }
    }
    let types = model
        .enums
        .keys()
        .chain(model.domains.keys())
        .chain(model.composites.keys());
    for name in types.chain(model.ranges.keys()) {
        if expression.contains(&name.to_string()) {
            out.push(Resource::Type(name.clone()));
        }
    }
    // A default or CHECK calling a user function: every overload of that name (the text
    // does not say which one is called).
    for routine in model.routines.values() {
        if expression.contains(&format!("{}(", routine.name)) {
            out.push(Resource::Routine(routine.id.clone()));
        }
    }
    out
}

/// The user collation a `COLLATE` rendering names (`public.numeric`; `pg_catalog` ones
/// render bare and need nothing).
pub fn collation_uses(model: &Model, collation: Option<&str>) -> Vec<Resource> {
    let Some(collation) = collation else {
        return Vec::new();
    };
    model
        .collations
        .keys()
        .filter(|name| name.to_string() == collation)
        .map(|name| Resource::Collation(name.clone()))
        .collect()
}

/// Columns of `table` whose names appear in `columns`.
pub fn columns_of(table: &QualifiedName, columns: &[String]) -> Vec<Resource> {
    columns
        .iter()
        .map(|c| Resource::Column(table.clone(), c.clone()))
        .collect()
}

/// Everything a table needs before it can be created.
pub fn table_uses(model: &Model, table: &Table) -> Vec<Resource> {
    let mut out = vec![Resource::Schema(table.name.schema.clone())];
    if let Some(parent) = &table.partition_of {
        out.push(Resource::Relation(parent.parent.clone()));
    }
    // An inheritance child gets its inherited columns from its parents.
    for parent in &table.inherits {
        out.push(Resource::Relation(parent.clone()));
    }
    for column in &table.columns {
        out.extend(
            column_uses(model, &table.name, column)
                .into_iter()
                .filter(|r| r != &Resource::Relation(table.name.clone())),
        );
    }
    out
}
