//! `diff`, `plan`, `apply` and `status` over a fleet: the desired schema loaded once, then
//! each database through the same per-database code as a `--db` run.

use anyhow::bail;
use std::io::{IsTerminal, Write};

use super::runner::{self, Done, Row};
use super::{Fleet, Member};
use crate::cli::args::{ApplyArgs, Format, PlanArgs, SourceArgs};
use crate::cli::sides::{Desired, Sides};
use crate::cli::{apply as single, plan as single_plan, render, status as single_status};
use crate::plan::Phase;

/// The desired schema, loaded into a shadow database of the first database's major.
async fn load_desired(args: &SourceArgs, fleet: &Fleet) -> anyhow::Result<Desired> {
    let first = &fleet.members[0];
    let major = match first.target.connect().await {
        Ok(client) => crate::connect::server_version_num(&client)
            .await
            .ok()
            .map(|v| v / 10_000),
        // Its own row will say why; the shadow takes the default major meanwhile.
        Err(_) => None,
    };
    Desired::load(args, major).await
}

async fn sides_for(desired: &Desired, member: &Member) -> anyhow::Result<Sides> {
    let client = member.target.connect().await?;
    desired.against(client, None, false).await
}

fn refuse_formats(format: Format) -> anyhow::Result<()> {
    if !matches!(format, Format::Human | Format::Json) {
        bail!("with a fleet, zdm prints --format human or json (a summary row per database)");
    }
    Ok(())
}

fn print(rows: &[Row], format: Format) -> anyhow::Result<u8> {
    match format {
        Format::Json => {
            #[derive(serde::Serialize)]
            struct Summary<'a> {
                databases: &'a [Row],
            }
            println!("{}", render::json::document(&Summary { databases: rows })?)
        }
        _ => print!("{}", runner::table(rows)),
    }
    Ok(runner::exit_code(rows))
}

/// Run `job` on every database with the desired schema loaded once, then print the summary.
async fn over_fleet<'a, F, Fut>(args: &SourceArgs, fleet: &'a Fleet, job: F) -> anyhow::Result<u8>
where
    F: Fn(&'a Member) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Done>> + 'a,
{
    eprintln!(
        "{} database(s), {} at a time{}",
        fleet.members.len(),
        fleet.parallel,
        match fleet.canary {
            0 => String::new(),
            k => format!(", the first {k} as canaries"),
        }
    );
    let rows = runner::run_all(fleet, job).await;
    print(&rows, args.format)
}

pub async fn diff(args: &SourceArgs, fleet: Fleet) -> anyhow::Result<u8> {
    refuse_formats(args.format)?;
    let desired = load_desired(args, &fleet).await?;
    let result = over_fleet(args, &fleet, |member| {
        let desired = &desired;
        async move {
            let mut sides = sides_for(desired, member).await?;
            let rows = sides.row_changes().await;
            sides.release().await;
            let changes = crate::diff::diff(&sides.from.model, &sides.to.model);
            let rows = rows?;
            let differs = !changes.is_empty() || !rows.is_empty();
            Ok(Done {
                phase: "diff".to_string(),
                steps: changes.len(),
                differs,
                detail: (!rows.is_empty())
                    .then(|| format!("rows of {} table(s) differ", rows.len())),
            })
        }
    })
    .await;
    desired.release().await;
    result
}

pub async fn plan(args: &PlanArgs, fleet: Fleet) -> anyhow::Result<u8> {
    refuse_formats(args.source.format)?;
    if args.out.is_some() {
        bail!("--out saves one database's plan; with a fleet each database is planned on its own");
    }
    let desired = load_desired(&args.source, &fleet).await?;
    let cache = single_plan::RehearsalCache::default();
    let result = over_fleet(&args.source, &fleet, |member| {
        let (desired, cache) = (&desired, &cache);
        async move {
            let mut sides = sides_for(desired, member).await?;
            let made =
                single_plan::fresh_plan_cached(&sides, !args.no_rehearsal, Some(cache)).await;
            sides.release().await;
            let plan = made?;
            let per_phase: Vec<String> = Phase::ALL
                .into_iter()
                .filter_map(|p| match plan.steps_in(p).count() {
                    0 => None,
                    n => Some(format!("{} {n}", p.name())),
                })
                .collect();
            Ok(Done {
                phase: if per_phase.is_empty() {
                    "up to date".to_string()
                } else {
                    per_phase.join(", ")
                },
                steps: plan.steps.len(),
                differs: !plan.is_empty(),
                detail: None,
            })
        }
    })
    .await;
    desired.release().await;
    result
}

pub async fn status(args: &SourceArgs, fleet: Fleet) -> anyhow::Result<u8> {
    refuse_formats(args.format)?;
    let desired = load_desired(args, &fleet).await?;
    let result = over_fleet(args, &fleet, |member| {
        let desired = &desired;
        async move {
            let summary = single_status::summary(sides_for(desired, member).await?).await?;
            Ok(Done {
                phase: summary.phase,
                steps: summary.pending,
                differs: summary.pending > 0 || summary.detail.is_some(),
                detail: summary.detail,
            })
        }
    })
    .await;
    desired.release().await;
    result
}

pub async fn apply(args: &ApplyArgs, fleet: Fleet) -> anyhow::Result<u8> {
    refuse_formats(args.source.format)?;
    if args.plan.is_some() {
        bail!("--plan applies one database's saved plan; with a fleet each database is planned on its own");
    }
    if args.dry_run {
        bail!("--dry-run with a fleet: use `zdm plan --fleet ...` to see each database's steps");
    }
    let mut settings = single::settings(args)?;
    settings.options.stop = Some(fleet.stop.clone());
    if !args.yes && std::io::stdin().is_terminal() && !confirm(fleet.members.len())? {
        bail!("cancelled: nothing was changed");
    }
    let desired = load_desired(&args.source, &fleet).await?;
    let rehearsals = single_plan::RehearsalCache::default();
    let shared = single::Shared {
        desired: &desired,
        rehearsals: &rehearsals,
    };
    let result = over_fleet(&args.source, &fleet, |member| {
        let (shared, settings) = (&shared, &settings);
        async move {
            let applied =
                single::apply_one(args, &member.target, Some(shared), settings, true).await?;
            Ok(Done {
                phase: if applied.phases.is_empty() {
                    "nothing to do".to_string()
                } else {
                    render::phase_list(&applied.phases)
                },
                steps: applied.steps,
                differs: false,
                detail: None,
            })
        }
    })
    .await;
    desired.release().await;
    result
}

fn confirm(count: usize) -> anyhow::Result<bool> {
    eprint!("plan and apply on each of these {count} database(s)? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
