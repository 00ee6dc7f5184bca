use anyhow::{bail, Context as _};
use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::args::{ApplyArgs, PhaseArg};
use super::{render, sides, EXIT_CLEAN};
use crate::apply::{run_steps, ApplyEvent, ApplyOptions};
use crate::plan::{fingerprint, plan, HazardKind, Phase, Plan, Step};

pub async fn run(args: ApplyArgs) -> anyhow::Result<u8> {
    if args.source.from.is_some() {
        bail!("apply works on a live database: use --db (or DATABASE_URL), not --from/--to");
    }
    let sides = sides::read(&args.source).await?;
    let target = sides
        .target
        .clone()
        .context("apply needs a live database")?;
    let current = fingerprint(&sides.from.model);
    let plan: Plan = match &args.plan {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let saved: Plan = serde_json::from_str(&text)
                .with_context(|| format!("{}: not a zdm plan", path.display()))?;
            if saved.source_fingerprint != current {
                bail!(
                    "{} was made against a different schema: the database has changed since (fingerprint {} != {}); make a new plan",
                    path.display(),
                    &saved.source_fingerprint[..12],
                    &current[..12]
                );
            }
            saved
        }
        None => {
            let mut fresh = plan(
                &sides.from.model,
                &sides.to.model,
                &super::plan::plan_options(&sides.to),
            )?;
            crate::apply::prune_finished_backfills(
                &target.connect().await?,
                &sides.from.model,
                &mut fresh,
            )
            .await?;
            fresh
        }
    };

    let phases: Vec<Phase> = match args.phase {
        PhaseArg::All => Phase::ALL.to_vec(),
        PhaseArg::Expand => vec![Phase::Expand],
        PhaseArg::Backfill => vec![Phase::Backfill],
        PhaseArg::Validate => vec![Phase::Validate],
        PhaseArg::Contract => vec![Phase::Contract],
    };
    // A later phase never runs while an earlier one still has work.
    if let Some(first) = phases.first() {
        let pending: Vec<&Step> = plan.steps.iter().filter(|s| s.phase < *first).collect();
        if !pending.is_empty() {
            bail!(
                "cannot run {first}: {} step(s) of an earlier phase are pending ({}); run `zdm apply --phase {}` first",
                pending.len(),
                pending[0].description,
                pending[0].phase
            );
        }
    }
    let steps: Vec<Step> = plan
        .steps
        .iter()
        .filter(|s| phases.contains(&s.phase))
        .cloned()
        .collect();
    if steps.is_empty() {
        eprintln!("nothing to do for phase {}", render::phase_list(&phases));
        return Ok(EXIT_CLEAN);
    }

    let allowed = allowed_hazards(&args.allow_hazards)?;
    let blocked: Vec<(usize, &Step, &crate::plan::Hazard)> = steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| s.hazards.iter().map(move |h| (i + 1, s, h)))
        .filter(|(_, _, h)| !allowed.contains(&h.kind))
        .collect();
    if !blocked.is_empty() {
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
        );
    }

    print!("{}", render::steps_human(&steps));
    if args.dry_run {
        println!(
            "-- dry run: session settings: SET application_name = 'zdm'; SET LOCAL lock_timeout = '{}ms' per step",
            args.lock_timeout
        );
        return Ok(EXIT_CLEAN);
    }
    if !args.yes && std::io::stdin().is_terminal() && !confirm(steps.len())? {
        bail!("cancelled: nothing was changed");
    }

    let options = ApplyOptions {
        lock_timeout: Duration::from_millis(args.lock_timeout),
        lock_retries: args.lock_retries,
        ..ApplyOptions::default()
    };
    let client = target.connect().await?;
    let started = std::time::Instant::now();
    let mut report = |event: ApplyEvent| render::apply_event(&event);
    run_steps(&client, &steps, 1, &options, &mut report).await?;
    eprintln!(
        "applied {} step(s) of {} in {:.1?}",
        steps.len(),
        render::phase_list(&phases),
        started.elapsed()
    );
    Ok(EXIT_CLEAN)
}

fn allowed_hazards(args: &[String]) -> anyhow::Result<Vec<HazardKind>> {
    let mut out = Vec::new();
    for arg in args {
        let arg = arg.trim();
        if arg == "all" {
            return Ok(vec![
                HazardKind::DataLoss,
                HazardKind::TableRewrite,
                HazardKind::LongLock,
                HazardKind::NotOnline,
                HazardKind::MayFail,
            ]);
        }
        match HazardKind::parse(arg) {
            Some(kind) => out.push(kind),
            None => bail!("unknown hazard kind {arg:?} (data-loss, table-rewrite, long-lock, not-online, may-fail, all)"),
        }
    }
    Ok(out)
}

fn confirm(count: usize) -> anyhow::Result<bool> {
    eprint!("apply these {count} step(s)? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
