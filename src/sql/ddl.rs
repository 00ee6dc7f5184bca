//! Rendering model objects as the DDL that creates them.
//!
//! The same text serves two purposes: the statements the planner emits for new objects, and
//! the "definition" of an object that `zdm diff` compares line by line.

use crate::model::{
    Column, Constraint, EnumType, Extension, Identity, IdentitySequence, Index, QualifiedName,
    ReplicaIdentity, Schema, Sequence, Table, TableKind,
};
use crate::sql::{quote_ident, quote_literal};

pub mod aggregates;
pub mod collations;
pub mod columns;
pub mod composites;
pub mod domains;
pub mod event_triggers;
pub mod indexes;
pub mod moved_rows;
pub mod objects;
pub mod partitions;
pub mod policies;
pub mod privileges;
pub mod ranges;
pub mod routines;
pub mod sequences;
pub mod sync;
pub mod tables;
pub mod triggers;
pub mod views;

pub fn create_schema(schema: &Schema) -> String {
    format!("CREATE SCHEMA {};", quote_ident(&schema.name))
}

pub fn create_extension(extension: &Extension) -> String {
    // The version only where the files pin it; otherwise the server's default one.
    let version = if extension.version_pinned {
        format!(" VERSION {}", quote_literal(&extension.version))
    } else {
        String::new()
    };
    format!(
        "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {}{version};",
        quote_ident(&extension.name),
        quote_ident(&extension.schema)
    )
}

pub fn create_enum(enum_type: &EnumType) -> String {
    let labels: Vec<String> = enum_type.labels.iter().map(|l| quote_literal(l)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({});",
        enum_type.name,
        labels.join(", ")
    )
}

