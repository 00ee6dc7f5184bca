//! Keys that move: a PRIMARY KEY or UNIQUE constraint keeps its name but changes its columns
//! while foreign keys of other tables reference it.
//!
//! 1. expand: the new key's index is built `CONCURRENTLY` under a helper name, next to the
//!    old one (which keeps serving the old key and the foreign keys);
//! 2. validate, in one short transaction: the foreign keys that rely on the old key are
//!    dropped, the old key is dropped, the new one made from the built index (`ADD CONSTRAINT
//!    ... USING INDEX`, which gives the index the constraint's name), and the desired versions
//!    of those foreign keys added back `NOT VALID` under their names, with their actions and
//!    deferrability;
//! 3. validate: each re-added key is validated (SHARE UPDATE EXCLUSIVE, no long lock).
//!
//! At no committed moment is the table without a key or a referencing table without its
//! foreign key.

use crate::diff::Change;
use crate::model::{Constraint, ConstraintKind, QualifiedName, TableKind};
use crate::plan::resource::{columns_of, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, Step};
use crate::sql::quote_ident;

use super::{constraints, helper_name, indexes, recreate};

/// One key replaced under its own name.
struct Moved {
    table: QualifiedName,
    from: Constraint,
    to: Constraint,
    /// Live foreign keys (on their tables) that rely on the old key.
    relying: Vec<(QualifiedName, Constraint)>,
}

pub struct MovedKeys {
    moved: Vec<Moved>,
}

fn is_key(constraint: &Constraint) -> bool {
    matches!(
        constraint.kind,
        ConstraintKind::PrimaryKey | ConstraintKind::Unique
    )
}

/// The name the new key's index is built under until it becomes the constraint's.
fn building_name(constraint: &Constraint) -> String {
    helper_name("key", &constraint.name)
}

impl MovedKeys {
    pub fn new(ctx: &Context, changes: &[Change]) -> MovedKeys {
        let mut moved = Vec::new();
        for change in changes {
            let Change::AddConstraint { table, constraint } = change else {
                continue;
            };
            let Some(live) = ctx.live_table(table) else {
                continue;
            };
            let Some(from) = live.constraints.get(&constraint.name) else {
                continue;
            };
            if !is_key(from) || !is_key(constraint) || live.kind == TableKind::Partitioned {
                continue;
            }
            let relying = relying_keys(ctx, table, from);
            if relying.is_empty() {
                // Nothing references it: the plain drop-and-add recipe is enough.
                continue;
            }
            moved.push(Moved {
                table: table.clone(),
                from: from.clone(),
                to: constraint.clone(),
                relying,
            });
        }
        MovedKeys { moved }
    }

    /// The changes of the moved keys, of the foreign keys dropped and re-added around them,
    /// and the helper index left by an interrupted run.
    pub fn claims(&self, change: &Change) -> bool {
        self.moved.iter().any(|m| match change {
            Change::AddConstraint { table, constraint }
            | Change::DropConstraint { table, constraint } => {
                (table == &m.table && constraint.name == m.to.name)
                    || m.relying
                        .iter()
                        .any(|(t, fk)| t == table && fk.name == constraint.name)
            }
            Change::DropIndex { table, index } => {
                table == &m.table && index.name == building_name(&m.to)
            }
            _ => false,
        })
    }

    pub fn steps(&self, ctx: &Context) -> Vec<Step> {
        self.moved
            .iter()
            .flat_map(|m| moved_steps(ctx, m))
            .collect()
    }
}

/// Live foreign keys that PostgreSQL ties to `key`'s index.
fn relying_keys(
    ctx: &Context,
    table: &QualifiedName,
    key: &Constraint,
) -> Vec<(QualifiedName, Constraint)> {
    let mut columns = key.columns.clone();
    columns.sort();
    ctx.from
        .tables
        .values()
        .flat_map(|t| t.constraints.values().map(move |c| (&t.name, c)))
        .filter(|(_, fk)| {
            let Some(reference) = fk.foreign_key.as_ref().filter(|_| !fk.inherited) else {
                return false;
            };
            let mut referenced = reference.referenced_columns.clone();
            referenced.sort();
            &reference.referenced_table == table
                && match &reference.referenced_index {
                    Some(index) => key.index.as_ref() == Some(index),
                    None => referenced == columns,
                }
        })
        .map(|(name, fk)| (name.clone(), fk.clone()))
        .collect()
}

