use anyhow::{bail, Context as _};
use std::io::{IsTerminal, Write};
use std::time::Duration;

use super::args::{ApplyArgs, PhaseArg};
use super::config::Config;
use super::{gates, progress, render, saved_plan, sides, EXIT_CLEAN};
use crate::apply::backfill::BackfillOptions;
use crate::apply::{run_steps, statements_for, ApplyOptions, Record};
use crate::ledger::{Ledger, Operator};
use crate::plan::{fingerprint, HazardKind, Phase, Step};

/// How apply runs, from the flags and zdm.toml: one database and every database of a fleet
/// alike.
pub(super) struct Settings {
    pub options: ApplyOptions,
    pub window: Duration,
    pub allowed: Vec<HazardKind>,
}

/// What one database's run did.
pub(super) struct Applied {
    /// The phases it finished (empty when it was past them already).
    pub phases: Vec<Phase>,
    pub steps: usize,
}

pub async fn run(args: ApplyArgs) -> anyhow::Result<u8> {
    if args.source.from.is_some() {
        bail!("apply works on a live database: use --db (or DATABASE_URL), not --from/--to");
    }
    if let Some(fleet) = super::fleet::Fleet::from_args(&args.source).await? {
        return super::fleet::apply(&args, fleet).await;
    }
    let settings = settings(&args)?;
    let target = crate::connect::ConnectionTarget::parse(args.source.db.as_deref())?;
    apply_one(&args, &target, None, &settings, false).await?;
    Ok(EXIT_CLEAN)
}

pub(super) fn settings(args: &ApplyArgs) -> anyhow::Result<Settings> {
    let config = Config::load(&args.source.config)?;
    let options = ApplyOptions {
        lock_timeout: Duration::from_millis(
            args.lock_timeout
                .or(config.apply.lock_timeout)
                .unwrap_or(100),
        ),
        lock_retries: args
            .lock_retries
            .or(config.apply.lock_retries)
            .unwrap_or(30),
        statement_timeout: Duration::from_secs(
            args.statement_timeout
                .or(config.apply.statement_timeout)
                .unwrap_or(3600),
        ),
        backfill: BackfillOptions {
            target_batch_time: Duration::from_millis(
                args.batch_target_ms
                    .or(config.apply.batch_target_ms)
                    .unwrap_or(50)
                    .max(1),
            ),
            pause: Duration::from_millis(
                args.backfill_pause
                    .or(config.apply.backfill_pause)
                    .unwrap_or(0),
            ),
            replica_lag: args
                .max_replica_lag
                .as_deref()
                .or(config.apply.max_replica_lag.as_deref())
                .map(crate::apply::replica_lag::LagBound::parse)
                .transpose()?,
            ..BackfillOptions::default()
        },
        ..ApplyOptions::default()
    };
    let window = parse_duration(
        args.rollback_window
            .as_deref()
            .or(config.rollback_window())
            .unwrap_or("24h"),
    )?;
    // The flag, else zdm.toml's list: what a team has agreed to run unattended.
    let allowed = if args.allow_hazards.is_empty() {
        gates::allowed_hazards(config.apply.allow_hazards.as_deref().unwrap_or_default())
            .context("zdm.toml [apply] allow_hazards")?
    } else {
        gates::allowed_hazards(&args.allow_hazards)?
    };
    Ok(Settings {
        options,
        window,
        allowed,
    })
}

/// What a fleet shares between its databases: the desired schema loaded once, and the
/// rehearsals already run.
pub(super) struct Shared<'a> {
    pub desired: &'a sides::Desired,
    pub rehearsals: &'a super::plan::RehearsalCache,
}

/// One database, start to end: its advisory lock, its plan, its gates, its ledger. `shared`:
/// what a fleet loaded once (else the flags' files are loaded here). `quiet`: a fleet prints
/// one line per database instead of each step, and asks no questions.
pub(super) async fn apply_one(
    args: &ApplyArgs,
    target: &crate::connect::ConnectionTarget,
    shared: Option<&Shared<'_>>,
    settings: &Settings,
    quiet: bool,
) -> anyhow::Result<Applied> {
    // One apply at a time: take the database's advisory lock before reading its schema, so
    // the plan is made against a schema no other zdm is changing.
    let client = target.connect().await?;
    if !args.dry_run {
        crate::apply::acquire_run_lock(&client).await?;
    }
    let result = async {
        let sides = match shared {
            Some(s) => {
                s.desired
                    .against(target.connect().await?, None, false)
                    .await?
            }
            None => sides::read(&args.source).await?,
        };
        let rehearsals = shared.map(|s| s.rehearsals);
        run_locked(args, &client, target, sides, settings, rehearsals, quiet).await
    }
    .await;
    if !args.dry_run {
        // Unlock explicitly: a process that just exits leaves its session (and the lock)
        // behind for a moment, and the next run would find it taken.
        let _ = crate::apply::release_run_lock(&client).await;
    }
    result
}

