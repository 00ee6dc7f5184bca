use anyhow::Context as _;

use super::args::{Format, PlanArgs};
use super::{render, sides, EXIT_CLEAN, EXIT_DIFFERENCES};
use crate::plan::{plan, Checkpoint, Plan, PlanOptions};

pub async fn run(args: PlanArgs) -> anyhow::Result<u8> {
    if let Some(fleet) = super::fleet::Fleet::from_args(&args.source).await? {
        return super::fleet::plan(&args, fleet).await;
    }
    let mut sides = sides::read(&args.source).await?;
    let made = fresh_plan(&sides, !args.no_rehearsal).await;
    sides.release().await;
    let plan = made?;
    match args.source.format {
        Format::Json => println!("{}", render::json::plan(&plan)?),
        Format::Sql => print!("{}", render::plan_sql(&plan, args.lock_timeout)),
        Format::Human => print!("{}", render::plan_human(&plan)),
        Format::Github => {
            let locator = render::github::Locator::new(sides.to.desired.as_ref());
            print!("{}", render::github::plan(&plan, &locator))
        }
        Format::Markdown => {
            // Row estimates only when the live side is a database: schema files have no
            // statistics.
            let live = sides.from.desired.is_none().then_some(&sides.from.model);
            print!("{}", render::markdown::plan(&plan, live))
        }
    }
    if let Some(out) = &args.out {
        std::fs::write(out, render::json::plan(&plan)?)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(if plan.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_DIFFERENCES
    })
}

/// The plan from the live side to the desired one, without the backfills already done, and
/// rehearsed on a shadow copy of the live schema when `rehearse` is set.
pub async fn fresh_plan(sides: &sides::Sides, rehearse: bool) -> anyhow::Result<Plan> {
    fresh_plan_cached(sides, rehearse, None).await
}

/// Rehearsals already run, by plan and starting schema: a fleet's databases mostly share both,
/// and one rehearsal then stands for all of them.
#[derive(Default)]
pub struct RehearsalCache(
    tokio::sync::Mutex<
        std::collections::HashMap<String, std::sync::Arc<tokio::sync::OnceCell<Vec<Checkpoint>>>>,
    >,
);

impl RehearsalCache {
    async fn cell(&self, plan: &Plan) -> std::sync::Arc<tokio::sync::OnceCell<Vec<Checkpoint>>> {
        let key = format!(
            "{} {}",
            plan.source_fingerprint,
            serde_json::to_string(&plan.steps).unwrap_or_default()
        );
        self.0.lock().await.entry(key).or_default().clone()
    }
}

/// [`fresh_plan`], reusing a rehearsal `cache` holds for the same plan from the same schema.
pub async fn fresh_plan_cached(
    sides: &sides::Sides,
    rehearse: bool,
    cache: Option<&RehearsalCache>,
) -> anyhow::Result<Plan> {
    let mut options = plan_options(&sides.to);
    let live = sides.live.as_ref();
    if let Some(client) = live {
        crate::workspace::resolve_transform_expressions(
            client,
            &sides.from.model,
            &mut options.transforms,
        )
        .await;
    }
    let mut plan = plan(&sides.from.model, &sides.to.model, &options)?;
    if let Some(client) = live {
        crate::apply::prune_finished_backfills(client, &sides.from.model, &mut plan).await?;
    }
    if rehearse && !plan.is_empty() {
        let rehearsal = async {
            let rehearsal = rehearsal(sides, &plan).await?;
            for note in &rehearsal.notes {
                render::note(note);
            }
            anyhow::Ok(rehearsal.checkpoints)
        };
        plan.checkpoints = match cache {
            Some(cache) => cache
                .cell(&plan)
                .await
                .get_or_try_init(|| rehearsal)
                .await?
                .clone(),
            None => rehearsal.await?,
        };
    }
    // After the rehearsal, whose shadow copy has the live schema but not its rows: writing
    // rows changes no schema, so the phases' checkpoints stay what they were.
    for (table, changes) in sides.row_changes().await? {
        add_in_phase(&mut plan, crate::data::steps(&table, &changes));
    }
    Ok(plan)
}

/// The rehearsal of `plan`: from the cache when this plan between these two models was
/// rehearsed on this shadow server before (only successes are kept), else run now.
async fn rehearsal(
    sides: &sides::Sides,
    plan: &Plan,
) -> anyhow::Result<crate::rehearse::Rehearsal> {
    let (live, desired) = (&sides.from.model, &sides.to.model);
    if let Some(done) = sides
        .cache
        .as_ref()
        .and_then(|c| c.rehearsal(live, desired, plan))
    {
        return Ok(done);
    }
    let done = crate::rehearse::rehearse(&sides.shadow, live, desired, plan).await?;
    if let Some(cache) = &sides.cache {
        cache.put_rehearsal(live, desired, plan, &done);
    }
    Ok(done)
}

/// The transformations the desired schema's annotations ask for.
pub fn plan_options(desired: &crate::workspace::Side) -> PlanOptions {
    PlanOptions {
        transforms: desired
            .desired
            .as_ref()
            .map(crate::workspace::transforms)
            .unwrap_or_default(),
    }
}

/// Put reference-data steps into the plan: upserts at the end of expand (after the tables and
/// columns they fill exist), deletes at the start of contract (before any drop).
fn add_in_phase(plan: &mut Plan, steps: Vec<crate::plan::Step>) {
    use crate::plan::Phase;
    for step in steps {
        let at = match step.phase {
            Phase::Expand => plan
                .steps
                .iter()
                .rposition(|s| s.phase == Phase::Expand)
                .map_or(0, |i| i + 1),
            phase => plan
                .steps
                .iter()
                .position(|s| s.phase >= phase)
                .unwrap_or(plan.steps.len()),
        };
        plan.steps.insert(at, step);
    }
}
