//! Row-level security. Every statement here (`CREATE`/`ALTER`/`DROP POLICY`, `ALTER TABLE
//! ... ROW LEVEL SECURITY`) takes ACCESS EXCLUSIVE on the table, but only for a catalog
//! update, so each runs alone in its own short transaction with the lock timeout.
//!
//! Ordering is what keeps the running application from seeing a table with row-level
//! security on and no policy for it (an empty result):
//! - `ENABLE` / `FORCE` run in expand after every policy the desired table has is created
//!   (they use those policies in the graph);
//! - `DISABLE` / `NO FORCE` run in contract before the policies that go away are dropped
//!   (they use the live policies);
//! - a policy whose command or `PERMISSIVE`/`RESTRICTIVE` changes is dropped and created in
//!   one transaction (`cascade`), so no other session sees the gap; a renamed one is created
//!   under its new name in expand and the old one dropped in contract.
//!
//! Whatever changes what the application may read or write while it runs carries an
//! `access-change` hazard saying how.

use super::keyed::{describe, needs};
use crate::model::{Model, Policy, QualifiedName, RowSecurity};
use crate::plan::resource::Resource;
use crate::plan::{Context, HazardKind, LockMode, Phase, Step};
use crate::sql::ddl;

/// Whether the live table's policies are in force (row-level security enabled there).
fn in_force(live: &Model, table: &QualifiedName) -> bool {
    live.row_security.get(table).is_some_and(|r| r.enabled)
}

fn policies_on<'a>(model: &'a Model, table: &'a QualifiedName) -> impl Iterator<Item = &'a Policy> {
    model.policies.values().filter(move |p| &p.table == table)
}

fn policy_resources(model: &Model, table: &QualifiedName) -> Vec<Resource> {
    policies_on(model, table)
        .map(|p| Resource::Policy(p.id.clone()))
        .collect()
}

/// A new policy: expand, with a hazard when it takes effect on a table in use at once.
pub fn on_create(ctx: &Context, policy: &Policy, step: Step) -> Step {
    let step = step.lock(LockMode::AccessExclusive, &policy.table);
    if !in_force(ctx.from, &policy.table) {
        return step;
    }
    let message = if policy.permissive {
        format!(
            "{} takes effect at once: the roles it names may also read and write the rows it admits",
            describe(&policy.id)
        )
    } else {
        format!(
            "{} takes effect at once and is restrictive: rows it does not admit become invisible to the running application's roles it names",
            describe(&policy.id)
        )
    };
    step.hazard(HazardKind::AccessChange, message)
}

/// A policy that goes away: contract (the old application may rely on it until then).
pub fn on_drop(ctx: &Context, policy: &Policy, step: Step) -> Step {
    let step = step.lock(LockMode::AccessExclusive, &policy.table);
    if !in_force(ctx.from, &policy.table) {
        return step;
    }
    let message = if policy.permissive {
        format!(
            "dropping {} narrows access: rows only it admitted become invisible to the roles it names (no rows at all when no permissive policy for them is left)",
            describe(&policy.id)
        )
    } else {
        format!(
            "dropping {} widens access: rows this restrictive policy kept from the roles it names become visible to them",
            describe(&policy.id)
        )
    };
    step.hazard(HazardKind::AccessChange, message)
}

/// `ALTER POLICY` in place: roles, `USING`, `WITH CHECK`.
pub fn alter(ctx: &Context, to: &Policy) -> Step {
    let mut sql = vec![ddl::policies::alter(to)];
    sql.extend(ddl::policies::comments(to));
    let step = Step::new(
        Phase::Expand,
        format!("alter {}", describe(&to.id)),
        sql.join("\n"),
    )
    .lock(LockMode::AccessExclusive, &to.table)
    .uses(needs(ctx.to, &to.id))
    .uses(needs(ctx.from, &to.id));
    if in_force(ctx.from, &to.table) {
        step.hazard(
            HazardKind::AccessChange,
            format!(
                "{} changes at once: which rows the running application's roles it names may read or write changes with it",
                describe(&to.id)
            ),
        )
    } else {
        step
    }
}

