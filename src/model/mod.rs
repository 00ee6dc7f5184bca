//! The schema model: plain data, keyed by qualified identity.
//!
//! Both sides of a comparison (the live database and the shadow database loaded from the
//! desired files) are read into this model by the same catalog code, so every text field here
//! is PostgreSQL's own normalised rendering (`format_type`, `pg_get_expr`,
//! `pg_get_constraintdef`, `pg_get_indexdef`), produced with an empty `search_path` so that
//! every name in it is schema-qualified.

mod aggregate;
mod collation;
mod composite;
mod distribution;
mod domain;
mod event_trigger;
mod id;
mod name;
mod policy;
mod privilege;
mod range;
mod routine;
mod trigger;
mod view;

pub use aggregate::{Aggregate, AggregateKind};
pub use collation::{Collation, CollationProvider};
pub use composite::{Attribute, CompositeType};
pub use distribution::Distribution;
pub use domain::{Domain, DomainCheck};
pub use event_trigger::{EventTrigger, EventTriggerEnabled};
pub use id::{Dependency, Kind, Object, ObjectId};
pub use name::QualifiedName;
pub use policy::{Policy, PolicyCommand, RowSecurity, PUBLIC_ROLE};
pub use privilege::{Acl, DefaultAcl, DefaultAclObjects, Grantee, Privilege};
pub use range::RangeType;
pub use routine::Routine;
pub use trigger::Trigger;
pub use view::{View, ViewColumn, ViewIndex};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything zdm manages in one database, plus a list of what it saw but does not manage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub schemas: BTreeMap<String, Schema>,
    pub extensions: BTreeMap<String, Extension>,
    pub enums: BTreeMap<QualifiedName, EnumType>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub domains: BTreeMap<QualifiedName, Domain>,
    /// Collations (`CREATE COLLATION`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collations: BTreeMap<QualifiedName, Collation>,
    /// Composite types (`CREATE TYPE ... AS (...)`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub composites: BTreeMap<QualifiedName, CompositeType>,
    /// Range types (`CREATE TYPE ... AS RANGE`), with their multiranges.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ranges: BTreeMap<QualifiedName, RangeType>,
    pub sequences: BTreeMap<QualifiedName, Sequence>,
    pub tables: BTreeMap<QualifiedName, Table>,
    /// Views and materialized views, keyed by `ObjectId` display (`public.v`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub views: BTreeMap<String, View>,
    /// Functions and procedures, keyed by `public.f(integer, text)`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routines: BTreeMap<String, Routine>,
    /// Aggregates, keyed like routines (`public.group_concat(text)`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aggregates: BTreeMap<String, Aggregate>,
    /// Triggers, keyed by `public.orders.audit`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<String, Trigger>,
    /// Row-level security policies, keyed by `public.orders.tenant_isolation`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub policies: BTreeMap<String, Policy>,
    /// Tables with row-level security enabled or forced (absent: neither).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub row_security: BTreeMap<QualifiedName, RowSecurity>,
    /// Event triggers (database-wide), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_triggers: BTreeMap<String, EventTrigger>,
    /// Privileges on every object that has an ACL, keyed by `ObjectId::sql` (`TABLE public.t`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub acls: BTreeMap<String, Acl>,
    /// `ALTER DEFAULT PRIVILEGES` entries, keyed by [`DefaultAcl::key`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub default_privileges: BTreeMap<String, DefaultAcl>,
    /// Owners by `ObjectId::sql`. The live side has every object's; the desired side only
    /// those the files set (`OWNER TO`, `AUTHORIZATION`), see `workspace`: owners are compared
    /// only where the files say what they should be.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub owners: BTreeMap<String, String>,
    /// What the views, routines and triggers need (tables, columns, types, each other).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<Dependency>,
    /// Objects that exist but that zdm does not manage yet (aggregates, policies, domains, ...).
    /// They are reported, never diffed.
    pub unmanaged: Vec<UnmanagedObject>,
    /// Citus's distributed and reference tables (live side only; never diffed): what a plan
    /// may not do to them, see `plan::citus`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub distributed: BTreeMap<QualifiedName, Distribution>,
    /// Objects left out by the scope (`zdm.toml`'s `schemas` and `ignore`), e.g.
    /// `table public.hangfire_job`: never compared, but a shadow copy of the live schema lacks
    /// them (see `rehearse`). Not part of the schema.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
    /// `server_version_num` of the database this was read from (what DDL it accepts, e.g.
    /// `CREATE OR REPLACE TRIGGER` on 14+). Not part of the schema: never compared.
    #[serde(skip)]
    pub server_version: i32,
    /// What those views read: a plan that drops a column or table a view reads is refused by
    /// PostgreSQL, so it carries a hazard. Never diffed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub view_reads: Vec<ViewRead>,
}

