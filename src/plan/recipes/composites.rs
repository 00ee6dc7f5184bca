//! Composite types. Attributes are added in place (catalog only: stored values read the new
//! attribute as NULL), dropped in contract (the values stored in columns of the type are
//! lost: a hazard) and retyped in place where no column uses the type (PostgreSQL refuses
//! otherwise; functions using it are not re-checked: a hazard). A new attribute order is a
//! new type: possible only while nothing uses it.

use crate::model::{Attribute, CompositeType, Kind, Model, ObjectId};
use crate::plan::resource::{type_uses, Resource};
use crate::plan::{Context, HazardKind, Phase, PlanError, Step};
use crate::sql::ddl::composites as ddl;
use crate::sql::quote_ident;

fn id(composite: &CompositeType) -> ObjectId {
    ObjectId::new(Kind::Type, &composite.name.schema, &composite.name.name)
}

/// What a composite type needs: its schema, its attributes' types (and their collations),
/// and what its `pg_depend` edges name.
fn needs(model: &Model, composite: &CompositeType) -> Vec<Resource> {
    let mut out = vec![Resource::Schema(composite.name.schema.clone())];
    for attribute in &composite.attributes {
        out.extend(attribute_needs(model, attribute));
    }
    out.extend(model.needs(&id(composite)).map(Resource::of));
    let own = Resource::Type(composite.name.clone());
    out.retain(|r| r != &own);
    out
}

fn attribute_needs(model: &Model, attribute: &Attribute) -> Vec<Resource> {
    let mut out = type_uses(model, &attribute.data_type);
    out.extend(crate::plan::resource::collation_uses(
        model,
        attribute.collation.as_deref(),
    ));
    out
}

pub fn create(ctx: &Context, composite: &CompositeType) -> Step {
    let mut sql = vec![ddl::create(composite)];
    sql.extend(ddl::comments(composite));
    Step::new(
        Phase::Expand,
        format!("create type {}", composite.name),
        sql.join("\n"),
    )
    .uses(needs(ctx.to, composite))
    .creates([Resource::Type(composite.name.clone())])
}

/// Contract, after the columns, routines and types that use it (their steps use the type).
pub fn drop(ctx: &Context, composite: &CompositeType) -> Step {
    Step::new(
        Phase::Contract,
        format!("drop type {}", composite.name),
        ddl::drop(composite),
    )
    .uses(needs(ctx.from, composite))
    .drops([Resource::Type(composite.name.clone())])
}

/// Who uses the live type: columns (`table.column`, which store its values), and the routines,
/// views, types and domains that name it.
struct Users {
    columns: Vec<String>,
    others: Vec<String>,
}

fn users(ctx: &Context, composite: &CompositeType) -> Users {
    let columns = ctx
        .from
        .tables
        .values()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| !c.inherited && composite.is_type_of(&c.data_type))
                .map(move |c| format!("{}.{}", t.name, quote_ident(&c.name)))
        })
        .collect();
    let type_id = id(composite);
    let mut others: Vec<String> = ctx
        .from
        .depends
        .iter()
        .filter(|d| d.referenced == type_id)
        .map(|d| d.dependent.to_string())
        .collect();
    others.extend(
        ctx.from
            .domains
            .values()
            .filter(|d| composite.is_type_of(&d.base_type))
            .map(|d| d.name.to_string()),
    );
    others.sort();
    others.dedup();
    Users { columns, others }
}

/// Whether `to` keeps `from`'s attributes in their order and only appends new ones.
fn appends_only(from: &CompositeType, to: &CompositeType) -> bool {
    let kept: Vec<&str> = to
        .attributes
        .iter()
        .filter(|a| from.attribute(&a.name).is_some())
        .map(|a| a.name.as_str())
        .collect();
    let old_order: Vec<&str> = from
        .attributes
        .iter()
        .filter(|a| to.attribute(&a.name).is_some())
        .map(|a| a.name.as_str())
        .collect();
    let first_new = to
        .attributes
        .iter()
        .position(|a| from.attribute(&a.name).is_none());
    let last_kept = to
        .attributes
        .iter()
        .rposition(|a| from.attribute(&a.name).is_some());
    let new_at_end = match (first_new, last_kept) {
        (Some(new), Some(kept)) => new > kept,
        _ => true,
    };
    kept == old_order && new_at_end
}

