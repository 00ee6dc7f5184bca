//! From changes to an ordered, phased plan of safe steps.
//!
//! Each [`Change`] expands into steps by the recipe table in DESIGN.md (`recipes/`); the
//! steps form a dependency graph (`graph`) whose topological order, phase by phase, is the
//! plan. The planner reads the live model too: a recipe that was interrupted half-way (a
//! concurrently built index waiting to become a constraint, a NOT NULL check added but not yet
//! validated) is picked up where it stopped instead of being started again.

mod bodies;
mod citus;
mod graph;
mod hints;
mod online;
mod op;
mod recipes;
pub mod resource;
mod step;
mod views;

pub use online::moved_rows::sync_trigger_exists as moved_rows_trigger_exists;
pub use op::Op;
pub use step::{Backfill, Hazard, HazardKind, LockMode, Phase, Step, TableWork};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::diff::{diff, Change};
use crate::model::{Model, QualifiedName, Table};

#[derive(Debug, Error)]
pub enum PlanError {
    #[error("the changes depend on each other in a cycle: {}", steps.join(" -> "))]
    Cycle { steps: Vec<String> },
    #[error("cannot plan {what}: {reason}")]
    Unsupported { what: String, reason: String },
}

/// Settings that shape the plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Annotations from the desired schema files (renames, backfills, type conversions).
    pub transforms: Vec<Transform>,
}

/// A transformation the desired schema asked for explicitly (from `-- zdm:` annotations).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Transform {
    /// Fill `column` from `expression` over the row's other columns, and keep it in sync while
    /// the old application writes the old columns.
    Backfill {
        table: QualifiedName,
        column: String,
        expression: String,
    },
    /// `column` is the old `from` column under a new name.
    RenameColumn {
        table: QualifiedName,
        column: String,
        from: String,
    },
    /// `table` is the old table `from` under a new name.
    RenameTable {
        table: QualifiedName,
        from: QualifiedName,
    },
    /// Convert `column` to its new type with `expression` (over the old value).
    UsingType {
        table: QualifiedName,
        column: String,
        expression: String,
    },
    /// `table`'s rows come from `rows` (a query over one live table): copied and kept in
    /// step until contract (`recipes::moved_rows`).
    BackfillFrom {
        table: QualifiedName,
        rows: crate::sql::ddl::moved_rows::RowSource,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Fingerprint of the schema the plan was made against; applying refuses when the
    /// database no longer matches it.
    pub source_fingerprint: String,
    /// Fingerprint of the desired schema.
    pub target_fingerprint: String,
    /// The schema expected before each phase and after the last, from the rehearsal (empty
    /// when the plan was not rehearsed): a saved plan applies to a database in any of these
    /// states, so one reviewed plan carries it through all four phases, days apart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checkpoints: Vec<Checkpoint>,
    pub steps: Vec<Step>,
}

/// A state the database passes through while a plan is applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The phase about to run; `None` once the plan is done.
    pub before: Option<Phase>,
    pub fingerprint: String,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn steps_in(&self, phase: Phase) -> impl Iterator<Item = &Step> {
        self.steps.iter().filter(move |s| s.phase == phase)
    }

    pub fn hazards(&self) -> impl Iterator<Item = (&Step, &Hazard)> {
        self.steps
            .iter()
            .flat_map(|s| s.hazards.iter().map(move |h| (s, h)))
    }
}

