use serde::{Deserialize, Serialize};

use crate::model::{
    Collation, Column, CompositeType, Constraint, Domain, EnumType, EventTrigger, Extension, Index,
    Kind, Object, ObjectId, QualifiedName, RangeType, ReplicaIdentity, Schema, Sequence, Table,
};
use crate::sql::quote_ident;

/// One difference between two models, phrased as what must happen to the first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    CreateSchema {
        schema: Schema,
    },
    DropSchema {
        schema: Schema,
    },
    CreateExtension {
        extension: Extension,
    },
    DropExtension {
        extension: Extension,
    },
    SetExtensionSchema {
        extension: Extension,
        from_schema: String,
    },
    /// `ALTER EXTENSION ... UPDATE TO` the version the files pin.
    UpdateExtension {
        extension: Extension,
        from_version: String,
    },
    CreateEnum {
        enum_type: EnumType,
    },
    DropEnum {
        enum_type: EnumType,
    },
    AddEnumValue {
        name: QualifiedName,
        value: String,
        position: EnumValuePosition,
    },
    /// Values removed or reordered: PostgreSQL cannot do that in place.
    ReplaceEnum {
        from: EnumType,
        to: EnumType,
    },
    CreateEventTrigger {
        trigger: EventTrigger,
    },
    DropEventTrigger {
        trigger: EventTrigger,
    },
    /// Renamed, enabled or disabled, given to another owner, commented; or re-created when
    /// its event, tags or function changed.
    AlterEventTrigger {
        from: EventTrigger,
        to: EventTrigger,
    },
    CreateDomain {
        domain: Domain,
    },
    DropDomain {
        domain: Domain,
    },
    /// Default, NOT NULL, checks or comments changed (or the base type: re-created).
    AlterDomain {
        from: Domain,
        to: Domain,
    },
    CreateCollation {
        collation: Collation,
    },
    DropCollation {
        collation: Collation,
    },
    /// A new definition (re-created) or comment.
    AlterCollation {
        from: Collation,
        to: Collation,
    },
    CreateComposite {
        composite: CompositeType,
    },
    DropComposite {
        composite: CompositeType,
    },
    /// Attributes added, dropped or retyped, or comments changed.
    AlterComposite {
        from: CompositeType,
        to: CompositeType,
    },
    CreateRange {
        range: RangeType,
    },
    DropRange {
        range: RangeType,
    },
    /// A new definition (re-created with what uses it) or comment.
    AlterRange {
        from: RangeType,
        to: RangeType,
    },
    CreateSequence {
        sequence: Sequence,
    },
    DropSequence {
        sequence: Sequence,
    },
    AlterSequence {
        from: Sequence,
        to: Sequence,
    },
    CreateTable {
        table: Table,
    },
    DropTable {
        table: Table,
    },
    /// Something a table cannot change in place (regular <-> partitioned, partition key,
    /// parent): it has to be rebuilt.
    RecreateTable {
        from: Table,
        to: Table,
    },
    SetUnlogged {
        table: QualifiedName,
        unlogged: bool,
    },
    /// Parents gained (`INHERIT`) or lost (`NO INHERIT`) by a table inheritance child.
    SetInherits {
        table: QualifiedName,
        add: Vec<QualifiedName>,
        remove: Vec<QualifiedName>,
    },
    SetReplicaIdentity {
        table: QualifiedName,
        replica_identity: ReplicaIdentity,
    },
    /// `ENABLE` / `FORCE ROW LEVEL SECURITY` changed.
    SetRowSecurity {
        table: QualifiedName,
        from: crate::model::RowSecurity,
        to: crate::model::RowSecurity,
    },
    AddColumn {
        table: QualifiedName,
        column: Column,
    },
    DropColumn {
        table: QualifiedName,
        column: Column,
    },
    AlterColumn {
        table: QualifiedName,
        from: Column,
        to: Column,
    },
    AddConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    DropConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    /// Same definition, but the live one is `NOT VALID` and the desired one is validated.
    ValidateConstraint {
        table: QualifiedName,
        constraint: Constraint,
    },
    AddIndex {
        table: QualifiedName,
        index: Index,
    },
    DropIndex {
        table: QualifiedName,
        index: Index,
    },
    /// Same name, different definition (or the live one is INVALID).
    ReplaceIndex {
        table: QualifiedName,
        from: Index,
        to: Index,
    },
    /// `COMMENT ON` `target`: any object, or a column, constraint or index of a relation.
    SetComment {
        target: ObjectId,
        comment: Option<String>,
    },
    /// A view, routine or trigger that only the desired side has.
    CreateObject {
        object: Object,
    },
    DropObject {
        object: Object,
    },
    /// Changed in a way `CREATE OR REPLACE` accepts.
    ReplaceObject {
        from: Object,
        to: Object,
    },
    /// Changed in a way that needs a drop and a create (and its dependents re-created).
    RecreateObject {
        from: Object,
        to: Object,
    },
    /// An index of a materialized view added, dropped or changed.
    AlterViewIndexes {
        from: crate::model::View,
        to: crate::model::View,
    },
    /// Privileges granted or revoked, one statement per grantee and action.
    SetPrivileges {
        target: super::privileges::PrivilegeTarget,
        actions: Vec<(
            crate::model::Grantee,
            super::privileges::PrivilegeAction,
            Vec<String>,
        )>,
    },
    /// `ALTER ... OWNER TO`, where the files say who owns the object.
    SetOwner {
        id: ObjectId,
        owner: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnumValuePosition {
    Before(String),
    After(String),
    End,
}

/// The top-level object a comment on `target` is shown under in `zdm diff`: a column,
/// constraint or index under its relation, as a table (as comments always were).
fn comment_group(target: &ObjectId) -> ObjectId {
    match target.kind {
        Kind::Column | Kind::Constraint | Kind::Index => ObjectId::table(&target.qualified()),
        _ => target.group(),
    }
}

impl Change {
    /// The top-level object this change belongs to.
    pub fn object(&self) -> ObjectId {
        use Change::*;
        match self {
            CreateSchema { schema } | DropSchema { schema } => {
                ObjectId::schema(schema.name.clone())
            }
            CreateExtension { extension }
            | DropExtension { extension }
            | SetExtensionSchema { extension, .. }
            | UpdateExtension { extension, .. } => ObjectId::extension(extension.name.clone()),
            CreateEnum { enum_type } | DropEnum { enum_type } => {
                ObjectId::named(Kind::Type, &enum_type.name)
            }
            AddEnumValue { name, .. } => ObjectId::named(Kind::Type, name),
            ReplaceEnum { to, .. } => ObjectId::named(Kind::Type, &to.name),
            CreateEventTrigger { trigger }
            | DropEventTrigger { trigger }
            | AlterEventTrigger { to: trigger, .. } => {
                ObjectId::event_trigger(trigger.name.clone())
            }
            CreateDomain { domain } | DropDomain { domain } | AlterDomain { to: domain, .. } => {
                ObjectId::named(Kind::Domain, &domain.name)
            }
            CreateCollation { collation }
            | DropCollation { collation }
            | AlterCollation { to: collation, .. } => {
                ObjectId::named(Kind::Collation, &collation.name)
            }
            CreateComposite { composite }
            | DropComposite { composite }
            | AlterComposite { to: composite, .. } => ObjectId::named(Kind::Type, &composite.name),
            CreateRange { range } | DropRange { range } | AlterRange { to: range, .. } => {
                ObjectId::named(Kind::Type, &range.name)
            }
            CreateSequence { sequence } | DropSequence { sequence } => {
                ObjectId::named(Kind::Sequence, &sequence.name)
            }
            AlterSequence { to, .. } => ObjectId::named(Kind::Sequence, &to.name),
            CreateTable { table } | DropTable { table } => ObjectId::table(&table.name),
            RecreateTable { to, .. } => ObjectId::table(&to.name),
            SetUnlogged { table, .. }
            | SetInherits { table, .. }
            | SetReplicaIdentity { table, .. }
            | SetRowSecurity { table, .. }
            | AddColumn { table, .. }
            | DropColumn { table, .. }
            | AlterColumn { table, .. }
            | AddConstraint { table, .. }
            | DropConstraint { table, .. }
            | ValidateConstraint { table, .. }
            | AddIndex { table, .. }
            | DropIndex { table, .. }
            | ReplaceIndex { table, .. } => ObjectId::table(table),
            SetComment { target, .. } => comment_group(target),
            CreateObject { object } | DropObject { object } => object.id().group(),
            ReplaceObject { to, .. } | RecreateObject { to, .. } => to.id().group(),
            AlterViewIndexes { to, .. } => to.id.group(),
            SetPrivileges { target, .. } => match target {
                super::privileges::PrivilegeTarget::Object { id, .. } => id.group(),
                super::privileges::PrivilegeTarget::Default { .. } => {
                    ObjectId::default_privileges(crate::sql::ddl::privileges::default_scope(target))
                }
            },
            SetOwner { id, .. } => id.group(),
        }
    }

    /// A one-line description, e.g. `add column display_name`.
    pub fn summary(&self) -> String {
        use Change::*;
        match self {
            CreateSchema { .. } => "create schema".into(),
            DropSchema { .. } => "drop schema".into(),
            CreateExtension { .. } => "create extension".into(),
            DropExtension { .. } => "drop extension".into(),
            UpdateExtension { extension, .. } => {
                format!("update extension to version {}", extension.version)
            }
            SetExtensionSchema { extension, .. } => {
                format!(
                    "move extension to schema {}",
                    quote_ident(&extension.schema)
                )
            }
            CreateEnum { .. } => "create enum type".into(),
            DropEnum { .. } => "drop enum type".into(),
            AddEnumValue { value, .. } => format!("add enum value '{value}'"),
            ReplaceEnum { .. } => "remove or reorder enum values".into(),
            CreateEventTrigger { .. } => "create event trigger".into(),
            DropEventTrigger { .. } => "drop event trigger".into(),
            AlterEventTrigger { from, to } => event_trigger_summary(from, to),
            CreateDomain { .. } => "create domain".into(),
            DropDomain { .. } => "drop domain".into(),
            AlterDomain { .. } => "alter domain".into(),
            CreateCollation { .. } => "create collation".into(),
            DropCollation { .. } => "drop collation".into(),
            AlterCollation { from, to } if from.same_definition(to) => {
                "set comment on collation".into()
            }
            AlterCollation { .. } => "re-create collation (new definition)".into(),
            CreateComposite { .. } => "create composite type".into(),
            DropComposite { .. } => "drop composite type".into(),
            AlterComposite { .. } => "alter composite type".into(),
            CreateRange { .. } => "create range type".into(),
            DropRange { .. } => "drop range type".into(),
            AlterRange { from, to } if from.same_definition(to) => {
                "set comment on range type".into()
            }
            AlterRange { .. } => "re-create range type (new definition)".into(),
            CreateSequence { .. } => "create sequence".into(),
            DropSequence { .. } => "drop sequence".into(),
            AlterSequence { .. } => "alter sequence".into(),
            CreateTable { .. } => "create table".into(),
            DropTable { .. } => "drop table".into(),
            RecreateTable { .. } => "recreate table (partitioning changed)".into(),
            SetUnlogged { unlogged, .. } => {
                if *unlogged {
                    "set unlogged".into()
                } else {
                    "set logged".into()
                }
            }
            SetInherits { add, remove, .. } => {
                let words: Vec<String> = add
                    .iter()
                    .map(|p| format!("inherit {p}"))
                    .chain(remove.iter().map(|p| format!("no inherit {p}")))
                    .collect();
                words.join(", ")
            }
            SetReplicaIdentity {
                replica_identity, ..
            } => format!(
                "set replica identity {}",
                crate::sql::ddl::replica_identity(replica_identity)
            ),
            SetRowSecurity { from, to, .. } => row_security_summary(from, to),
            AddColumn { column, .. } => format!("add column {}", quote_ident(&column.name)),
            DropColumn { column, .. } => format!("drop column {}", quote_ident(&column.name)),
            AlterColumn { from, to, .. } => {
                format!(
                    "alter column {} ({})",
                    quote_ident(&to.name),
                    column_differences(from, to).join(", ")
                )
            }
            AddConstraint { constraint, .. } => {
                format!("add constraint {}", quote_ident(&constraint.name))
            }
            DropConstraint { constraint, .. } => {
                format!("drop constraint {}", quote_ident(&constraint.name))
            }
            ValidateConstraint { constraint, .. } => {
                format!("validate constraint {}", quote_ident(&constraint.name))
            }
            AddIndex { index, .. } => format!("create index {}", quote_ident(&index.name)),
            DropIndex { index, .. } => format!("drop index {}", quote_ident(&index.name)),
            ReplaceIndex { to, .. } => format!("rebuild index {}", quote_ident(&to.name)),
            CreateObject { object } => format!("create {}", object.id().kind.sql().to_lowercase()),
            DropObject { object } => format!("drop {}", object.id().kind.sql().to_lowercase()),
            ReplaceObject { to, .. } => format!("replace {}", to.id().kind.sql().to_lowercase()),
            RecreateObject { to, .. } => format!(
                "drop and re-create {} (CREATE OR REPLACE cannot make this change)",
                to.id().kind.sql().to_lowercase()
            ),
            AlterViewIndexes { .. } => "change indexes".into(),
            SetPrivileges { target, actions } => {
                crate::sql::ddl::privileges::summary(target, actions)
            }
            SetOwner { owner, .. } => format!("set owner to {}", quote_ident(owner)),
            SetComment { target, comment } => match comment {
                Some(_) => format!("set comment on {}", target.sql().to_lowercase()),
                None => format!("remove comment on {}", target.sql().to_lowercase()),
            },
        }
    }
}

/// `rename from old, disable`, or `re-create (event changed)`.
fn event_trigger_summary(from: &EventTrigger, to: &EventTrigger) -> String {
    if !to.same_definition(from) {
        return "drop and re-create event trigger (event, tags or function changed)".into();
    }
    let mut out = Vec::new();
    if from.name != to.name {
        out.push(format!("rename from {}", quote_ident(&from.name)));
    }
    if from.enabled != to.enabled {
        out.push(to.enabled.sql().to_lowercase());
    }
    if let Some(owner) = to
        .owner
        .as_ref()
        .filter(|o| from.owner.as_ref() != Some(*o))
    {
        out.push(format!("set owner to {}", quote_ident(owner)));
    }
    if from.comment != to.comment {
        out.push("set comment".into());
    }
    out.join(", ")
}

/// `enable row level security, force row level security`, ...
fn row_security_summary(
    from: &crate::model::RowSecurity,
    to: &crate::model::RowSecurity,
) -> String {
    let mut out = Vec::new();
    if from.enabled != to.enabled {
        out.push(if to.enabled { "enable" } else { "disable" });
    }
    if from.forced != to.forced {
        out.push(if to.forced { "force" } else { "no force" });
    }
    out.iter()
        .map(|w| format!("{w} row level security"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// [`column_differences`]' word for the NOT NULL constraint name of a column both sides
/// inherit (compared for partitions only, see `diff::tables`).
pub const INHERITED_NOT_NULL_NAME: &str = "inherited not null name";

/// The attributes that differ between two versions of a column, e.g. `["type", "not null"]`.
pub fn column_differences(from: &Column, to: &Column) -> Vec<&'static str> {
    let mut out = Vec::new();
    if from.data_type != to.data_type {
        out.push("type");
    }
    if from.collation != to.collation {
        out.push("collation");
    }
    if from.not_null != to.not_null {
        out.push(if to.not_null {
            "set not null"
        } else {
            "drop not null"
        });
    }
    if from.not_null && to.not_null && from.inherited == to.inherited {
        if let (Some(a), Some(b)) = (&from.not_null_name, &to.not_null_name) {
            if a != b {
                // An inherited one cannot be renamed in place (a partition's is relinked).
                out.push(if to.inherited {
                    INHERITED_NOT_NULL_NAME
                } else {
                    "not null name"
                });
            }
        }
    }
    if from.default != to.default {
        out.push("default");
    }
    if from.identity != to.identity {
        out.push("identity");
    } else if from.identity_sequence != to.identity_sequence {
        out.push("identity options");
    }
    if from.generated != to.generated || from.virtual_generated != to.virtual_generated {
        out.push("generated");
    }
    out
}
