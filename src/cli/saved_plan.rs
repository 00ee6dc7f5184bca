//! A plan saved by `zdm plan --out`: reading it back, and finding where a database stands in
//! it, so that one reviewed plan carries the database through all four phases, days apart.

use anyhow::{bail, Context as _};
use std::path::Path;

use crate::plan::{Phase, Plan};

pub fn read(path: &Path) -> anyhow::Result<Plan> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Plans saved before documents were versioned have no `format_version`: they are version 1.
    #[derive(serde::Deserialize)]
    struct Header {
        format_version: Option<u32>,
    }
    if let Ok(Header {
        format_version: Some(version),
    }) = serde_json::from_str(&text)
    {
        if version > super::render::json::FORMAT_VERSION {
            bail!(
                "{}: plan format version {version}, but this zdm reads up to version {}: use a newer zdm",
                path.display(),
                super::render::json::FORMAT_VERSION
            );
        }
    }
    let plan: Plan = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a zdm plan", path.display()))?;
    refuse_steps_without_op(path, &text)?;
    Ok(plan)
}

/// Plans saved before steps said what they do (`op`) load with every step a plain
/// statement. That is exact for a step run in a transaction; a step outside one may be a
/// concurrent index build, whose INVALID leftover apply must know to drop: refused.
fn refuse_steps_without_op(path: &Path, text: &str) -> anyhow::Result<()> {
    let document: serde_json::Value = serde_json::from_str(text)?;
    let steps = document["steps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (i, step) in steps.iter().enumerate() {
        if step.get("op").is_none() && step["transactional"] == false {
            bail!(
                "{}: step {} ({}) runs outside a transaction but does not say what it does (no `op`): \
                 the plan was saved by an older zdm; make it again with `zdm plan --out`",
                path.display(),
                i + 1,
                step["description"].as_str().unwrap_or("?")
            );
        }
    }
    Ok(())
}

/// Which of the requested phases to run from a saved plan, given the database's schema
/// fingerprint now: the requested phases the database has not passed yet. Refused when the
/// database is in none of the states the plan passes through, or when an earlier phase with
/// steps is still ahead of it.
pub fn phases_to_run(
    path: &Path,
    plan: &Plan,
    current: &str,
    requested: &[Phase],
) -> anyhow::Result<Vec<Phase>> {
    let Some(&first) = requested.first() else {
        return Ok(Vec::new());
    };
    let at = position(plan, current).ok_or_else(|| moved(path, plan, current))?;
    // `at`: the first phase not yet run (None: the plan is done).
    let pending_before: Vec<Phase> = Phase::ALL
        .into_iter()
        .filter(|p| at.is_some_and(|at| *p >= at) && *p < first)
        .filter(|p| plan.steps_in(*p).next().is_some())
        .collect();
    if let Some(phase) = pending_before.first() {
        let step = plan
            .steps_in(*phase)
            .next()
            .expect("a pending phase has steps");
        bail!(
            "cannot run {first}: {} step(s) of phase {phase} of {} are pending ({}); run `zdm apply --plan {} --phase {phase}` first",
            plan.steps_in(*phase).count(),
            path.display(),
            step.description,
            path.display()
        );
    }
    Ok(requested
        .iter()
        .copied()
        .filter(|p| at.is_some_and(|at| *p >= at))
        .collect())
}

/// The first phase the database has not run yet, judged by its fingerprint: `Some(Some(p))`
/// before phase `p`, `Some(None)` when the plan is done, `None` when it is in no state of the
/// plan. Phases that leave the schema alone (a backfill) share their fingerprint with the
/// next, so the earliest match wins: the caller then asks whether those phases still have work.
fn position(plan: &Plan, current: &str) -> Option<Option<Phase>> {
    if plan.checkpoints.is_empty() {
        // Not rehearsed: only the state it was made against is known.
        return (plan.source_fingerprint == current).then_some(Some(Phase::Expand));
    }
    plan.checkpoints
        .iter()
        .find(|c| c.fingerprint == current)
        .map(|c| c.before)
}

fn moved(path: &Path, plan: &Plan, current: &str) -> anyhow::Error {
    let states = if plan.checkpoints.is_empty() {
        "the plan was not rehearsed, so it applies only before its first phase".to_string()
    } else {
        let list: Vec<String> = plan
            .checkpoints
            .iter()
            .map(|c| match c.before {
                Some(p) => format!("before {p} ({})", &c.fingerprint[..12]),
                None => format!("done ({})", &c.fingerprint[..12]),
            })
            .collect();
        format!("it expects one of: {}", list.join(", "))
    };
    anyhow::anyhow!(
        "{} was made against a different schema: the database (fingerprint {}) is in none of the states the plan passes through ({states}); \
         it has changed since, or a phase was interrupted part-way: make a new plan, or finish the phase with `zdm apply` without --plan",
        path.display(),
        &current[..12.min(current.len())]
    )
}
