//! Schemas, extensions, enum types, sequences and comments.

use crate::diff::Change;
use crate::model::{ObjectId, Sequence};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, Phase, Step};
use crate::sql::ddl;
use crate::sql::{quote_ident, quote_literal};

pub fn steps(ctx: &Context, change: &Change) -> Vec<Step> {
    use Change::*;
    match change {
        CreateSchema { schema } => vec![Step::new(
            Phase::Expand,
            format!("create schema {}", quote_ident(&schema.name)),
            ddl::create_schema(schema),
        )
        .creates([Resource::Schema(schema.name.clone())])],
        DropSchema { schema } => vec![Step::new(
            Phase::Contract,
            format!("drop schema {}", quote_ident(&schema.name)),
            ddl::objects::drop_schema(&schema.name),
        )
        .drops([Resource::Schema(schema.name.clone())])],
        CreateExtension { extension } => vec![Step::new(
            Phase::Expand,
            format!("create extension {}", quote_ident(&extension.name)),
            ddl::create_extension(extension),
        )
        .uses([Resource::Schema(extension.schema.clone())])
        .creates([Resource::Extension(extension.name.clone())])],
        DropExtension { extension } => vec![Step::new(
            Phase::Contract,
            format!("drop extension {}", quote_ident(&extension.name)),
            ddl::objects::drop_extension(&extension.name),
        )
        // Drops of what lives in a schema go before the schema's own drop.
        .uses([Resource::Schema(extension.schema.clone())])
        .drops([Resource::Extension(extension.name.clone())])
        .hazard(
            HazardKind::DataLoss,
            "dropping an extension drops the types and functions it provides",
        )],
        SetExtensionSchema { extension, .. } => vec![Step::new(
            Phase::Expand,
            format!("move extension {}", quote_ident(&extension.name)),
            ddl::objects::set_extension_schema(extension),
        )
        .uses([
            Resource::Extension(extension.name.clone()),
            Resource::Schema(extension.schema.clone()),
        ])],
        UpdateExtension {
            extension,
            from_version,
        } => vec![Step::new(
            Phase::Expand,
            format!(
                "update extension {} from version {from_version} to {}",
                quote_ident(&extension.name),
                extension.version
            ),
            ddl::objects::update_extension(extension),
        )
        .uses([Resource::Extension(extension.name.clone())])
        .hazard(
            HazardKind::MayFail,
            "the extension's update script runs as written by its authors: it may rewrite \
             or lock what the extension's objects are used by",
        )],
        CreateEnum { enum_type } => vec![Step::new(
            Phase::Expand,
            format!("create type {}", enum_type.name),
            ddl::create_enum(enum_type),
        )
        .uses([Resource::Schema(enum_type.name.schema.clone())])
        .creates([Resource::Type(enum_type.name.clone())])],
        DropEnum { enum_type } => vec![Step::new(
            Phase::Contract,
            format!("drop type {}", enum_type.name),
            ddl::objects::drop_type(&enum_type.name),
        )
        .uses([Resource::Schema(enum_type.name.schema.clone())])
        .drops([Resource::Type(enum_type.name.clone())])],
        AddEnumValue {
            name,
            value,
            position,
        } => {
            vec![Step::new(
                Phase::Expand,
                format!("add value {} to type {name}", quote_literal(value)),
                ddl::objects::add_enum_value(name, value, position),
            )
            .uses([Resource::Type(name.clone())])]
        }
        // Planned before the diff by `enum_rebuild` (the plan is made towards a model where
        // this change does not arise).
        ReplaceEnum { .. } => Vec::new(),
        CreateSequence { sequence } => create_sequence(sequence),
        // Dropped by the step that makes its column an identity column.
        DropSequence { sequence } if super::identity::is_replaced_by_identity(ctx, sequence) => {
            Vec::new()
        }
        DropSequence { sequence } => vec![Step::new(
            Phase::Contract,
            format!("drop sequence {}", sequence.name),
            // A sequence owned by a column that this plan drops goes with it.
            ddl::sequences::drop_if_exists(&sequence.name),
        )
        .uses([Resource::Schema(sequence.name.schema.clone())])
        .drops([Resource::Relation(sequence.name.clone())])],
        AlterSequence { from, to } => alter_sequence(from, to),
        SetComment { target, comment } => vec![Step::new(
            Phase::Expand,
            format!(
                "{} comment on {}",
                if comment.is_some() { "set" } else { "remove" },
                target.sql().to_lowercase()
            ),
            ddl::comment_on(&target.sql(), comment.as_deref()),
        )
        .uses(comment_uses(target))],
        _ => unreachable!("not an object-level change: {change:?}"),
    }
}

/// What a comment is on, as a graph vertex (see `Resource::of`).
fn comment_uses(target: &ObjectId) -> Vec<Resource> {
    vec![Resource::of(target)]
}

fn create_sequence(sequence: &Sequence) -> Vec<Step> {
    let mut steps = vec![Step::new(
        Phase::Expand,
        format!("create sequence {}", sequence.name),
        ddl::create_sequence(sequence),
    )
    .uses([Resource::Schema(sequence.name.schema.clone())])
    .creates([Resource::Relation(sequence.name.clone())])];
    if let Some(owner) = &sequence.owned_by {
        steps.push(
            Step::new(
                Phase::Expand,
                format!("make {} owned by its column", sequence.name),
                ddl::sequence_owned_by(sequence),
            )
            .uses([
                Resource::Relation(sequence.name.clone()),
                Resource::Column(owner.table.clone(), owner.column.clone()),
            ]),
        );
    }
    steps
}

fn alter_sequence(from: &Sequence, to: &Sequence) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut options_from = from.clone();
    options_from.owned_by = to.owned_by.clone();
    options_from.comment = to.comment.clone();
    if &options_from != to {
        steps.push(
            Step::new(
                Phase::Expand,
                format!("alter sequence {}", to.name),
                ddl::sequences::alter_options(to),
            )
            .uses([Resource::Relation(to.name.clone())]),
        );
    }
    if from.owned_by != to.owned_by {
        let mut uses = vec![Resource::Relation(to.name.clone())];
        if let Some(owner) = &to.owned_by {
            uses.push(Resource::Column(owner.table.clone(), owner.column.clone()));
        }
        steps.push(
            Step::new(
                Phase::Expand,
                format!("change owner column of sequence {}", to.name),
                ddl::sequence_owned_by(to),
            )
            .uses(uses),
        );
    }
    steps
}