/// A view (or materialized view) reading a table's column, or the table as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewRead {
    pub view: QualifiedName,
    pub table: QualifiedName,
    /// `None`: the view depends on the table itself.
    pub column: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub name: String,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub name: String,
    /// Schema the extension's objects live in.
    pub schema: String,
    pub version: String,
    /// The files name the version (`CREATE EXTENSION ... VERSION '1.2'`): only then is it
    /// compared (the shadow database otherwise installs the default version, which says
    /// nothing about what the files want). Always false on the live side.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub version_pinned: bool,
    /// The version `CREATE EXTENSION` installs on this server without `VERSION`
    /// (`pg_available_extensions`; none when the server has no control file for it). A dump
    /// pins any other version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    pub name: QualifiedName,
    /// Labels in sort order (`enumsortorder`).
    pub labels: Vec<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub name: QualifiedName,
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `ALTER SEQUENCE ... OWNED BY table.column` (what `serial` sets up).
    pub owned_by: Option<ColumnRef>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ColumnRef {
    pub table: QualifiedName,
    pub column: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    Regular,
    Partitioned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: QualifiedName,
    pub kind: TableKind,
    pub unlogged: bool,
    /// `pg_get_partkeydef`, e.g. `RANGE (created_at)`, for partitioned tables.
    pub partition_key: Option<String>,
    /// Set when this table is a partition of another.
    pub partition_of: Option<PartitionOf>,
    /// Parents of a table inheritance child (`INHERITS`), in `inhseqno` order; empty for
    /// partitions (see `partition_of`). The child's columns and constraints that come only
    /// from its parents are `inherited` (`attislocal`/`conislocal` false).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<QualifiedName>,
    /// Columns in `attnum` order (dropped columns excluded).
    pub columns: Vec<Column>,
    pub constraints: BTreeMap<String, Constraint>,
    /// Indexes that do not back a constraint (those are part of the constraint) and are not
    /// partitions of a parent table's index (those come with the parent index).
    pub indexes: BTreeMap<String, Index>,
    pub comment: Option<String>,
    /// What logical decoding records of an updated or deleted row.
    #[serde(default, skip_serializing_if = "ReplicaIdentity::is_default")]
    pub replica_identity: ReplicaIdentity,
    /// Live statistics, not part of the schema: never compared.
    #[serde(skip)]
    pub stats: TableStats,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The columns of the primary key, in key order (empty without one).
    pub fn primary_key_columns(&self) -> Vec<String> {
        self.constraints
            .values()
            .find(|c| c.kind == ConstraintKind::PrimaryKey)
            .map(|pk| pk.columns.clone())
            .unwrap_or_default()
    }
}

/// `REPLICA IDENTITY` of a table (`pg_class.relreplident`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaIdentity {
    /// The primary key, if any.
    #[default]
    Default,
    Full,
    Nothing,
    /// `USING INDEX name`: a unique, non-partial, non-deferrable index on NOT NULL columns.
    Index(String),
}

impl ReplicaIdentity {
    pub fn is_default(&self) -> bool {
        *self == ReplicaIdentity::Default
    }
}