async fn run_locked(
    args: &ApplyArgs,
    client: &tokio_postgres::Client,
    target: &crate::connect::ConnectionTarget,
    mut sides: sides::Sides,
    settings: &Settings,
    rehearsals: Option<&super::plan::RehearsalCache>,
    quiet: bool,
) -> anyhow::Result<Applied> {
    let current = fingerprint(&sides.from.model);
    let made = match &args.plan {
        Some(path) => saved_plan::read(path),
        None => super::plan::fresh_plan_cached(&sides, !args.no_rehearsal, rehearsals).await,
    };
    sides.release().await;
    let mut plan = made?;
    let options = settings.options.clone();

    let (requested, phases) =
        phases_to_run(args, client, &sides.from.model, &mut plan, &current).await?;
    if phases.is_empty() {
        if quiet {
            return Ok(Applied { phases, steps: 0 });
        }
        eprintln!(
            "nothing to do for phase {}: the database is past it in {}",
            render::phase_list(&requested),
            args.plan
                .as_deref()
                .unwrap_or(std::path::Path::new("the plan"))
                .display()
        );
        return Ok(Applied { phases, steps: 0 });
    }
    let steps: Vec<Step> = plan
        .steps
        .iter()
        .filter(|s| phases.contains(&s.phase))
        .cloned()
        .collect();

    let ledger = open_ledger(client, args.dry_run).await?;

    if steps.is_empty() {
        if let Some(ledger) = &ledger {
            for phase in &phases {
                ledger
                    .phase_finished(&plan.target_fingerprint, *phase, None)
                    .await?;
            }
        }
        if !quiet {
            eprintln!("nothing to do for phase {}", render::phase_list(&phases));
        }
        return Ok(Applied { phases, steps: 0 });
    }

    if steps.iter().any(|s| s.phase == Phase::Contract) {
        let dropped = gates::dropped_objects(&sides.from.model, &steps);
        gates::gate_contract(
            client,
            ledger.as_ref(),
            &plan,
            &dropped,
            args,
            settings.window,
        )
        .await?;
    }

    gates::refuse_disallowed_hazards(&steps, &settings.allowed)?;

    if args.dry_run {
        print!("{}", dry_run_script(&steps, &options));
        return Ok(Applied {
            phases: Vec::new(),
            steps: steps.len(),
        });
    }
    if !quiet {
        print!("{}", render::steps_human(&steps));
        if !args.yes && std::io::stdin().is_terminal() && !confirm(steps.len())? {
            bail!("cancelled: nothing was changed");
        }
    }

    let ledger = ledger.expect("a ledger outside dry runs");
    let plan_id = ledger
        .record_plan(&plan, &steps, &Operator::current())
        .await?;
    let record = Record {
        ledger: &ledger,
        plan_id,
    };
    let options = ApplyOptions {
        progress_target: Some(target.clone()),
        ..options
    };
    let started = std::time::Instant::now();
    let mut reporter = (!quiet).then(progress::Reporter::new);
    let result = run_steps(client, &steps, 1, &options, Some(&record), &mut |event| {
        if let Some(r) = reporter.as_mut() {
            r.event(&event)
        }
    })
    .await;
    if let Some(mut r) = reporter {
        r.finish();
    }
    // Also after a failed step: what the run changed before it is zdm's doing, not drift.
    record_schema_after(client, &ledger, plan_id, &sides.scope).await;
    result?;
    for phase in &phases {
        ledger
            .phase_finished(&plan.target_fingerprint, *phase, Some(plan_id))
            .await?;
    }
    if !quiet {
        eprintln!(
            "applied {} step(s) of {} in {:.1?}",
            steps.len(),
            render::phase_list(&phases),
            started.elapsed()
        );
    }
    Ok(Applied {
        phases,
        steps: steps.len(),
    })
}

