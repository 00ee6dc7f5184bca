//! Collations. PostgreSQL cannot change a collation's provider or locale in place
//! (`ALTER COLLATION` only refreshes its version, renames or moves it): a new definition is a
//! drop and a create, possible only while no column, domain or type attribute uses it.

use crate::model::{Collation, Model};
use crate::plan::resource::Resource;
use crate::plan::{Context, Phase, PlanError, Step};
use crate::sql::ddl::collations as ddl;

pub fn create(collation: &Collation) -> Step {
    let mut sql = vec![ddl::create(collation)];
    if collation.comment.is_some() {
        sql.push(ddl::comment(collation));
    }
    Step::new(
        Phase::Expand,
        format!("create collation {}", collation.name),
        sql.join("\n"),
    )
    .uses([Resource::Schema(collation.name.schema.clone())])
    .creates([Resource::Collation(collation.name.clone())])
}

/// Contract, after the columns that used it changed (their steps use it).
pub fn drop(collation: &Collation) -> Step {
    Step::new(
        Phase::Contract,
        format!("drop collation {}", collation.name),
        ddl::drop(collation),
    )
    .uses([Resource::Schema(collation.name.schema.clone())])
    .drops([Resource::Collation(collation.name.clone())])
}

/// Columns, domains and composite type attributes of `model` that use the collation.
fn users(model: &Model, collation: &Collation) -> Vec<String> {
    let name = collation.name.to_string();
    let named = |c: &Option<String>| c.as_deref() == Some(name.as_str());
    let mut out: Vec<String> = model
        .tables
        .values()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| !c.inherited && named(&c.collation))
                .map(move |c| format!("{}.{}", t.name, crate::sql::quote_ident(&c.name)))
        })
        .collect();
    out.extend(
        model
            .domains
            .values()
            .filter(|d| named(&d.collation))
            .map(|d| d.name.to_string()),
    );
    out.extend(
        model
            .composites
            .values()
            .filter(|t| t.attributes.iter().any(|a| named(&a.collation)))
            .map(|t| t.name.to_string()),
    );
    out.extend(
        model
            .ranges
            .values()
            .filter(|r| named(&r.collation))
            .map(|r| r.name.to_string()),
    );
    out
}

pub fn alter(ctx: &Context, from: &Collation, to: &Collation) -> Result<Vec<Step>, PlanError> {
    let uses = [Resource::Collation(to.name.clone())];
    if from.same_definition(to) {
        return Ok(vec![Step::new(
            Phase::Expand,
            format!("comment collation {}", to.name),
            ddl::comment(to),
        )
        .uses(uses)]);
    }
    let users = users(ctx.from, from);
    if !users.is_empty() {
        return Err(PlanError::Unsupported {
            what: format!("the new definition of collation {}", to.name),
            reason: format!(
                "{} use(s) it and PostgreSQL cannot change a collation in place; create one \
                 under a new name, move the columns to it, then drop the old one",
                users.join(", ")
            ),
        });
    }
    let mut sql = vec![ddl::drop(from), ddl::create(to)];
    if to.comment.is_some() {
        sql.push(ddl::comment(to));
    }
    Ok(vec![Step::new(
        Phase::Expand,
        format!("re-create collation {} (new definition)", to.name),
        sql.join("\n"),
    )
    .uses(uses)])
}
