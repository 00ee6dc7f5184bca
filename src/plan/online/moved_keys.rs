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
//!
//! A primary key that the files give another name goes the same way, foreign keys or not:
//! the new one cannot be added while the old one stands. On a partitioned table the index is
//! built concurrently on each partition instead, each made that partition's key in the swap,
//! and the parent's `ADD CONSTRAINT` then attaches them (catalog only).

use crate::diff::Change;
use crate::model::{Constraint, ConstraintKind, QualifiedName, Table, TableKind};
use crate::plan::resource::{columns_of, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, Step};
use crate::sql::{ddl, quote_ident};

use crate::plan::recipes::{
    constraints, helper_name, indexes, partition_relink, partitioned, recreate,
};

/// One key replaced under its own name (or, for a primary key, under a new one).
struct Moved {
    table: QualifiedName,
    from: Constraint,
    to: Constraint,
    /// Live foreign keys (on their tables) that rely on the old key.
    relying: Vec<(QualifiedName, Constraint)>,
    /// Where the new key's indexes are built before the swap: the table itself, or each
    /// partition of a partitioned table (whose parent key then attaches the partitions').
    parts: Vec<Part>,
}

/// One index built concurrently under a helper name and made the constraint `key` of `table`
/// (`ADD CONSTRAINT ... USING INDEX`, which renames it) in the swap.
struct Part {
    table: QualifiedName,
    key: Constraint,
    helper: String,
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

/// The indexes the new key `to` of `table` needs built; `None` when a partition of a
/// partitioned table cannot take its part.
fn parts(ctx: &Context, table: &QualifiedName, to: &Constraint) -> Option<Vec<Part>> {
    if ctx.live_table(table)?.kind != TableKind::Partitioned {
        return Some(vec![Part {
            table: table.clone(),
            key: to.clone(),
            helper: building_name(to),
        }]);
    }
    partitioned::kept_partitions(ctx, table)
        .into_iter()
        .map(|partition| {
            if partition.kind != TableKind::Regular {
                return None;
            }
            let own = partitioned::desired_partition_key(ctx, &partition.name, to)?;
            Some(Part {
                table: partition.name.clone(),
                key: own.clone(),
                helper: building_name(own),
            })
        })
        .collect()
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
            let renamed = renamed_primary_key(ctx, table, constraint);
            let Some(from) = live.constraints.get(&constraint.name).or(renamed) else {
                continue;
            };
            if !is_key(from) || !is_key(constraint) {
                continue;
            }
            let relying = relying_keys(ctx, table, from);
            if relying.is_empty() && renamed.is_none() {
                // Nothing references it: the plain drop-and-add recipe is enough. (A primary
                // key under a new name is not: the new one cannot be added while the old one
                // stands, so the two trade places in one transaction here.)
                continue;
            }
            let Some(parts) = parts(ctx, table, constraint) else {
                // A partition that cannot take its part (sub-partitioned, no desired key):
                // the plain recipes do what they can.
                continue;
            };
            moved.push(Moved {
                table: table.clone(),
                from: from.clone(),
                to: constraint.clone(),
                relying,
                parts,
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
                (table == &m.table
                    && (constraint.name == m.to.name || constraint.name == m.from.name))
                    || m.relying
                        .iter()
                        .any(|(t, fk)| t == table && fk.name == constraint.name)
            }
            Change::DropIndex { table, index } => m
                .parts
                .iter()
                .any(|p| &p.table == table && p.helper == index.name),
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

/// The live primary key of `table` that the desired one, `key`, replaces under another name
/// (a table has one primary key, so the two cannot stand side by side).
fn renamed_primary_key<'a>(
    ctx: &'a Context,
    table: &QualifiedName,
    key: &Constraint,
) -> Option<&'a Constraint> {
    if key.kind != ConstraintKind::PrimaryKey {
        return None;
    }
    let desired = ctx.desired_table(table)?;
    ctx.live_table(table)?.constraints.values().find(|c| {
        c.kind == ConstraintKind::PrimaryKey
            && c.name != key.name
            && !c.inherited
            && !desired.constraints.contains_key(&c.name)
    })
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
    let mut steps: Vec<Step> = moved
        .parts
        .iter()
        .filter_map(|part| build_part(ctx, part))
        .collect();
    for partition in relinked(ctx, moved) {
        steps.extend(partition_relink::prepare(partition));
    }
    let mut validations = Vec::new();
    let swap = swap_step(ctx, moved, &mut validations);
    for validation in &mut validations {
        validation.after_drop_of.extend(swap.drops.iter().cloned());
    }
    steps.push(swap);
    steps.extend(validations);
    steps
}

/// The live partitions whose new key parts must be relinked to inherit their NOT NULL
/// constraints (see `partition_relink`).
fn relinked<'a>(ctx: &'a Context, moved: &Moved) -> Vec<&'a Table> {
    if !partition_relink::needed(ctx, &moved.to) {
        return Vec::new();
    }
    moved
        .parts
        .iter()
        .filter(|p| p.table != moved.table)
        .filter_map(|p| ctx.live_table(&p.table))
        .collect()
}

