//! The checks apply makes before it changes anything: phases in order, the rollback window,
//! queries that still use what contract drops (pg_stat_statements), and allowed hazards.

use anyhow::bail;
use std::time::Duration;

use super::apply::show_duration;
use super::args::ApplyArgs;
use super::render;
use crate::ledger::Ledger;
use crate::model::Model;
use crate::plan::{HazardKind, Phase, Plan, Step};

/// A later phase never runs while an earlier one of a fresh plan still has work.
pub(super) fn refuse_pending_earlier_phase(plan: &Plan, requested: &[Phase]) -> anyhow::Result<()> {
    let Some(first) = requested.first() else {
        return Ok(());
    };
    let pending: Vec<&Step> = plan.steps.iter().filter(|s| s.phase < *first).collect();
    if let Some(step) = pending.first() {
        bail!(
            "cannot run {first}: {} step(s) of an earlier phase are pending ({}); run `zdm apply --phase {}` first",
            pending.len(),
            step.description,
            step.phase
        );
    }
    Ok(())
}

pub(super) async fn gate_contract(
    client: &tokio_postgres::Client,
    ledger: Option<&Ledger<'_>>,
    plan: &Plan,
    targets: &[crate::apply::contract::Dropped],
    args: &ApplyArgs,
    window: Duration,
) -> anyhow::Result<()> {
    if !args.skip_rollback_window && !window.is_zero() {
        let finished = match ledger {
            Some(l) => {
                l.phase_finished_at(&plan.target_fingerprint, Phase::Expand)
                    .await?
            }
            None => match Ledger::existing(client).await? {
                Some(l) => {
                    l.phase_finished_at(&plan.target_fingerprint, Phase::Expand)
                        .await?
                }
                None => None,
            },
        };
        match finished {
            None => bail!(
                "refusing contract: the ledger has no record of expand finishing toward this schema, so the rollback window ({}) has not started; \
                 run `zdm apply --phase expand` (it records the time even when there is nothing left to do), or pass --skip-rollback-window",
                show_duration(window)
            ),
            Some(at) => {
                let elapsed = std::time::SystemTime::now()
                    .duration_since(at)
                    .unwrap_or_default();
                if elapsed < window {
                    bail!(
                        "refusing contract: expand finished {} ago, the rollback window is {}; {} to go (or pass --skip-rollback-window)",
                        show_duration(elapsed),
                        show_duration(window),
                        show_duration(window - elapsed)
                    );
                }
            }
        }
    }
    if targets.is_empty() {
        return Ok(());
    }
    let found = crate::apply::contract::statements_using(client, targets).await?;
    match found {
        None => render::note(
            "pg_stat_statements is not installed: cannot check whether queries still use what contract drops",
        ),
        Some(hits) if !hits.is_empty() => {
            let list: Vec<String> = hits
                .iter()
                .map(|h| format!("  {} ({} call(s)): {}", h.object, h.calls, one_line(&h.query, 160)))
                .collect();
            if args.force {
                render::note(&format!(
                    "--force: dropping although pg_stat_statements shows queries using it:\n{}",
                    list.join("\n")
                ));
            } else {
                bail!(
                    "refusing contract: pg_stat_statements shows queries that still use what it drops:\n{}\n\
                     retire the code that runs them (and pg_stat_statements_reset()), or pass --force",
                    list.join("\n")
                );
            }
        }
        Some(_) => {}
    }
    Ok(())
}

/// The tables and columns contract's steps drop, from what the steps say they drop (saved
/// with the plan) and what the live database holds.
pub(super) fn dropped_objects(
    live: &Model,
    steps: &[Step],
) -> Vec<crate::apply::contract::Dropped> {
    use crate::apply::contract::Dropped;
    use crate::plan::resource::Resource;
    let mut out = Vec::new();
    for step in steps.iter().filter(|s| s.phase == Phase::Contract) {
        for r in &step.drops {
            let d = match r {
                Resource::Column(t, c) => Dropped {
                    table: t.name.clone(),
                    column: Some(c.clone()),
                },
                Resource::Relation(t) if live.tables.contains_key(t) => Dropped {
                    table: t.name.clone(),
                    column: None,
                },
                _ => continue,
            };
            if !out.contains(&d) {
                out.push(d);
            }
        }
    }
    out
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}...", flat.chars().take(max).collect::<String>())
    } else {
        flat
    }
}

pub(super) fn allowed_hazards(args: &[String]) -> anyhow::Result<Vec<HazardKind>> {
    let mut out = Vec::new();
    for arg in args {
        let arg = arg.trim();
        if arg == "all" {
            return Ok(HazardKind::ALL.to_vec());
        }
        match HazardKind::parse(arg) {
            Some(kind) => out.push(kind),
            None => {
                let known: Vec<&str> = HazardKind::ALL.iter().map(|k| k.name()).collect();
                bail!("unknown hazard kind {arg:?} ({}, all)", known.join(", "))
            }
        }
    }
    Ok(out)
}

/// Every hazard of the steps about to run must be allowed (by flag or zdm.toml).
pub(super) fn refuse_disallowed_hazards(
    steps: &[Step],
    allowed: &[HazardKind],
) -> anyhow::Result<()> {
    let blocked: Vec<(usize, &Step, &crate::plan::Hazard)> = steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.hazards.iter().map(move |h| (i + 1, s, h)))
        .filter(|(_, _, h)| !allowed.contains(&h.kind))
        .collect();
    if blocked.is_empty() {
        return Ok(());
    }
    let mut kinds: Vec<&str> = blocked.iter().map(|(_, _, h)| h.kind.name()).collect();
    kinds.sort();
    kinds.dedup();
    let list: Vec<String> = blocked
        .iter()
        .map(|(i, s, h)| format!("  step {i} ({}): {}: {}", s.description, h.kind, h.message))
        .collect();
    bail!(
        "refusing to run steps with hazards:\n{}\nre-run with --allow-hazards {} once you have read them",
        list.join("\n"),
        kinds.join(",")
    )
}