/// A stable digest of a model's schema, for "has it moved?" checks.
///
/// Left out: statistics, and what no plan creates and so no rehearsal can reproduce — the
/// list of unmanaged objects, the desired files' CHECK source text, and which unique index a
/// foreign key happened to pick (none of them is compared by the diff either).
pub fn fingerprint(model: &Model) -> String {
    let mut model = model.clone();
    model.unmanaged.clear();
    model.distributed.clear();
    model.ignored.clear();
    model.view_reads.clear();
    for table in model.tables.values_mut() {
        for constraint in table.constraints.values_mut() {
            constraint.source = None;
            if let Some(fk) = &mut constraint.foreign_key {
                fk.referenced_index = None;
            }
        }
    }
    let json = serde_json::to_vec(&model).expect("the model always serialises");
    let digest = Sha256::digest(json);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Plan the migration of `from` (the live database) to `to` (the desired schema).
pub fn plan(from: &Model, to: &Model, options: &PlanOptions) -> Result<Plan, PlanError> {
    // Enum values removed or reordered: planned towards a desired model with the new type
    // under a helper name and its columns on it (see `recipes::enum_rebuild`).
    if let Some((staged, options, rebuilds)) = recipes::enum_rebuild::prepare(from, to, options)? {
        let changes = diff(from, &staged);
        let mut plan = plan_with(from, &staged, &changes, &options, &rebuilds)?;
        plan.target_fingerprint = fingerprint(to);
        return Ok(plan);
    }
    let changes = diff(from, to);
    plan_changes(from, to, &changes, options)
}

pub fn plan_changes(
    from: &Model,
    to: &Model,
    changes: &[Change],
    options: &PlanOptions,
) -> Result<Plan, PlanError> {
    plan_with(from, to, changes, options, &[])
}

fn plan_with(
    from: &Model,
    to: &Model,
    changes: &[Change],
    options: &PlanOptions,
    rebuilds: &[recipes::enum_rebuild::Rebuild],
) -> Result<Plan, PlanError> {
    let context = Context { from, to, options };
    citus::refuse_what_citus_refuses(&context, changes)?;
    // Views, routines and triggers re-created with their dependents, or around a step that
    // drops or retypes what they read.
    let cascade = recipes::cascade::Cascade::new(&context, changes);
    // Tables re-created whole, with their partitions and what depends on them.
    let recreations = recipes::recreate::Recreations::new(&context, changes);
    // Tables turned partitioned online instead (copy, sync, swap).
    let swaps = online::partition_swap::roots(&context, changes);
    // Keys changing columns under foreign keys that reference them.
    let moved_keys = online::moved_keys::MovedKeys::new(&context, changes);
    let mut steps = cascade.steps(&context);
    steps.extend(recreations.steps(&context));
    steps.extend(moved_keys.steps(&context));
    steps.extend(online::partition_swap::steps(&context, &swaps));
    for change in recipes::claim_interrupted(&context, changes) {
        let claimed = cascade.claims(change)
            || recreations.claims(change)
            || moved_keys.claims(change)
            || online::partition_swap::claims(&context, &swaps, change);
        if !claimed {
            steps.extend(recipes::steps_for(&context, change)?);
        }
    }
    steps.extend(online::transform_steps(&context));
    let leftovers = online::leftover_sync_triggers(&context, &steps);
    steps.extend(leftovers);
    hints::likely_renames(&context, changes, &mut steps);
    let wrapped = cascade.wrap(&context, &mut steps);
    steps.extend(cascade.leftovers(&context, &wrapped));
    let grants = recipes::grants::object_steps(&context, &steps, &cascade.granted(&context));
    steps.extend(grants);
    recipes::grants::order_after_default_privileges(&mut steps);
    views::flag_drops_read_by_views(from, &mut steps);
    bodies::flag_drops_named_by_bodies(from, to, &mut steps);
    recipes::policies::flag_dropped_policies(&context, &mut steps);
    recipes::enum_rebuild::finish(from, rebuilds, &mut steps);
    Ok(Plan {
        source_fingerprint: fingerprint(from),
        target_fingerprint: fingerprint(to),
        checkpoints: Vec::new(),
        steps: graph::order(steps)?,
    })
}

/// What recipes may consult besides the change itself.
pub(crate) struct Context<'a> {
    pub from: &'a Model,
    pub to: &'a Model,
    pub options: &'a PlanOptions,
}

impl Context<'_> {
    /// The table as it is in the live database, if it exists there.
    pub fn live_table(&self, name: &QualifiedName) -> Option<&Table> {
        self.from.tables.get(name)
    }

    pub fn desired_table(&self, name: &QualifiedName) -> Option<&Table> {
        self.to.tables.get(name)
    }

    /// Whether the live table holds rows. A table that doesn't exist yet holds none, so
    /// anything may be done to it in one step.
    pub fn has_rows(&self, name: &QualifiedName) -> bool {
        self.live_table(name).is_some_and(|t| t.stats.has_rows)
    }

    pub fn backfill_for(&self, table: &QualifiedName, column: &str) -> Option<&str> {
        self.options.transforms.iter().find_map(|t| match t {
            Transform::Backfill {
                table: t,
                column: c,
                expression,
            } if t == table && c == column => Some(expression.as_str()),
            _ => None,
        })
    }
}
