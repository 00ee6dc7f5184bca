//! Adding, validating and dropping constraints.

use crate::model::{Constraint, ConstraintKind, Model, QualifiedName, TableKind};
use crate::plan::resource::{columns_of, Resource};
use crate::plan::{Context, HazardKind, LockMode, Phase, Step, TableWork};
use crate::sql::{ddl, quote_ident};

use super::{indexes, is_not_null_helper};

fn is_partitioned(ctx: &Context, table: &QualifiedName) -> bool {
    ctx.live_table(table)
        .or_else(|| ctx.desired_table(table))
        .is_some_and(|t| t.kind == TableKind::Partitioned)
}

/// What a constraint needs besides its own table's columns: for a foreign key, the referenced
/// table, its columns and the unique constraint or index the reference relies on.
pub(in crate::plan) fn referenced(model: &Model, constraint: &Constraint) -> Vec<Resource> {
    let Some(fk) = &constraint.foreign_key else {
        return Vec::new();
    };
    let mut out = vec![Resource::Relation(fk.referenced_table.clone())];
    out.extend(columns_of(&fk.referenced_table, &fk.referenced_columns));
    if let Some(target) = model.tables.get(&fk.referenced_table) {
        let mut wanted = fk.referenced_columns.clone();
        wanted.sort();
        for unique in target
            .constraints
            .values()
            .filter(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique))
        {
            let mut have = unique.columns.clone();
            have.sort();
            if have == wanted {
                out.push(Resource::Constraint(
                    fk.referenced_table.clone(),
                    unique.name.clone(),
                ));
            }
        }
        for index in target.indexes.values().filter(|i| i.unique) {
            out.push(Resource::Relation(QualifiedName::new(
                fk.referenced_table.schema.clone(),
                index.name.clone(),
            )));
        }
    }
    out
}

fn lock_for(constraint: &Constraint, table: &QualifiedName) -> (LockMode, String) {
    match &constraint.foreign_key {
        Some(fk) => (
            LockMode::ShareRowExclusive,
            format!("{table}, {}", fk.referenced_table),
        ),
        None => (LockMode::AccessExclusive, table.to_string()),
    }
}

/// A foreign key on a table created in the same plan (empty: validating it costs nothing).
pub fn add_to_new_table(ctx: &Context, table: &QualifiedName, constraint: &Constraint) -> Step {
    let (lock, target) = lock_for(constraint, table);
    Step::new(
        Phase::Expand,
        format!(
            "add constraint {} to new table {table}",
            quote_ident(&constraint.name)
        ),
        ddl::add_constraint(table, constraint),
    )
    .lock(lock, target)
    .uses([Resource::Relation(table.clone())])
    .uses(columns_of(table, &constraint.columns))
    .uses(referenced(ctx.to, constraint))
    .creates([Resource::Constraint(table.clone(), constraint.name.clone())])
}

