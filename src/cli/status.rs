//! `zdm status`: the phases done (from the ledger) and pending (from a fresh plan), and
//! backfill progress.

use anyhow::Context as _;

use super::apply::ago;
use super::args::SourceArgs;
use super::{render, sides, EXIT_CLEAN, EXIT_DIFFERENCES};
use crate::ledger::Ledger;
use crate::plan::{plan, Phase};

pub async fn run(args: SourceArgs) -> anyhow::Result<u8> {
    if args.from.is_some() {
        anyhow::bail!("status works on a live database: use --db (or DATABASE_URL)");
    }
    let mut sides = sides::read(&args).await?;
    sides.release().await;
    let target = sides
        .target
        .clone()
        .context("status needs a live database")?;
    let client = target.connect().await?;
    let mut fresh = plan(
        &sides.from.model,
        &sides.to.model,
        &super::plan::plan_options(&sides.to),
    )?;
    crate::apply::prune_finished_backfills(&client, &sides.from.model, &mut fresh).await?;
    let ledger = Ledger::existing(&client).await?;
    let done = match &ledger {
        Some(l) => l.phases_finished(&fresh.target_fingerprint).await?,
        None => Vec::new(),
    };
    println!(
        "desired schema {}, database schema {}",
        &fresh.target_fingerprint[..12],
        &fresh.source_fingerprint[..12]
    );
    if ledger.is_none() {
        println!("no ledger yet (schema zdm): zdm apply has not run on this database");
    }
    for phase in Phase::ALL {
        let pending: Vec<_> = fresh.steps_in(phase).collect();
        let finished = done.iter().find(|(p, _)| p == phase.name());
        let state = match (pending.len(), finished) {
            (0, Some((_, at))) => format!("done ({} ago)", ago(*at)),
            (0, None) => "nothing to do".to_string(),
            (n, Some((_, at))) => format!(
                "{n} step(s) pending (it finished {} ago toward this schema; the database has moved since)",
                ago(*at)
            ),
            (n, None) => format!("{n} step(s) pending"),
        };
        println!("  {:<9} {state}", phase.name());
        for step in pending {
            println!("      - {}", step.description);
        }
    }
    if let Some(l) = &ledger {
        let cursors = l.cursors().await?;
        if !cursors.is_empty() {
            println!("backfills:");
        }
        for c in cursors {
            let state = if c.finished {
                "finished"
            } else {
                "in progress"
            };
            let key = c
                .cursor
                .map(|k| format!(", last key ({})", k.join(", ")))
                .unwrap_or_default();
            println!(
                "  {}.{}: {state}, {} rows filled, {} scanned{key}",
                c.table, c.column, c.rows_done, c.rows_scanned
            );
        }
        let interrupted = l
            .client()
            .query(
                "SELECT plan_id, ordinal, description FROM zdm.steps \
                 WHERE started_at IS NOT NULL AND finished_at IS NULL ORDER BY plan_id, ordinal",
                &[],
            )
            .await?;
        for r in interrupted {
            let (plan, ordinal, description): (i64, i32, String) = (r.get(0), r.get(1), r.get(2));
            render::note(&format!(
                "plan {plan} step {ordinal} ({description}) started and never finished (killed run or one still running)"
            ));
        }
    }
    Ok(if fresh.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_DIFFERENCES
    })
}