/// Facts about a table's data that the planner needs (is it empty?), not part of its schema.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TableStats {
    /// `pg_class.reltuples`; -1 when the table was never analysed.
    pub estimated_rows: f64,
    /// Whether the table has at least one row (an `EXISTS` probe, exact).
    pub has_rows: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    pub parent: QualifiedName,
    /// `pg_get_expr(relpartbound)`, e.g. `FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`.
    pub bound: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// `format_type(atttypid, atttypmod)`, e.g. `character varying(200)`, `public.mood`.
    pub data_type: String,
    /// A validated NOT NULL (on PostgreSQL 18, one whose constraint is `NOT VALID` does not
    /// count: `not_null_name` then names that constraint, awaiting its validation).
    pub not_null: bool,
    /// PostgreSQL 18+: the name of the column's NOT NULL constraint (`pg_constraint` row of
    /// type `n`); `None` before 18, where NOT NULL has no name. Compared only when both sides
    /// have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_null_name: Option<String>,
    /// `pg_get_expr(adbin)`; `None` for generated columns (see `generated`).
    pub default: Option<String>,
    pub identity: Option<Identity>,
    /// The options of an identity column's sequence (`None` when not an identity column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_sequence: Option<IdentitySequence>,
    /// Expression of a `GENERATED ALWAYS AS (...) STORED` (or, see `virtual_generated`,
    /// `VIRTUAL`) column.
    pub generated: Option<String>,
    /// PostgreSQL 18+: the generated column is `VIRTUAL` (computed when read, `attgenerated`
    /// `v`) rather than `STORED`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub virtual_generated: bool,
    /// Explicit collation when it differs from the type's default, rendered the way
    /// `pg_get_indexdef` / `pg_get_constraintdef` render collations: bare (quoted as needed) for
    /// collations in `pg_catalog` (`"C"`, `"en_US"`, `ucs_basic`), schema-qualified otherwise
    /// (`app.mycoll`). Usable as is after `COLLATE`.
    pub collation: Option<String>,
    pub comment: Option<String>,
    /// Inherited from a parent (partitions, inheritance children) and not declared by this
    /// table as well (`NOT attislocal`): defined by the parent.
    pub inherited: bool,
    /// An inherited column of a partition with a DEFAULT or NOT NULL of its own
    /// (`PARTITION OF parent (priority DEFAULT 10, notes NOT NULL)`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overrides_parent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identity {
    Always,
    ByDefault,
}

/// The sequence behind an identity column: its name and every option `GENERATED ... AS
/// IDENTITY (...)` can set. Its type is always the column's, so it is not kept here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySequence {
    pub name: QualifiedName,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    Check,
    ForeignKey,
    Exclusion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub name: String,
    pub kind: ConstraintKind,
    /// `pg_get_constraintdef` without a trailing ` NOT VALID` (see `validated`),
    /// e.g. `CHECK ((amount > (0)::numeric))`, `FOREIGN KEY (org_id) REFERENCES public.orgs(id)`.
    pub definition: String,
    /// Constrained columns (`conkey`), in key order.
    pub columns: Vec<String>,
    pub validated: bool,
    pub deferrable: bool,
    pub initially_deferred: bool,
    pub foreign_key: Option<ForeignKey>,
    /// Name of the index that backs a PRIMARY KEY / UNIQUE / EXCLUDE constraint.
    pub index: Option<String>,
    /// `pg_get_indexdef` of that index, so the planner can build it concurrently first.
    pub index_definition: Option<String>,
    /// Inherited from a parent table (partitions): not defined here.
    pub inherited: bool,
    pub comment: Option<String>,
    /// For a CHECK from the desired files: `CHECK (<expression as written>)`, what zdm adds
    /// instead of `definition` (see `parse::checks` for why). Never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl Constraint {
    /// Whether `CREATE TABLE` can declare it: not a `NOT VALID` one (PostgreSQL validates those
    /// anyway when the table is created), and a foreign key only when `foreign_keys_inline`.
    pub fn inline_in_create_table(&self, foreign_keys_inline: bool) -> bool {
        self.validated && (foreign_keys_inline || self.foreign_key.is_none())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub referenced_table: QualifiedName,
    pub referenced_columns: Vec<String>,
    pub on_update: FkAction,
    pub on_delete: FkAction,
    pub match_type: FkMatch,
    /// The referenced table's unique index the key relies on (`conindid`): a PRIMARY KEY or
    /// UNIQUE constraint's index cannot be dropped while a foreign key relies on it. Which one
    /// PostgreSQL picked is no part of the key's definition, so the diff never compares it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_index: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FkAction {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FkMatch {
    Simple,
    Full,
    Partial,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    /// Access method: `btree`, `gin`, `gist`, `hash`, `brin`, ...
    pub method: String,
    /// Key columns or expressions, each with its collation/opclass/ordering, exactly as they
    /// appear in the key list of `pg_get_indexdef(oid)` (e.g. `lower(title) DESC NULLS LAST`,
    /// `tag text_pattern_ops`, `title COLLATE "C"`). (`pg_get_indexdef(oid, n, true)` renders the
    /// bare column or expression only; it is the fallback if the definition cannot be split.)
    pub key_expressions: Vec<String>,
    /// `INCLUDE (...)` columns.
    pub include: Vec<String>,
    /// `WHERE` predicate of a partial index.
    pub predicate: Option<String>,
    pub nulls_not_distinct: bool,
    /// `pg_get_indexdef(oid)`: the complete `CREATE [UNIQUE] INDEX name ON table USING ...`.
    pub definition: String,
    /// `indisvalid`: false after a failed `CREATE INDEX CONCURRENTLY`.
    pub valid: bool,
    pub comment: Option<String>,
    /// For a partitioned table's index: the partitions' indexes attached to it (their names
    /// are PostgreSQL's choice, so zdm builds them under the names the desired side has).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partitions: Vec<PartitionIndex>,
}

