use anyhow::{bail, Context as _};
use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

use super::args::{ApplyArgs, PhaseArg};
use super::config::Config;
use super::{render, saved_plan, sides, EXIT_CLEAN};
use crate::apply::backfill::BackfillOptions;
use crate::apply::{run_steps, statements_for, ApplyEvent, ApplyOptions, Record};
use crate::ledger::{Ledger, Operator};
use crate::model::Model;
use crate::plan::{fingerprint, HazardKind, Phase, Plan, Step};

pub async fn run(args: ApplyArgs) -> anyhow::Result<u8> {
    if args.source.from.is_some() {
        bail!("apply works on a live database: use --db (or DATABASE_URL), not --from/--to");
    }
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
        allowed_hazards(config.apply.allow_hazards.as_deref().unwrap_or_default())
            .context("zdm.toml [apply] allow_hazards")?
    } else {
        allowed_hazards(&args.allow_hazards)?
    };

    // One apply at a time: take the database's advisory lock before reading its schema, so
    // the plan is made against a schema no other zdm is changing.
    let target = crate::connect::ConnectionTarget::parse(args.source.db.as_deref())?;
    let client = target.connect().await?;
    if !args.dry_run {
        crate::apply::acquire_run_lock(&client).await?;
    }
    let result = run_locked(&args, &client, &target, options, window, &allowed).await;
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
    options: ApplyOptions,
    window: Duration,
    allowed: &[HazardKind],
) -> anyhow::Result<u8> {
    let mut sides = sides::read(&args.source).await?;
    let current = fingerprint(&sides.from.model);
    let made = match &args.plan {
        Some(path) => saved_plan::read(path),
        None => super::plan::fresh_plan(&sides, !args.no_rehearsal).await,
    };
    sides.release().await;
    let mut plan = made?;

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
            crate::apply::prune_finished_backfills(client, &sides.from.model, &mut plan).await?;
            saved_plan::phases_to_run(path, &plan, &current, &requested)?
        }
        None => {
            refuse_pending_earlier_phase(&plan, &requested)?;
            requested.clone()
        }
    };
    if phases.is_empty() {
        eprintln!(
            "nothing to do for phase {}: the database is past it in {}",
            render::phase_list(&requested),
            args.plan
                .as_deref()
                .unwrap_or(std::path::Path::new("the plan"))
                .display()
        );
        return Ok(EXIT_CLEAN);
    }
    let steps: Vec<Step> = plan
        .steps
        .iter()
        .filter(|s| phases.contains(&s.phase))
        .cloned()
        .collect();

    let ledger = if args.dry_run {
        None
    } else {
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
        Some(ledger)
    };

    if steps.is_empty() {
        if let Some(ledger) = &ledger {
            for phase in &phases {
                ledger
                    .phase_finished(&plan.target_fingerprint, *phase, None)
                    .await?;
            }
        }
        eprintln!("nothing to do for phase {}", render::phase_list(&phases));
        return Ok(EXIT_CLEAN);
    }

    if steps.iter().any(|s| s.phase == Phase::Contract) {
        let dropped = dropped_objects(&sides.from.model, &steps);
        gate_contract(client, ledger.as_ref(), &plan, &dropped, args, window).await?;
    }

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

    if args.dry_run {
        print!("{}", dry_run_script(&steps, &options));
        return Ok(EXIT_CLEAN);
    }
    print!("{}", render::steps_human(&steps));
    if !args.yes && std::io::stdin().is_terminal() && !confirm(steps.len())? {
        bail!("cancelled: nothing was changed");
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
    let mut reporter = Reporter::new();
    let result = run_steps(client, &steps, 1, &options, Some(&record), &mut |event| {
        reporter.event(&event)
    })
    .await;
    reporter.finish();
    // Also after a failed step: what the run changed before it is zdm's doing, not drift.
    record_schema_after(client, &ledger, plan_id, &sides.scope).await;
    result?;
    for phase in &phases {
        ledger
            .phase_finished(&plan.target_fingerprint, *phase, Some(plan_id))
            .await?;
    }
    eprintln!(
        "applied {} step(s) of {} in {:.1?}",
        steps.len(),
        render::phase_list(&phases),
        started.elapsed()
    );
    Ok(EXIT_CLEAN)
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

/// A later phase never runs while an earlier one of a fresh plan still has work.
fn refuse_pending_earlier_phase(plan: &Plan, requested: &[Phase]) -> anyhow::Result<()> {
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
async fn gate_contract(
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
fn dropped_objects(live: &Model, steps: &[Step]) -> Vec<crate::apply::contract::Dropped> {
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

/// Prints the executor's events: a progress bar for backfills on a terminal, plain lines
/// (at most one a second) otherwise.
struct Reporter {
    tty: bool,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    run_start: Option<(Instant, u64)>,
}

impl Reporter {
    fn new() -> Reporter {
        Reporter {
            tty: std::io::stderr().is_terminal(),
            bar: None,
            last_line: None,
            run_start: None,
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }

    fn event(&mut self, event: &ApplyEvent) {
        match event {
            ApplyEvent::StepStarted { index, step } => {
                self.finish();
                self.last_line = None;
                self.run_start = None;
                eprintln!("[{}] {index}. {}", step.phase, step.description)
            }
            ApplyEvent::LockRetry {
                step,
                attempt,
                wait,
            } => eprintln!(
                "      lock not available for {} (attempt {attempt}); retrying in {wait:.0?}",
                step.lock_target.as_deref().unwrap_or("the step")
            ),
            ApplyEvent::Backfill { step, progress } => self.backfill(step, progress),
            ApplyEvent::IndexProgress { progress, .. } => {
                let line = format!(
                    "      {}: blocks {} of {}, tuples {} of {}",
                    progress.phase,
                    progress.blocks_done,
                    progress.blocks_total,
                    progress.tuples_done,
                    progress.tuples_total
                );
                match &self.bar {
                    Some(bar) => bar.set_message(line.trim().to_string()),
                    None if self.tty => {
                        let bar = ProgressBar::new_spinner();
                        bar.set_message(line.trim().to_string());
                        bar.enable_steady_tick(Duration::from_millis(200));
                        self.bar = Some(bar);
                    }
                    None => eprintln!("{line}"),
                }
            }
            ApplyEvent::InvalidIndexDropped { index, before, .. } => {
                self.finish();
                if *before {
                    eprintln!("      an earlier build left index {index} INVALID: dropped it concurrently before building again");
                } else {
                    eprintln!("      the failed build left index {index} INVALID: dropped it concurrently");
                }
            }
            ApplyEvent::StepFinished { elapsed, .. } => {
                self.finish();
                eprintln!("      done in {elapsed:.1?}")
            }
        }
    }

    fn backfill(&mut self, step: &Step, p: &crate::apply::backfill::BackfillProgress) {
        let (start, base) = *self.run_start.get_or_insert((
            Instant::now(),
            p.rows_scanned.saturating_sub(p.batch_size as u64),
        ));
        if self.tty {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = ProgressBar::new(p.rows_estimated.unwrap_or(0));
                bar.set_style(
                    ProgressStyle::with_template(
                        "      {bar:30} {pos}/{len} rows  {per_sec}  ETA {eta}  {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar
            });
            if bar.length().unwrap_or(0) < p.rows_scanned {
                bar.set_length(p.rows_scanned);
            }
            bar.set_position(p.rows_scanned);
            bar.set_message(format!(
                "{} filled, batch {}{}",
                p.rows_updated,
                p.batch_size,
                cut_note(p.batches_cut)
            ));
            return;
        }
        if self
            .last_line
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_line = Some(Instant::now());
        let secs = start.elapsed().as_secs_f64().max(1e-3);
        let rate = (p.rows_scanned.saturating_sub(base)) as f64 / secs;
        let of = match p.rows_estimated {
            Some(total) if total > 0 => {
                let eta = if rate > 0.0 && total > p.rows_scanned {
                    format!(
                        ", ETA {}",
                        show_duration(Duration::from_secs_f64(
                            (total - p.rows_scanned) as f64 / rate
                        ))
                    )
                } else {
                    String::new()
                };
                format!(
                    " of ~{total} ({:.0}%){eta}",
                    100.0 * p.rows_scanned as f64 / total as f64
                )
            }
            _ => String::new(),
        };
        let resumed = if p.resumed { " (resumed)" } else { "" };
        let cut = cut_note(p.batches_cut);
        eprintln!(
            "      {}.{}: {} rows scanned{of}, {} filled, {rate:.0} rows/s, batch {}{cut}{resumed}",
            step.backfill
                .as_ref()
                .map(|b| b.table.to_string())
                .unwrap_or_default(),
            step.backfill
                .as_ref()
                .map(|b| b.column.as_str())
                .unwrap_or(""),
            p.rows_scanned,
            p.rows_updated,
            p.batch_size
        );
    }
}

/// How many batches ran past their time cap and were redone smaller, when any did.
fn cut_note(cut: u64) -> String {
    match cut {
        0 => String::new(),
        n => format!(" ({n} cut for running long)"),
    }
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
                HazardKind::AccessChange,
                HazardKind::AccessLoss,
            ]);
        }
        match HazardKind::parse(arg) {
            Some(kind) => out.push(kind),
            None => bail!("unknown hazard kind {arg:?} (data-loss, table-rewrite, long-lock, not-online, may-fail, access-change, access-loss, all)"),
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