pub fn alter(
    ctx: &Context,
    from: &CompositeType,
    to: &CompositeType,
) -> Result<Vec<Step>, PlanError> {
    let users = users(ctx, from);
    if !appends_only(from, to) {
        return recreate(ctx, from, to, &users).map(|s| vec![s]);
    }
    let uses = || Resource::Type(to.name.clone());
    let mut steps = Vec::new();
    for old in &from.attributes {
        if to.attribute(&old.name).is_none() {
            steps.push(drop_attribute(from, old, &users).uses([uses()]));
        }
    }
    for new in &to.attributes {
        let noun = format!("attribute {} of type {}", quote_ident(&new.name), to.name);
        match from.attribute(&new.name) {
            None => steps.push(
                Step::new(
                    Phase::Expand,
                    format!("add {noun}"),
                    ddl::add_attribute(to, new),
                )
                .uses([uses()])
                .uses(attribute_needs(ctx.to, new)),
            ),
            Some(old) if old.data_type != new.data_type || old.collation != new.collation => {
                steps.push(retype(ctx, to, new, &users, noun)?.uses([uses()]));
            }
            Some(_) => {}
        }
        if from.attribute(&new.name).and_then(|a| a.comment.as_ref()) != new.comment.as_ref() {
            steps.push(
                Step::new(
                    Phase::Expand,
                    format!(
                        "comment attribute {} of type {}",
                        quote_ident(&new.name),
                        to.name
                    ),
                    ddl::attribute_comment(to, new),
                )
                .uses([uses()]),
            );
        }
    }
    if from.comment != to.comment {
        steps.push(
            Step::new(
                Phase::Expand,
                format!("comment type {}", to.name),
                ddl::comment(to),
            )
            .uses([uses()]),
        );
    }
    Ok(steps)
}

fn drop_attribute(composite: &CompositeType, attribute: &Attribute, users: &Users) -> Step {
    let step = Step::new(
        Phase::Contract,
        format!(
            "drop attribute {} of type {}",
            quote_ident(&attribute.name),
            composite.name
        ),
        ddl::drop_attribute(composite, &attribute.name),
    );
    if users.columns.is_empty() {
        return step;
    }
    step.hazard(
        HazardKind::DataLoss,
        format!(
            "the values of attribute {} stored in {} are lost",
            quote_ident(&attribute.name),
            users.columns.join(", ")
        ),
    )
}

/// `ALTER ATTRIBUTE ... TYPE`: refused by PostgreSQL while a column stores the type.
fn retype(
    ctx: &Context,
    composite: &CompositeType,
    attribute: &Attribute,
    users: &Users,
    noun: String,
) -> Result<Step, PlanError> {
    if !users.columns.is_empty() {
        return Err(PlanError::Unsupported {
            what: format!("the new type of {noun}"),
            reason: format!(
                "column(s) {} store the type and PostgreSQL cannot convert them in place; \
                 create a type under a new name, convert the columns to it (`-- zdm:using`), \
                 then drop the old one",
                users.columns.join(", ")
            ),
        });
    }
    let step = Step::new(
        Phase::Expand,
        format!("change the type of {noun}"),
        ddl::alter_attribute_type(composite, attribute),
    )
    .uses(attribute_needs(ctx.to, attribute));
    if users.others.is_empty() {
        return Ok(step);
    }
    Ok(step.hazard(
        HazardKind::MayFail,
        format!(
            "{} use(s) the type and are not re-checked: a body reading the attribute may \
             fail or return another type",
            users.others.join(", ")
        ),
    ))
}

/// Attributes reordered or inserted in the middle: drop and create, which PostgreSQL allows
/// only while nothing uses the type. Otherwise refused with the recipe.
fn recreate(
    ctx: &Context,
    from: &CompositeType,
    to: &CompositeType,
    users: &Users,
) -> Result<Step, PlanError> {
    let all: Vec<&String> = users.columns.iter().chain(&users.others).collect();
    if !all.is_empty() {
        return Err(PlanError::Unsupported {
            what: format!("the new attribute order of type {}", to.name),
            reason: format!(
                "{} use(s) it and ALTER TYPE can only append attributes; create a type under \
                 a new name, move the users to it, then drop the old one",
                all.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let mut sql = vec![ddl::drop(from), ddl::create(to)];
    sql.extend(ddl::comments(to));
    Ok(Step::new(
        Phase::Expand,
        format!("re-create type {} (attributes reordered)", to.name),
        sql.join("\n"),
    )
    .uses(needs(ctx.to, to))
    .uses([Resource::Type(to.name.clone())]))
}