/// The options clause shared by `CREATE SEQUENCE` and `ALTER SEQUENCE`.
pub fn sequence_options(sequence: &Sequence) -> String {
    format!(
        "AS {} INCREMENT BY {} MINVALUE {} MAXVALUE {} START WITH {} CACHE {} {}",
        sequence.data_type,
        sequence.increment,
        sequence.min_value,
        sequence.max_value,
        sequence.start,
        sequence.cache,
        if sequence.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

pub fn create_sequence(sequence: &Sequence) -> String {
    format!(
        "CREATE SEQUENCE {} {};",
        sequence.name,
        sequence_options(sequence)
    )
}

pub fn sequence_owned_by(sequence: &Sequence) -> String {
    let owner = match &sequence.owned_by {
        Some(owner) => format!("{}.{}", owner.table, quote_ident(&owner.column)),
        None => "NONE".to_string(),
    };
    format!("ALTER SEQUENCE {} OWNED BY {owner};", sequence.name)
}

/// A column of `table` as it appears inside `CREATE TABLE` or after `ADD COLUMN`.
pub fn column_definition(table: &QualifiedName, column: &Column) -> String {
    let mut out = format!("{} {}", quote_ident(&column.name), column.data_type);
    if let Some(collation) = &column.collation {
        out.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(expr) = &column.generated {
        let kind = if column.virtual_generated {
            "VIRTUAL"
        } else {
            "STORED"
        };
        out.push_str(&format!(" GENERATED ALWAYS AS ({expr}) {kind}"));
    }
    if let Some(identity) = column.identity {
        out.push_str(&format!(
            " GENERATED {} AS IDENTITY",
            identity_kind(identity)
        ));
        if let Some(sequence) = &column.identity_sequence {
            out.push_str(&format!(" ({})", identity_options(sequence)));
        }
    }
    if let Some(default) = &column.default {
        out.push_str(&format!(" DEFAULT {default}"));
    }
    if column.not_null {
        // PostgreSQL 18 keeps the name (e.g. one `LIKE` copied from another table); before 18
        // there is none to give. The name PostgreSQL would pick anyway is left out, so that
        // plans, diffs and dumps read the same on every major.
        if let Some(name) = column
            .not_null_name
            .as_ref()
            .filter(|n| **n != default_not_null_name(&table.name, &column.name))
        {
            out.push_str(&format!(" CONSTRAINT {}", quote_ident(name)));
        }
        out.push_str(" NOT NULL");
    }
    out
}

/// The name PostgreSQL 18 gives an unnamed NOT NULL constraint, `<table>_<column>_not_null`,
/// when that fits in an identifier. A longer one PostgreSQL shortens (and a taken one it
/// numbers): such names are always written out, never assumed.
pub fn default_not_null_name(table: &str, column: &str) -> String {
    let name = format!("{table}_{column}_not_null");
    if name.len() <= 63 {
        name
    } else {
        String::new()
    }
}

/// PostgreSQL 18: the columns with a NOT NULL constraint that is not validated yet, and its
/// name (`ALTER TABLE ... ADD CONSTRAINT name NOT NULL column NOT VALID` after the table).
pub fn pending_not_nulls(table: &Table) -> Vec<(&str, &str)> {
    table
        .columns
        .iter()
        .filter(|c| !c.not_null && !c.inherited)
        .filter_map(|c| Some((c.name.as_str(), c.not_null_name.as_deref()?)))
        .collect()
}

/// `ALWAYS` or `BY DEFAULT`, as after `GENERATED` (and `SET GENERATED`).
pub fn identity_kind(identity: Identity) -> &'static str {
    match identity {
        Identity::Always => "ALWAYS",
        Identity::ByDefault => "BY DEFAULT",
    }
}

/// Every option of an identity column's sequence, as inside `AS IDENTITY (...)`: spelt out in
/// full so that the created sequence is the desired one whatever the defaults.
pub fn identity_options(sequence: &IdentitySequence) -> String {
    format!(
        "SEQUENCE NAME {} START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {} {}",
        sequence.name,
        sequence.start,
        sequence.increment,
        sequence.min_value,
        sequence.max_value,
        sequence.cache,
        if sequence.cycle { "CYCLE" } else { "NO CYCLE" }
    )
}

/// A partition's own options for a column it inherits: `priority DEFAULT 10`, `notes NOT NULL`.
fn partition_column_options(column: &Column) -> String {
    let mut out = quote_ident(&column.name);
    if let Some(default) = &column.default {
        out.push_str(&format!(" DEFAULT {default}"));
    }
    if column.not_null {
        out.push_str(" NOT NULL");
    }
    out
}

/// `CONSTRAINT name <definition>` as used inside `CREATE TABLE` / `ADD`.
pub fn constraint_clause(constraint: &Constraint) -> String {
    let mut out = format!(
        "CONSTRAINT {} {}",
        quote_ident(&constraint.name),
        constraint.source.as_ref().unwrap_or(&constraint.definition)
    );
    if !constraint.validated {
        out.push_str(" NOT VALID");
    }
    out
}

pub fn add_constraint(table: &QualifiedName, constraint: &Constraint) -> String {
    format!("ALTER TABLE {table} ADD {};", constraint_clause(constraint))
}

pub fn create_index(index: &Index) -> String {
    format!("{};", index.definition)
}

/// `CREATE TABLE` with its columns and constraints. Constraints that a new table can hold
/// inline (everything but foreign keys, which may point at tables created later) go inside;
/// `foreign_keys_inline` controls the rest.
pub fn create_table(table: &Table, foreign_keys_inline: bool) -> String {
    let mut lines: Vec<String> = table
        .columns
        .iter()
        .filter(|c| !c.inherited || c.overrides_parent)
        .map(|c| {
            if c.inherited {
                partition_column_options(c)
            } else {
                column_definition(&table.name, c)
            }
        })
        .collect();
    lines.extend(
        table
            .constraints
            .values()
            .filter(|c| !c.inherited && c.inline_in_create_table(foreign_keys_inline))
            .map(constraint_clause),
    );
    let persistence = if table.unlogged { "UNLOGGED " } else { "" };
    let mut out = format!("CREATE {persistence}TABLE {}", table.name);
    if let Some(partition) = &table.partition_of {
        out.push_str(&format!(" PARTITION OF {}", partition.parent));
        if !lines.is_empty() {
            out.push_str(&format!(" (\n    {}\n)", lines.join(",\n    ")));
        }
        out.push_str(&format!(" {}", partition.bound));
    } else {
        out.push_str(" (");
        if !lines.is_empty() {
            out.push_str(&format!("\n    {}\n", lines.join(",\n    ")));
        }
        out.push(')');
        if !table.inherits.is_empty() {
            let parents: Vec<String> = table.inherits.iter().map(|p| p.to_string()).collect();
            out.push_str(&format!(" INHERITS ({})", parents.join(", ")));
        }
    }
    if table.kind == TableKind::Partitioned {
        if let Some(key) = &table.partition_key {
            out.push_str(&format!(" PARTITION BY {key}"));
        }
    }
    out.push(';');
    out
}

/// What follows `REPLICA IDENTITY`.
pub fn replica_identity(identity: &ReplicaIdentity) -> String {
    match identity {
        ReplicaIdentity::Default => "DEFAULT".to_string(),
        ReplicaIdentity::Full => "FULL".to_string(),
        ReplicaIdentity::Nothing => "NOTHING".to_string(),
        ReplicaIdentity::Index(index) => format!("USING INDEX {}", quote_ident(index)),
    }
}

pub fn set_replica_identity(table: &QualifiedName, identity: &ReplicaIdentity) -> String {
    format!(
        "ALTER TABLE {table} REPLICA IDENTITY {};",
        replica_identity(identity)
    )
}

pub fn comment_on(target: &str, comment: Option<&str>) -> String {
    let value = comment.map_or("NULL".to_string(), quote_literal);
    format!("COMMENT ON {target} IS {value};")
}

/// Everything about one table, as one text: what `zdm diff` compares line by line.
pub fn table_definition(table: &Table) -> String {
    // The catalog's text on both sides, never a CHECK's source text: the two sides compare
    // line by line.
    let mut catalog_text = table.clone();
    for constraint in catalog_text.constraints.values_mut() {
        constraint.source = None;
    }
    let mut out = vec![create_table(&catalog_text, true)];
    out.extend(table.indexes.values().map(create_index));
    if !table.replica_identity.is_default() {
        out.push(set_replica_identity(&table.name, &table.replica_identity));
    }
    if let Some(comment) = &table.comment {
        out.push(comment_on(&format!("TABLE {}", table.name), Some(comment)));
    }
    for column in &table.columns {
        if let Some(comment) = &column.comment {
            out.push(comment_on(
                &format!("COLUMN {}.{}", table.name, quote_ident(&column.name)),
                Some(comment),
            ));
        }
    }
    for constraint in table.constraints.values() {
        if let Some(comment) = &constraint.comment {
            out.push(comment_on(
                &format!(
                    "CONSTRAINT {} ON {}",
                    quote_ident(&constraint.name),
                    table.name
                ),
                Some(comment),
            ));
        }
    }
    for index in table.indexes.values() {
        if let Some(comment) = &index.comment {
            let name = QualifiedName::new(table.name.schema.clone(), index.name.clone());
            out.push(comment_on(&format!("INDEX {name}"), Some(comment)));
        }
    }
    out.join("\n")
}

pub fn schema_definition(schema: &Schema) -> String {
    let mut out = vec![create_schema(schema)];
    if let Some(comment) = &schema.comment {
        out.push(comment_on(
            &format!("SCHEMA {}", quote_ident(&schema.name)),
            Some(comment),
        ));
    }
    out.join("\n")
}

pub fn enum_definition(enum_type: &EnumType) -> String {
    let mut out = vec![create_enum(enum_type)];
    if let Some(comment) = &enum_type.comment {
        out.push(comment_on(
            &format!("TYPE {}", enum_type.name),
            Some(comment),
        ));
    }
    out.join("\n")
}

pub fn sequence_definition(sequence: &Sequence) -> String {
    let mut out = vec![create_sequence(sequence)];
    if sequence.owned_by.is_some() {
        out.push(sequence_owned_by(sequence));
    }
    if let Some(comment) = &sequence.comment {
        out.push(comment_on(
            &format!("SEQUENCE {}", sequence.name),
            Some(comment),
        ));
    }
    out.join("\n")
}
