//! Statements people keep in schema files that are not declarations, and what zdm makes of
//! them instead of rejecting the file:
//!
//! - the re-create idiom, `DROP <kind> IF EXISTS x` with `x` created elsewhere in the files: it
//!   means "x as declared", which is what a declarative schema says anyway, so the `DROP` is
//!   skipped (with a note). A `DROP` of anything the files do not create stays an error: it
//!   would be an instruction to destroy, not a declaration.
//! - seed rows, `INSERT INTO t ...`: rows are not schema, so the statement is skipped with a
//!   note naming the table, unless the files mark `t` `-- zdm:data` (reference data, managed
//!   by primary key: see `crate::data`). Other DML stays an error.

use pg_query::protobuf::{self, ObjectType};
use pg_query::NodeEnum;

use std::collections::BTreeSet;

use super::refs::{qualify_range_var, string_list, sval, Ctx};
use super::{Errors, ObjectName, ParseErrorKind, Statement};
use crate::model::QualifiedName;
use crate::source::SourceSet;
use crate::source::Span;

/// A statement accepted but not loaded.
#[derive(Debug, Clone)]
pub(crate) enum Skipped {
    /// `DROP ... IF EXISTS` of these objects: each must be created by the files.
    DropIfExists(Vec<ObjectName>),
    /// `INSERT INTO` this table.
    Insert(QualifiedName),
}

/// A skipped statement and where it was.
#[derive(Debug, Clone)]
pub(crate) struct SkippedStatement {
    pub span: Span,
    pub what: Skipped,
}

/// What the statement is, if it is one zdm skips; `None` for every other statement (which goes
/// on to be classified as usual).
pub(crate) fn skipped(node: &NodeEnum, ctx: &Ctx) -> Option<Skipped> {
    match node {
        NodeEnum::DropStmt(s) if s.missing_ok => dropped(s, ctx).map(Skipped::DropIfExists),
        NodeEnum::InsertStmt(s) => {
            let rv = s.relation.as_ref()?;
            Some(Skipped::Insert(qualify_range_var(rv, ctx)))
        }
        _ => None,
    }
}

/// The objects a `DROP` names, for the kinds whose creation the parse layer tracks
/// ([`super::Statement::provides`]); `None` for any other kind (such a `DROP` stays an error).
fn dropped(s: &protobuf::DropStmt, ctx: &Ctx) -> Option<Vec<ObjectName>> {
    let kind = ObjectType::try_from(s.remove_type).ok()?;
    let mut out = Vec::new();
    for object in &s.objects {
        let node = object.node.as_ref()?;
        let name = match kind {
            ObjectType::ObjectTable
            | ObjectType::ObjectView
            | ObjectType::ObjectMatview
            | ObjectType::ObjectSequence
            | ObjectType::ObjectIndex
            | ObjectType::ObjectForeignTable => ObjectName::Relation(qualified(list(node)?, ctx)?),
            ObjectType::ObjectType | ObjectType::ObjectDomain => match node {
                NodeEnum::TypeName(t) => ObjectName::Type(qualified(string_list(&t.names), ctx)?),
                _ => return None,
            },
            ObjectType::ObjectFunction
            | ObjectType::ObjectProcedure
            | ObjectType::ObjectRoutine
            | ObjectType::ObjectAggregate => match node {
                NodeEnum::ObjectWithArgs(f) => {
                    ObjectName::Function(qualified(string_list(&f.objname), ctx)?)
                }
                _ => return None,
            },
            ObjectType::ObjectSchema => ObjectName::Schema(sval(object)?.to_string()),
            ObjectType::ObjectExtension => ObjectName::Extension(sval(object)?.to_string()),
            _ => return None,
        };
        out.push(name);
    }
    Some(out)
}

/// The strings of a `List` node (`[schema,] name`).
fn list(node: &NodeEnum) -> Option<Vec<String>> {
    match node {
        NodeEnum::List(l) => Some(string_list(&l.items)),
        _ => None,
    }
}

/// `[schema,] name` -> qualified name (unqualified: the creation schema, as `CREATE` would).
fn qualified(parts: Vec<String>, ctx: &Ctx) -> Option<QualifiedName> {
    match parts.as_slice() {
        [name] => Some(QualifiedName::new(ctx.creation_schema(), name.clone())),
        [.., schema, name] => Some(QualifiedName::new(schema.clone(), name.clone())),
        [] => None,
    }
}

/// An `INSERT` into a table the files mark `-- zdm:data`: its rows are the table's declared
/// contents, loaded into the shadow database after the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedInsert {
    pub table: QualifiedName,
    pub span: Span,
    pub text: String,
}

/// A skipped `DROP ... IF EXISTS` must name only objects the files create (anything else is an
/// instruction to destroy, an error); every skipped statement gets a note, except the
/// `INSERT`s into tables marked `-- zdm:data`, which are returned to be loaded.
pub(crate) fn check_skipped(
    sources: &SourceSet,
    skipped: &[SkippedStatement],
    statements: &[Statement],
    data_tables: &BTreeSet<QualifiedName>,
    errors: &mut Errors,
    notes: &mut Vec<String>,
) -> Vec<SeedInsert> {
    let provided: BTreeSet<&ObjectName> = statements.iter().flat_map(|s| &s.provides).collect();
    let mut seeds = Vec::new();
    for s in skipped {
        let location = sources.location(s.span);
        match &s.what {
            Skipped::DropIfExists(names) => {
                let missing: Vec<String> = names
                    .iter()
                    .filter(|n| !provided.contains(n))
                    .map(ToString::to_string)
                    .collect();
                if missing.is_empty() {
                    let names: Vec<String> = names.iter().map(ToString::to_string).collect();
                    notes.push(format!(
                        "{location}: DROP ... IF EXISTS {} is skipped: the files declare it, and zdm re-creates an object only when the live one differs",
                        names.join(", ")
                    ));
                } else {
                    errors.push(
                        ParseErrorKind::Rejected,
                        s.span,
                        format!(
                            "DROP ... IF EXISTS of {}, which the files do not create",
                            missing.join(", ")
                        ),
                        Some("a DROP in a schema file is accepted only as the re-create idiom (DROP IF EXISTS x, then CREATE x); to drop an object, delete its CREATE from the files and zdm plans the drop"),
                    );
                }
            }
            Skipped::Insert(table) if data_tables.contains(table) => seeds.push(SeedInsert {
                table: table.clone(),
                span: s.span,
                text: sources.text(s.span).to_string(),
            }),
            Skipped::Insert(table) => notes.push(format!(
                "{location}: INSERT INTO {table} is skipped: zdm manages the schema, not rows; mark the table `-- zdm:data` (the line above its CREATE TABLE) to manage its rows by primary key, or keep seed data in a data migration"
            )),
        }
    }
    seeds
}