pub fn add(ctx: &Context, table: &QualifiedName, constraint: &Constraint) -> Vec<Step> {
    if ctx.live_table(table).is_none() {
        return vec![add_to_new_table(ctx, table, constraint)];
    }
    let name = quote_ident(&constraint.name);
    let creates = Resource::Constraint(table.clone(), constraint.name.clone());
    let uses = {
        let mut u = vec![Resource::Relation(table.clone())];
        u.extend(columns_of(table, &constraint.columns));
        u.extend(referenced(ctx.to, constraint));
        u
    };
    let has_rows = ctx.has_rows(table);
    match constraint.kind {
        ConstraintKind::Check | ConstraintKind::ForeignKey => {
            let (lock, target) = lock_for(constraint, table);
            if constraint.kind == ConstraintKind::ForeignKey && is_partitioned(ctx, table) {
                let mut step = Step::new(
                    Phase::Expand,
                    format!("add foreign key {name} to partitioned table {table}"),
                    ddl::add_constraint(table, constraint),
                )
                .lock(lock, target)
                .work(TableWork::Scan)
                .uses(uses)
                .creates([creates]);
                if has_rows {
                    step = step.hazard(
                        HazardKind::LongLock,
                        format!("foreign keys on partitioned tables cannot be added NOT VALID: {table} is scanned under SHARE ROW EXCLUSIVE"),
                    );
                }
                return vec![step];
            }
            let mut not_valid = constraint.clone();
            not_valid.validated = false;
            let mut steps = vec![Step::new(
                Phase::Expand,
                format!("add constraint {name} to {table} without validating"),
                ddl::add_constraint(table, &not_valid),
            )
            .lock(lock, target)
            .uses(uses)
            .creates([creates])];
            if constraint.validated {
                let validated =
                    super::inheritance::validated_before_inherit(ctx, table, constraint);
                steps.extend(validate(table, constraint).into_iter().map(|s| {
                    let s = s.creates(validated.clone());
                    if has_rows {
                        s.hazard(
                            HazardKind::MayFail,
                            format!("fails if existing rows of {table} violate {name}"),
                        )
                    } else {
                        s
                    }
                }));
            }
            steps
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique
            if !is_partitioned(ctx, table) && !is_temporal(constraint) =>
        {
            add_unique_via_index(ctx, table, constraint, uses)
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclusion => {
            if !is_temporal(constraint) {
                if let Some(steps) = super::partitioned::add_key(ctx, table, constraint, &uses) {
                    return steps;
                }
            }
            let mut step = Step::new(
                Phase::Expand,
                format!("add constraint {name} to {table}"),
                ddl::add_constraint(table, constraint),
            )
            .lock(LockMode::AccessExclusive, table)
            .work(TableWork::Scan)
            .uses(uses)
            .creates([creates]);
            if let Some(index) = &constraint.index {
                step = step.creates([Resource::Relation(QualifiedName::new(
                    table.schema.clone(),
                    index.clone(),
                ))]);
            }
            if has_rows {
                step = step.hazard(
                    HazardKind::LongLock,
                    format!("builds the index of {name} while holding ACCESS EXCLUSIVE on {table} (no concurrent form exists for this constraint here)"),
                );
            }
            vec![step]
        }
    }
}

/// A temporal key (PostgreSQL 18, `PRIMARY KEY (id, valid WITHOUT OVERLAPS)`): its GiST index
/// is no unique index `CREATE UNIQUE INDEX CONCURRENTLY` can build, so the constraint builds
/// it itself.
fn is_temporal(constraint: &Constraint) -> bool {
    constraint.definition.contains(" WITHOUT OVERLAPS)")
}

/// UNIQUE / PRIMARY KEY on a live table: build the index concurrently, then attach it.
fn add_unique_via_index(
    ctx: &Context,
    table: &QualifiedName,
    constraint: &Constraint,
    uses: Vec<Resource>,
) -> Vec<Step> {
    let name = quote_ident(&constraint.name);
    let index_name = constraint
        .index
        .clone()
        .unwrap_or_else(|| constraint.name.clone());
    let index_relation =
        Resource::Relation(QualifiedName::new(table.schema.clone(), index_name.clone()));
    let mut steps = Vec::new();
    let already_built = ctx
        .live_table(table)
        .and_then(|t| t.indexes.get(&index_name))
        .is_some_and(|i| i.valid);
    if !already_built {
        let definition = constraint.index_definition.clone().unwrap_or_default();
        steps.push(
            indexes::build_concurrently(table, &index_name, &definition)
                .uses(uses.clone())
                .creates([index_relation.clone()])
                .hazard(
                    HazardKind::MayFail,
                    format!("fails if {table} holds duplicate values for {name}"),
                ),
        );
    }
    let kind = match constraint.kind {
        ConstraintKind::PrimaryKey => "PRIMARY KEY",
        _ => "UNIQUE",
    };
    let mut attach_uses = vec![index_relation];
    if constraint.kind == ConstraintKind::PrimaryKey {
        // ADD PRIMARY KEY would otherwise scan the table to set NOT NULL under its lock.
        attach_uses.extend(
            constraint
                .columns
                .iter()
                .map(|c| Resource::NotNull(table.clone(), c.clone())),
        );
    }
    steps.push(
        Step::new(
            Phase::Validate,
            format!(
                "make index {} the {kind} constraint {name}",
                quote_ident(&index_name)
            ),
            attach_sql(table, constraint, &index_name),
        )
        .lock(LockMode::AccessExclusive, table)
        .uses(attach_uses)
        .creates([Resource::Constraint(table.clone(), constraint.name.clone())]),
    );
    steps
}

/// A live index that was built for a UNIQUE/PRIMARY KEY constraint not attached yet.
pub fn index_awaits_constraint(ctx: &Context, table: &QualifiedName, index: &str) -> bool {
    let desired = ctx.desired_table(table);
    let live = ctx.live_table(table);
    desired.is_some_and(|d| {
        d.constraints.values().any(|c| {
            matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                && c.index.as_deref() == Some(index)
                && !live.is_some_and(|l| l.constraints.contains_key(&c.name))
        })
    })
}

pub fn validate(table: &QualifiedName, constraint: &Constraint) -> Vec<Step> {
    vec![Step::new(
        Phase::Validate,
        format!(
            "validate constraint {} on {table}",
            quote_ident(&constraint.name)
        ),
        ddl::tables::validate_constraint(table, &constraint.name),
    )
    .lock(LockMode::ShareUpdateExclusive, table)
    .work(TableWork::Scan)
    .uses([Resource::Constraint(table.clone(), constraint.name.clone())])]
}

pub fn drop(ctx: &Context, table: &QualifiedName, constraint: &Constraint) -> Vec<Step> {
    let name = quote_ident(&constraint.name);
    // A helper check goes with the NOT NULL it proved; a constraint replaced under the same
    // name goes right before its replacement; anything else waits for contract.
    let replaced = ctx
        .desired_table(table)
        .is_some_and(|t| t.constraints.contains_key(&constraint.name));
    let phase = if is_not_null_helper(constraint) {
        Phase::Validate
    } else if replaced || reads_retyped_column(ctx, table, constraint) {
        Phase::Expand
    } else {
        Phase::Contract
    };
    let (lock, target) = lock_for(constraint, table);
    let mut drops = vec![Resource::Constraint(table.clone(), constraint.name.clone())];
    if let Some(index) = &constraint.index {
        drops.push(Resource::Relation(QualifiedName::new(
            table.schema.clone(),
            index.clone(),
        )));
    }
    let step = Step::new(
        phase,
        format!("drop constraint {name} from {table}"),
        ddl::tables::drop_constraint(table, &constraint.name),
    )
    .lock(lock, target)
    .uses(columns_of(table, &constraint.columns))
    .uses(referenced(ctx.from, constraint))
    .drops(drops);
    let dependents = foreign_keys_relying_on(ctx, table, constraint);
    if dependents.is_empty() {
        vec![step]
    } else {
        repoint_foreign_keys(ctx, step, table, &dependents)
    }
}

/// A CHECK that reads a column whose type changes: PostgreSQL re-checks it against the new
/// type, so one the plan drops (or replaces) must go before the type change, in expand.
fn reads_retyped_column(ctx: &Context, table: &QualifiedName, constraint: &Constraint) -> bool {
    let retyped = |column: &String| {
        let live = ctx.live_table(table).and_then(|t| t.column(column));
        let desired = ctx.desired_table(table).and_then(|t| t.column(column));
        matches!((live, desired), (Some(l), Some(d)) if l.data_type != d.data_type)
    };
    constraint.kind == ConstraintKind::Check && constraint.columns.iter().any(retyped)
}

/// The live CHECKs on `table` reading `column` that the desired side drops or changes: a
/// type change of the column waits for their removal.
pub(super) fn checks_leaving(ctx: &Context, table: &QualifiedName, column: &str) -> Vec<Resource> {
    let Some(live) = ctx.live_table(table) else {
        return Vec::new();
    };
    let desired = ctx.desired_table(table);
    live.constraints
        .values()
        .filter(|c| c.kind == ConstraintKind::Check && !c.inherited)
        .filter(|c| c.columns.iter().any(|n| n == column))
        .filter(|c| {
            desired
                .and_then(|t| t.constraints.get(&c.name))
                .is_none_or(|d| d.definition != c.definition)
        })
        .map(|c| Resource::Constraint(table.clone(), c.name.clone()))
        .collect()
}

/// The desired foreign keys that will rely on `constraint`'s index (a PRIMARY KEY or UNIQUE
/// of `table`) when it is dropped: PostgreSQL refuses to drop the index from under them. A
/// live key kept as it is relies on it when its `conindid` says so; a key the plan adds
/// (new, or changed and re-added) over the same columns may be tied to it too, since
/// PostgreSQL picks the oldest matching unique index.
fn foreign_keys_relying_on<'a>(
    ctx: &'a Context,
    table: &QualifiedName,
    constraint: &Constraint,
) -> Vec<(&'a QualifiedName, &'a Constraint)> {
    let Some(index) = &constraint.index else {
        return Vec::new();
    };
    let mut columns = constraint.columns.clone();
    columns.sort();
    ctx.to
        .tables
        .iter()
        .flat_map(|(name, t)| t.constraints.values().map(move |c| (name, c)))
        .filter(|(fk_table, fk)| {
            let Some(key) = fk.foreign_key.as_ref() else {
                return false;
            };
            let mut referenced = key.referenced_columns.clone();
            referenced.sort();
            if fk.inherited
                || &key.referenced_table != table
                || referenced != columns
                || is_partitioned(ctx, fk_table)
            {
                return false;
            }
            let live = ctx
                .live_table(fk_table)
                .and_then(|t| t.constraints.get(&fk.name));
            match live {
                Some(live) if live.definition == fk.definition => live
                    .foreign_key
                    .as_ref()
                    .is_some_and(|k| k.referenced_index.as_ref() == Some(index)),
                _ => true,
            }
        })
        .collect()
}

/// Drop a unique constraint that foreign keys rely on: in one short transaction drop the
/// keys, drop the constraint and add the keys back `NOT VALID` (PostgreSQL ties each to the
/// replacement unique index, which the plan built earlier), then validate them. The keys are
/// never missing for a committed write, and validating cannot fail: the rows met the same key
/// a moment before. The step runs after the plan's own steps that add any of the keys.
fn repoint_foreign_keys(
    ctx: &Context,
    drop_step: Step,
    table: &QualifiedName,
    dependents: &[(&QualifiedName, &Constraint)],
) -> Vec<Step> {
    let mut sql: Vec<String> = dependents
        .iter()
        .map(|(fk_table, fk)| ddl::tables::drop_constraint(fk_table, &fk.name))
        .collect();
    sql.push(drop_step.sql.clone());
    let mut validations = Vec::new();
    let mut step = drop_step;
    for (fk_table, fk) in dependents {
        let mut not_valid = (*fk).clone();
        not_valid.validated = false;
        sql.push(ddl::add_constraint(fk_table, &not_valid));
        step = step
            .uses(referenced(ctx.to, fk))
            .uses([Resource::Constraint((*fk_table).clone(), fk.name.clone())]);
        if fk.validated {
            validations.extend(validate(fk_table, fk).into_iter().map(|mut v| {
                v.phase = step.phase;
                v.after_drop_of.extend(step.drops.iter().cloned());
                v
            }));
        }
    }
    let names: Vec<String> = dependents
        .iter()
        .map(|(t, fk)| format!("{} on {t}", quote_ident(&fk.name)))
        .collect();
    let mut targets: Vec<String> = vec![table.to_string()];
    targets.extend(dependents.iter().map(|(t, _)| t.to_string()));
    targets.dedup();
    step.description = format!(
        "{} (re-adding the foreign keys that rely on it: {})",
        step.description,
        names.join(", ")
    );
    step.sql = sql.join("\n");
    let step = step.lock(LockMode::AccessExclusive, targets.join(", "));
    let mut steps = vec![step];
    steps.extend(validations);
    steps
}

/// `ADD CONSTRAINT name PRIMARY KEY | UNIQUE USING INDEX building [DEFERRABLE ...]`.
pub(in crate::plan) fn attach_sql(
    table: &QualifiedName,
    key: &Constraint,
    building: &str,
) -> String {
    let kind = match key.kind {
        ConstraintKind::PrimaryKey => "PRIMARY KEY",
        _ => "UNIQUE",
    };
    let mut deferral = String::new();
    if key.deferrable {
        deferral.push_str(" DEFERRABLE");
        if key.initially_deferred {
            deferral.push_str(" INITIALLY DEFERRED");
        }
    }
    ddl::tables::add_constraint_using_index(table, &key.name, kind, building, &deferral)
}