fn moved_steps(ctx: &Context, moved: &Moved) -> Vec<Step> {
    let table = &moved.table;
    let building = building_name(&moved.to);
    let building_relation =
        Resource::Relation(QualifiedName::new(table.schema.clone(), building.clone()));
    let mut steps = Vec::new();
    let built = ctx
        .live_table(table)
        .and_then(|t| t.indexes.get(&building))
        .is_some_and(|i| i.valid);
    if !built {
        let definition = moved.to.index_definition.clone().unwrap_or_default();
        let mut build = indexes::build_concurrently(table, &building, &definition)
            .uses([Resource::Relation(table.clone())])
            .uses(columns_of(table, &moved.to.columns))
            .creates([building_relation.clone()]);
        if ctx.has_rows(table) {
            build = build.hazard(
                HazardKind::MayFail,
                format!(
                    "fails if {table} holds duplicate values for {}",
                    quote_ident(&moved.to.name)
                ),
            );
        }
        steps.push(build);
    }
    let mut validations = Vec::new();
    let swap = swap_step(ctx, moved, &building, building_relation, &mut validations);
    for validation in &mut validations {
        validation.after_drop_of.extend(swap.drops.iter().cloned());
    }
    steps.push(swap);
    steps.extend(validations);
    steps
}

/// The one transaction that trades the old key for the new one around its foreign keys.
fn swap_step(
    ctx: &Context,
    moved: &Moved,
    building: &str,
    building_relation: Resource,
    validations: &mut Vec<Step>,
) -> Step {
    let table = &moved.table;
    let name = quote_ident(&moved.to.name);
    let mut sql: Vec<String> = moved
        .relying
        .iter()
        .map(|(fk_table, fk)| {
            format!(
                "ALTER TABLE {fk_table} DROP CONSTRAINT {};",
                quote_ident(&fk.name)
            )
        })
        .collect();
    sql.push(format!("ALTER TABLE {table} DROP CONSTRAINT {name};"));
    sql.push(constraints::attach_sql(table, &moved.to, building));
    let mut uses = vec![building_relation.clone()];
    if moved.to.kind == ConstraintKind::PrimaryKey {
        // ADD PRIMARY KEY would otherwise scan the table to set NOT NULL under its lock.
        uses.extend(
            moved
                .to
                .columns
                .iter()
                .map(|c| Resource::NotNull(table.clone(), c.clone())),
        );
    }
    let key = Resource::Constraint(table.clone(), moved.to.name.clone());
    let index = |n: &Option<String>| {
        n.iter()
            .map(|i| Resource::Relation(QualifiedName::new(table.schema.clone(), i.clone())))
            .collect::<Vec<_>>()
    };
    let mut creates = vec![key.clone()];
    creates.extend(index(&moved.to.index));
    let mut drops = vec![key, building_relation];
    drops.extend(index(&moved.from.index));
    let mut names = Vec::new();
    for (fk_table, live) in &moved.relying {
        drops.push(Resource::Constraint(fk_table.clone(), live.name.clone()));
        let Some(fk) = ctx
            .desired_table(fk_table)
            .and_then(|t| t.constraints.get(&live.name))
        else {
            continue;
        };
        let before = validations.len();
        sql.push(recreate::re_add(ctx, fk_table, fk, validations));
        if ctx.has_rows(fk_table) && fk.definition != live.definition {
            for validation in &mut validations[before..] {
                validation.hazards.push(crate::plan::Hazard {
                    kind: HazardKind::MayFail,
                    message: format!(
                        "fails if rows of {fk_table} do not match {} over the moved key of {table}",
                        quote_ident(&fk.name)
                    ),
                });
            }
        }
        creates.push(Resource::Constraint(fk_table.clone(), fk.name.clone()));
        uses.extend(constraints::referenced(ctx.to, fk));
        uses.extend(columns_of(fk_table, &fk.columns));
        names.push(format!("{} on {fk_table}", quote_ident(&fk.name)));
    }
    uses.retain(|r| !creates.contains(r));
    let mut locked = vec![table.to_string()];
    locked.extend(moved.relying.iter().map(|(t, _)| t.to_string()));
    locked.dedup();
    Step::new(
        Phase::Validate,
        format!(
            "move key {name} of {table} to its new columns (re-adding the foreign keys that rely on it: {})",
            names.join(", ")
        ),
        sql.join("\n"),
    )
    .lock(LockMode::AccessExclusive, locked.join(", "))
    .uses(uses)
    .creates(creates)
    .drops(drops)
}
