//! Table inheritance: a child gains a parent with `ALTER TABLE ... INHERIT` (expand, after
//! the columns it must already have), loses one with `NO INHERIT` (contract: until then the
//! old application's queries on the parent still read the child's rows). Both are catalog
//! updates under ACCESS EXCLUSIVE on the child; both change what a query on the parent
//! returns, which is a hazard. A parent's column that a desired child keeps as its own is
//! dropped from the parent alone (`ALTER TABLE ONLY`, see [`keeps_column`]).

use crate::model::{Constraint, ConstraintKind, QualifiedName, Table};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, LockMode, Phase, Step};
use crate::sql::ddl;

fn columns(table: Option<&Table>) -> Vec<Resource> {
    table
        .map(|t| {
            t.columns
                .iter()
                .map(|c| Resource::Column(t.name.clone(), c.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

pub fn set_inherits(
    ctx: &Context,
    table: &QualifiedName,
    add: &[QualifiedName],
    remove: &[QualifiedName],
) -> Vec<Step> {
    let mut steps = Vec::new();
    for parent in remove {
        steps.push(
            Step::new(
                Phase::Contract,
                format!("stop {table} inheriting from {parent}"),
                ddl::tables::no_inherit(table, parent),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses([
                Resource::Relation(table.clone()),
                Resource::Relation(parent.clone()),
            ])
            // Before a column it leaves to the child is dropped.
            .uses(columns(ctx.live_table(table)))
            .hazard(
                HazardKind::AccessChange,
                format!("queries on {parent} no longer read the rows of {table}"),
            ),
        );
    }
    for parent in add {
        steps.push(
            Step::new(
                Phase::Expand,
                format!("make {table} inherit from {parent}"),
                ddl::tables::inherit(table, parent),
            )
            .lock(LockMode::AccessExclusive, table)
            .uses([
                Resource::Relation(table.clone()),
                Resource::Relation(parent.clone()),
            ])
            // The child must have every column of the parent first.
            .uses(columns(ctx.desired_table(table)))
            .uses(columns(ctx.desired_table(parent)))
            .uses(parent_demands(table, ctx.desired_table(parent)))
            .hazard(
                HazardKind::AccessChange,
                format!("queries on {parent} read the rows of {table} as well"),
            ),
        );
    }
    steps
}

/// What `INHERIT` requires the child to hold already: the parent's CHECKs, validated where
/// the parent's are (a NOT VALID one on the child conflicts with a valid one on the parent),
/// and NOT NULL on the columns the parent has NOT NULL. Depending on the validation puts
/// `INHERIT` in the validate phase when the child gets a CHECK in this plan.
fn parent_demands(child: &QualifiedName, parent: Option<&Table>) -> Vec<Resource> {
    let Some(parent) = parent else {
        return Vec::new();
    };
    let checks = parent
        .constraints
        .values()
        .filter(|c| c.kind == ConstraintKind::Check && !c.definition.ends_with("NO INHERIT"))
        .flat_map(|c| {
            let mut out = vec![Resource::Constraint(child.clone(), c.name.clone())];
            if c.validated {
                out.push(Resource::Validated(child.clone(), c.name.clone()));
            }
            out
        });
    let not_null = parent
        .columns
        .iter()
        .filter(|c| c.not_null)
        .map(|c| Resource::NotNull(child.clone(), c.name.clone()));
    checks.chain(not_null).collect()
}

/// What validating `constraint` on `table` provides to an `INHERIT` of a parent the table
/// gains in this plan (only then: other plans keep their steps as they were).
pub fn validated_before_inherit(
    ctx: &Context,
    table: &QualifiedName,
    constraint: &Constraint,
) -> Vec<Resource> {
    let gains_parent = ctx.desired_table(table).is_some_and(|t| {
        t.inherits.iter().any(|p| {
            !ctx.live_table(table)
                .is_some_and(|l| l.inherits.contains(p))
        })
    });
    if gains_parent && constraint.kind == ConstraintKind::Check {
        vec![Resource::Validated(table.clone(), constraint.name.clone())]
    } else {
        Vec::new()
    }
}

/// Whether a desired inheritance child of `parent` keeps `column` as a column of its own
/// while the parent drops it: then only the parent drops it (the child's copy stays, and
/// PostgreSQL makes it the child's own).
pub fn keeps_column(ctx: &Context, parent: &QualifiedName, column: &str) -> bool {
    ctx.to.tables.values().any(|child| {
        child.inherits.contains(parent)
            && child.column(column).is_some_and(|c| !c.inherited)
            && ctx
                .live_table(&child.name)
                .is_some_and(|live| live.inherits.contains(parent) && live.column(column).is_some())
    })
}