/// The phases asked for, and those of them this run does: with a saved plan, the ones the
/// database has not passed yet; with a fresh one, all of them once no earlier phase is pending.
async fn phases_to_run(
    args: &ApplyArgs,
    client: &tokio_postgres::Client,
    live: &crate::model::Model,
    plan: &mut crate::plan::Plan,
    current: &str,
) -> anyhow::Result<(Vec<Phase>, Vec<Phase>)> {
    let requested: Vec<Phase> = match args.phase {
        PhaseArg::All => Phase::ALL.to_vec(),
        PhaseArg::Expand => vec![Phase::Expand],
        PhaseArg::Backfill => vec![Phase::Backfill],
        PhaseArg::Validate => vec![Phase::Validate],
        PhaseArg::Contract => vec![Phase::Contract],
    };
    let phases = match &args.plan {
        Some(path) => {
            // A backfill leaves the schema as it was: ask the data whether it is done.
            crate::apply::prune_finished_backfills(client, live, plan).await?;
            saved_plan::phases_to_run(path, plan, current, &requested)?
        }
        None => {
            gates::refuse_pending_earlier_phase(plan, &requested)?;
            requested.clone()
        }
    };
    Ok((requested, phases))
}

/// The ledger (created when missing), after noting any run that was interrupted; none for a
/// dry run, which writes nothing.
async fn open_ledger<'a>(
    client: &'a tokio_postgres::Client,
    dry_run: bool,
) -> anyhow::Result<Option<Ledger<'a>>> {
    if dry_run {
        return Ok(None);
    }
    let ledger = Ledger::open(client).await?;
    for s in ledger.take_interrupted().await? {
        render::note(&format!(
            "an earlier run (plan {}) was interrupted during step {} ({}: {}) after {} attempt(s), started {} ago; \
             the plan was made again from the live schema, so what that step finished is not repeated and what it left half-done is redone",
            s.plan_id,
            s.ordinal,
            s.phase,
            s.description,
            s.attempts,
            ago(s.started_at)
        ));
    }
    Ok(Some(ledger))
}

/// Keep the schema as this run left it, for `zdm status` to tell later changes made outside
/// zdm. Best effort: the migration itself has happened, and a snapshot that cannot be read or
/// written costs only the drift report, which says so.
async fn record_schema_after(
    client: &tokio_postgres::Client,
    ledger: &Ledger<'_>,
    plan_id: i64,
    scope: &crate::scope::Scope,
) {
    let recorded = async {
        let mut after = crate::catalog::introspect(client).await?;
        scope.apply(&mut after);
        ledger.record_schema(plan_id, &after).await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = recorded {
        render::note(&format!(
            "could not keep the schema this run left ({e:#}); zdm status cannot tell drift until the next run"
        ));
    }
}

/// Everything a run would send, in order, with its session settings.
fn dry_run_script(steps: &[Step], options: &ApplyOptions) -> String {
    let mut out =
        String::from("-- dry run: nothing is changed. A real run sends, on one session:\n");
    out.push_str("SET application_name = 'zdm';\n");
    out.push_str(&format!(
        "SELECT pg_try_advisory_lock({});  -- one apply per database\n",
        crate::apply::ADVISORY_LOCK_KEY
    ));
    out.push_str("-- (creates schema zdm and its ledger tables if missing, records the plan and each step)\n");
    let mut phase = None;
    for (i, step) in steps.iter().enumerate() {
        if phase != Some(step.phase) {
            phase = Some(step.phase);
            out.push_str(&format!("\n-- ===== phase: {} =====\n", step.phase));
        }
        out.push_str(&format!("\n-- step {}: {}\n", i + 1, step.description));
        for hazard in &step.hazards {
            out.push_str(&format!("-- HAZARD {}: {}\n", hazard.kind, hazard.message));
        }
        if step.transactional && step.backfill.is_none() {
            out.push_str(&format!(
                "-- on lock timeout (SQLSTATE 55P03): ROLLBACK, wait with jittered backoff, retry up to {} times\n",
                options.lock_retries
            ));
        }
        for statement in statements_for(step, options) {
            out.push_str(&statement);
            out.push('\n');
        }
    }
    out
}

/// Contract drops what the old application used: refuse until the rollback window after
/// expand has passed, and while pg_stat_statements shows queries that use what is dropped.
/// `24h`, `30m`, `90s`, `2d`, `500ms`, or a number of seconds.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .with_context(|| format!("invalid duration {text:?} (e.g. 24h, 30m, 0s)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        other => bail!("invalid duration {text:?}: unknown unit {other:?} (ms, s, m, h, d)"),
    };
    Ok(Duration::from_secs_f64(secs))
}

pub fn show_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

pub fn ago(at: std::time::SystemTime) -> String {
    show_duration(
        std::time::SystemTime::now()
            .duration_since(at)
            .unwrap_or_default(),
    )
}

fn confirm(count: usize) -> anyhow::Result<bool> {
    eprint!("apply these {count} step(s)? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
