//! Range types. PostgreSQL cannot change a range type in place (`ALTER TYPE` only renames,
//! moves or re-owns it): a new definition builds the type again. Every column storing it is
//! parked in its text form, the old type dropped, the new one created and the columns
//! converted back, in one step;
//! the views, routines and policies that use it are dropped and created again around that
//! step (see `cascade`). A domain or composite type built on it refuses the plan, with the
//! recipe to do it by hand.

use crate::model::{Model, QualifiedName, RangeType};
use crate::plan::resource::{collation_uses, columns_of, type_uses, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, PlanError, Step, TableWork};
use crate::sql::ddl::ranges as ddl;

/// The range type and its multirange, as graph resources.
pub fn resources(range: &RangeType) -> Vec<Resource> {
    std::iter::once(range.name.clone())
        .chain(range.multirange.clone())
        .map(Resource::Type)
        .collect()
}

/// What `CREATE TYPE ... AS RANGE` needs: its schema, subtype, collation and functions.
fn needs(model: &Model, range: &RangeType) -> Vec<Resource> {
    let mut out = vec![Resource::Schema(range.name.schema.clone())];
    out.extend(type_uses(model, &range.subtype));
    out.extend(collation_uses(model, range.collation.as_deref()));
    for function in [&range.canonical, &range.subtype_diff]
        .into_iter()
        .flatten()
    {
        out.extend(
            model
                .routines
                .values()
                .filter(|r| &r.name.to_string() == function)
                .map(|r| Resource::Routine(r.id.clone())),
        );
    }
    out
}

fn create_sql(range: &RangeType) -> Vec<String> {
    let mut sql = vec![ddl::create(range)];
    if range.comment.is_some() {
        sql.push(ddl::comment(range));
    }
    sql
}

pub fn create(ctx: &Context, range: &RangeType) -> Step {
    Step::new(
        Phase::Expand,
        format!("create range type {}", range.name),
        create_sql(range).join("\n"),
    )
    .uses(needs(ctx.to, range))
    .creates(resources(range))
}

/// Contract, after the columns that stored it changed (their steps use it).
pub fn drop(range: &RangeType) -> Step {
    Step::new(
        Phase::Contract,
        format!("drop range type {}", range.name),
        ddl::drop(range),
    )
    .uses([Resource::Schema(range.name.schema.clone())])
    .drops(resources(range))
}

/// A column storing the type (or its multirange, or an array of either) on both sides.
struct Stored {
    table: QualifiedName,
    column: String,
    data_type: String,
    default: Option<String>,
}

/// The columns of the live tables that store `range`, with their desired type (a column
/// whose desired type is another is left to its own change).
fn stored(ctx: &Context, range: &RangeType) -> Vec<Stored> {
    let mut out = Vec::new();
    for table in ctx.from.tables.values() {
        for column in table.columns.iter().filter(|c| !c.inherited) {
            let desired = ctx
                .desired_table(&table.name)
                .and_then(|t| t.column(&column.name));
            match desired {
                Some(d)
                    if range.is_type_of(&column.data_type) && d.data_type == column.data_type =>
                {
                    out.push(Stored {
                        table: table.name.clone(),
                        column: column.name.clone(),
                        data_type: column.data_type.clone(),
                        default: d.default.clone(),
                    })
                }
                _ => {}
            }
        }
    }
    out
}

/// The columns `alter` converts, for `cascade`: views reading them are re-created around it.
pub fn converted_columns(ctx: &Context, range: &RangeType) -> Vec<Resource> {
    stored(ctx, range)
        .into_iter()
        .map(|s| Resource::Column(s.table, s.column))
        .collect()
}

/// Domains and composite types of the live side built on the type: they cannot follow it.
fn blocking_users(model: &Model, range: &RangeType) -> Vec<String> {
    let domains = model
        .domains
        .values()
        .filter(|d| range.is_type_of(&d.base_type))
        .map(|d| format!("domain {}", d.name));
    let composites = model
        .composites
        .values()
        .filter(|c| c.attributes.iter().any(|a| range.is_type_of(&a.data_type)))
        .map(|c| format!("type {}", c.name));
    domains.chain(composites).collect()
}

pub fn alter(ctx: &Context, from: &RangeType, to: &RangeType) -> Result<Vec<Step>, PlanError> {
    if from.same_definition(to) {
        return Ok(vec![Step::new(
            Phase::Expand,
            format!("comment range type {}", to.name),
            ddl::comment(to),
        )
        .uses([Resource::Type(to.name.clone())])]);
    }
    let blocking = blocking_users(ctx.from, from);
    if !blocking.is_empty() {
        return Err(PlanError::Unsupported {
            what: format!("the new definition of range type {}", to.name),
            reason: format!(
                "{} use(s) it and PostgreSQL cannot change a range type in place; create the \
                 new definition under a new name, move its users to it (a column with \
                 `-- zdm:using`), then drop the old one",
                blocking.join(", ")
            ),
        });
    }
    Ok(vec![rebuild(ctx, from, to)])
}

/// Park the columns in text, drop the old type, create the new one, convert the columns
/// back. (Renaming the old type away does not free its name: its constructor functions keep
/// theirs.)
fn rebuild(ctx: &Context, from: &RangeType, to: &RangeType) -> Step {
    let columns = stored(ctx, from);
    let mut sql = Vec::new();
    for c in &columns {
        if c.default.is_some() {
            sql.push(ddl::drop_default(&c.table, &c.column));
        }
        sql.push(ddl::convert_column(
            &c.table,
            &c.column,
            &text_form(&c.data_type),
        ));
    }
    sql.push(ddl::drop(from));
    sql.extend(create_sql(to));
    for c in &columns {
        sql.push(ddl::convert_column(&c.table, &c.column, &c.data_type));
        if let Some(default) = &c.default {
            sql.push(ddl::set_default(&c.table, &c.column, default));
        }
    }
    let mut step = Step::new(
        Phase::Expand,
        format!("re-create range type {} (new definition)", to.name),
        sql.join("\n"),
    )
    .uses(needs(ctx.to, to))
    .repoints(resources(from))
    .repoints(
        columns
            .iter()
            .map(|c| Resource::Column(c.table.clone(), c.column.clone())),
    )
    .uses(columns_of_all(&columns));
    if columns.is_empty() {
        return step;
    }
    let mut tables: Vec<String> = columns.iter().map(|c| c.table.to_string()).collect();
    tables.dedup();
    step = step
        .lock(LockMode::AccessExclusive, tables.join(", "))
        .work(TableWork::Rewrite)
        .hazard(
            HazardKind::TableRewrite,
            format!(
                "PostgreSQL cannot change a range type in place: the type is rebuilt and {} \
                 rewritten twice (to text and back) under ACCESS EXCLUSIVE",
                tables.join(", ")
            ),
        );
    if from.subtype != to.subtype || from.collation != to.collation {
        step = step.hazard(
            HazardKind::MayFail,
            format!(
                "the stored values are converted from {} to {} through their text form, \
                 which fails on a value the new subtype cannot hold",
                from.subtype, to.subtype
            ),
        );
    }
    step
}

/// `text`, or `text[]` for an array column.
fn text_form(data_type: &str) -> String {
    let dims = (data_type.len() - data_type.trim_end_matches("[]").len()) / 2;
    format!("text{}", "[]".repeat(dims))
}

fn columns_of_all(columns: &[Stored]) -> Vec<Resource> {
    columns
        .iter()
        .flat_map(|c| columns_of(&c.table, std::slice::from_ref(&c.column)))
        .collect()
}