pub fn set_row_security(
    ctx: &Context,
    table: &QualifiedName,
    from: &RowSecurity,
    to: &RowSecurity,
) -> Vec<Step> {
    let mut steps = Vec::new();
    if from.enabled != to.enabled {
        steps.push(flag_step(ctx, table, to.enabled, Flag::Enabled));
    }
    if from.forced != to.forced {
        steps.push(flag_step(ctx, table, to.forced, Flag::Forced));
    }
    steps
}

#[derive(Clone, Copy)]
enum Flag {
    Enabled,
    Forced,
}

/// Turning a flag on runs in expand after the desired policies exist; turning it off runs
/// in contract before the live policies are dropped.
fn flag_step(ctx: &Context, table: &QualifiedName, on: bool, flag: Flag) -> Step {
    let (sql, words) = match flag {
        Flag::Enabled => (
            ddl::policies::set_enabled(table, on),
            if on { "enable" } else { "disable" },
        ),
        Flag::Forced => (
            ddl::policies::set_forced(table, on),
            if on { "force" } else { "stop forcing" },
        ),
    };
    let (phase, side) = if on {
        (Phase::Expand, ctx.to)
    } else {
        (Phase::Contract, ctx.from)
    };
    let step = Step::new(phase, format!("{words} row level security on {table}"), sql)
        .lock(LockMode::AccessExclusive, table)
        .uses([
            Resource::Schema(table.schema.clone()),
            Resource::Relation(table.clone()),
        ])
        .uses(policy_resources(side, table));
    match flag_hazard(ctx, table, on, flag) {
        Some(message) => step.hazard(HazardKind::AccessChange, message),
        None => step,
    }
}

/// What the running application notices; nothing for a table it cannot be using yet.
fn flag_hazard(ctx: &Context, table: &QualifiedName, on: bool, flag: Flag) -> Option<String> {
    ctx.live_table(table)?;
    let policies = policies_on(ctx.to, table).count();
    Some(match (flag, on) {
        (Flag::Enabled, true) if policies == 0 => format!(
            "enabling row level security on {table} changes what the running application reads: with no policy, every role but the owner (and superusers, BYPASSRLS roles) sees no rows and cannot write"
        ),
        (Flag::Enabled, true) => format!(
            "enabling row level security on {table} changes what the running application reads: roles other than the owner (and superusers, BYPASSRLS roles) see and write only the rows its {policies} policies admit (created before this step)"
        ),
        (Flag::Enabled, false) => format!(
            "disabling row level security on {table} widens access: every role with privileges on it sees and writes all rows again"
        ),
        (Flag::Forced, true) => format!(
            "forcing row level security on {table} subjects its owner to the policies: an application connecting as the owner sees only the rows they admit"
        ),
        (Flag::Forced, false) => format!(
            "no longer forcing row level security on {table} widens access: its owner bypasses the policies again"
        ),
    })
}

/// A live policy dropped by any step (its own, or the re-creation of what it reads around a
/// dropped column) on a table whose policies are in force, and not kept by the desired side:
/// the step changes what the application may read, whoever planned it.
pub fn flag_dropped_policies(ctx: &Context, steps: &mut [Step]) {
    for step in steps.iter_mut() {
        if step
            .hazards
            .iter()
            .any(|h| h.kind == HazardKind::AccessChange)
        {
            continue;
        }
        let dropped: Vec<&Policy> = step
            .drops
            .iter()
            .filter_map(|r| match r {
                Resource::Policy(id) => ctx.from.policies.get(&id.to_string()),
                _ => None,
            })
            .filter(|p| !ctx.to.policies.contains_key(&p.id.to_string()))
            .filter(|p| in_force(ctx.from, &p.table))
            .collect();
        let Some(policy) = dropped.first() else {
            continue;
        };
        let flagged = on_drop(ctx, policy, Step::new(step.phase, "", ""));
        step.hazards.extend(flagged.hazards);
    }
}