fn helper_relation(part: &Part) -> Resource {
    Resource::Relation(QualifiedName::new(
        part.table.schema.clone(),
        part.helper.clone(),
    ))
}

/// The concurrent build of a part's index, unless a valid one is there from an earlier run.
fn build_part(ctx: &Context, part: &Part) -> Option<Step> {
    let table = &part.table;
    let built = ctx
        .live_table(table)
        .and_then(|t| t.indexes.get(&part.helper))
        .is_some_and(|i| i.valid);
    if built {
        return None;
    }
    let definition = part.key.index_definition.clone().unwrap_or_default();
    let mut build = indexes::build_concurrently(table, &part.helper, &definition)
        .uses([Resource::Relation(table.clone())])
        .uses(columns_of(table, &part.key.columns))
        .creates([helper_relation(part)]);
    if ctx.has_rows(table) {
        build = build.hazard(
            HazardKind::MayFail,
            format!(
                "fails if {table} holds duplicate values for {}",
                quote_ident(&part.key.name)
            ),
        );
    }
    Some(build)
}

/// The one transaction that trades the old key for the new one around its foreign keys.
fn swap_step(ctx: &Context, moved: &Moved, validations: &mut Vec<Step>) -> Step {
    let table = &moved.table;
    let name = quote_ident(&moved.to.name);
    let mut sql: Vec<String> = moved
        .relying
        .iter()
        .map(|(fk_table, fk)| ddl::tables::drop_constraint(fk_table, &fk.name))
        .collect();
    sql.push(ddl::tables::drop_constraint(table, &moved.from.name));
    let mut uses = Vec::new();
    for part in &moved.parts {
        sql.push(constraints::attach_sql(
            &part.table,
            &part.key,
            &part.helper,
        ));
        uses.push(helper_relation(part));
        if moved.to.kind == ConstraintKind::PrimaryKey {
            // ADD PRIMARY KEY would otherwise scan the table to set NOT NULL under its lock.
            uses.extend(
                part.key
                    .columns
                    .iter()
                    .map(|c| Resource::NotNull(part.table.clone(), c.clone())),
            );
        }
    }
    if moved.parts.iter().any(|p| &p.table != table) {
        // The parent's key attaches its partitions' keys, made just above: catalog only.
        sql.push(crate::sql::ddl::add_constraint(table, &moved.to));
        // Before the foreign keys come back: detaching a referenced partition would check
        // their rows.
        for partition in relinked(ctx, moved) {
            sql.extend(partition_relink::statements(ctx, table, partition));
            uses.push(partition_relink::needs(&partition.name));
        }
    }
    let key = Resource::Constraint(table.clone(), moved.to.name.clone());
    let index = |n: &Option<String>| {
        n.iter()
            .map(|i| Resource::Relation(QualifiedName::new(table.schema.clone(), i.clone())))
            .collect::<Vec<_>>()
    };
    let mut creates = vec![key.clone()];
    creates.extend(index(&moved.to.index));
    let mut drops = vec![
        key,
        Resource::Constraint(table.clone(), moved.from.name.clone()),
    ];
    drops.extend(moved.parts.iter().map(helper_relation));
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
    for part in moved.parts.iter().filter(|p| &p.table != table) {
        locked.push(part.table.to_string());
        creates.push(Resource::Constraint(
            part.table.clone(),
            part.key.name.clone(),
        ));
    }
    locked.extend(moved.relying.iter().map(|(t, _)| t.to_string()));
    locked.dedup();
    let dropped: Vec<(QualifiedName, String)> = moved
        .relying
        .iter()
        .map(|(t, fk)| (t.clone(), fk.name.clone()))
        .collect();
    let scans = partition_relink::scans(ctx, table, &relinked(ctx, moved), &dropped);
    let mut description = if moved.from.name == moved.to.name {
        format!("move key {name} of {table} to its new columns")
    } else {
        format!(
            "replace primary key {} of {table} with {name}",
            quote_ident(&moved.from.name)
        )
    };
    if !names.is_empty() {
        description.push_str(&format!(
            " (re-adding the foreign keys that rely on it: {})",
            names.join(", ")
        ));
    }
    let mut step = Step::new(Phase::Validate, description, sql.join("\n"))
        .lock(LockMode::AccessExclusive, locked.join(", "))
        .uses(uses)
        .creates(creates)
        .drops(drops);
    for why in scans {
        step = step.hazard(HazardKind::LongLock, why);
    }
    step
}