/// One partition's index, attached to a partitioned table's index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionIndex {
    pub table: QualifiedName,
    pub name: String,
}

impl Index {
    /// Whether `other` indexes the same keys the same way (names and tables aside): a
    /// partition's index that can be attached to this one.
    pub fn same_shape(&self, other: &Index) -> bool {
        self.unique == other.unique
            && self.method == other.method
            && self.key_expressions == other.key_expressions
            && self.include == other.include
            && self.predicate == other.predicate
            && self.nulls_not_distinct == other.nulls_not_distinct
    }
}

/// An object that exists in the database but is outside what zdm manages yet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnmanagedObject {
    /// `view`, `materialized view`, `function`, `procedure`, `trigger`, `policy`, `domain`, ...
    pub kind: String,
    /// Qualified display name, e.g. `public.active_users` or `public.users.trg_audit`.
    pub name: String,
}

impl Model {
    /// The view, routine, trigger or policy `id` names, if this model has it.
    pub fn object(&self, id: &ObjectId) -> Option<Object> {
        let key = id.to_string();
        match id.kind {
            Kind::View | Kind::MaterializedView => self.views.get(&key).cloned().map(Object::View),
            Kind::Function | Kind::Procedure => {
                self.routines.get(&key).cloned().map(Object::Routine)
            }
            Kind::Aggregate => self.aggregates.get(&key).cloned().map(Object::Aggregate),
            Kind::Trigger => self.triggers.get(&key).cloned().map(Object::Trigger),
            Kind::Policy => self.policies.get(&key).cloned().map(Object::Policy),
            Kind::Table
            | Kind::Column
            | Kind::Type
            | Kind::Schema
            | Kind::Sequence
            | Kind::Extension
            | Kind::Collation
            | Kind::Domain
            | Kind::DefaultPrivileges
            | Kind::EventTrigger
            | Kind::Constraint
            | Kind::Index => None,
        }
    }

    /// Every role this model's privileges, default privileges and owners name.
    pub fn roles(&self) -> std::collections::BTreeSet<String> {
        let grantees = self
            .acls
            .values()
            .flat_map(|a| &a.privileges)
            .chain(self.default_privileges.values().flat_map(|d| &d.privileges))
            .filter_map(|p| match &p.grantee {
                Grantee::Role(role) => Some(role.clone()),
                Grantee::Public | Grantee::Owner => None,
            });
        let owners = self.owners.values().cloned();
        let default_roles = self
            .default_privileges
            .values()
            .filter_map(|d| d.role.clone());
        grantees.chain(owners).chain(default_roles).collect()
    }

    /// What `id` needs, by this model's dependency edges.
    pub fn needs<'a>(&'a self, id: &'a ObjectId) -> impl Iterator<Item = &'a ObjectId> + 'a {
        self.depends
            .iter()
            .filter(move |d| &d.dependent == id)
            .map(|d| &d.referenced)
    }
}
