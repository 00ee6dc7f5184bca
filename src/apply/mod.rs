//! Executing a plan's steps against the live database.
//!
//! Every step runs alone: a transactional step in its own short transaction with
//! `lock_timeout` set, retried with jittered exponential backoff when the lock cannot be had
//! in time (SQLSTATE 55P03); a `CONCURRENTLY` step outside any transaction; a backfill in
//! batches. The first failure stops the run with the step and the server's message.

pub mod backfill;
pub mod contract;
mod crash;
mod index_build;
pub mod replica_lag;
mod run_lock;
pub mod script;

use rand::Rng;
use std::time::Duration;
use thiserror::Error;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::connect::ConnectionTarget;
use crate::plan::Step;
use backfill::{BackfillOptions, BackfillProgress};
pub use index_build::invalid_index_exists;
use index_build::{clean_up_failed_build, drop_invalid_index, run_watched};
pub use run_lock::{acquire_run_lock, release_run_lock, ADVISORY_LOCK_KEY};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How long a step may wait for its lock before it gives up (and is retried).
    pub lock_timeout: Duration,
    /// Upper bound for non-concurrent statements.
    pub statement_timeout: Duration,
    /// How many times a step that timed out on its lock is tried again.
    pub lock_retries: u32,
    pub backfill: BackfillOptions,
    /// A second connection for watching index builds (`pg_stat_progress_create_index`).
    pub progress_target: Option<ConnectionTarget>,
    /// How often to look at the progress of an index build.
    pub progress_interval: Duration,
    /// Set by a fleet once it has seen too many failures: the run stops before its next step
    /// (the step under way finishes), and a rerun resumes from there.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            lock_timeout: Duration::from_millis(100),
            statement_timeout: Duration::from_secs(60 * 60),
            lock_retries: 30,
            backfill: BackfillOptions::default(),
            progress_target: None,
            progress_interval: Duration::from_millis(500),
            stop: None,
        }
    }
}

/// Progress of an index build from `pg_stat_progress_create_index`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexProgress {
    pub phase: String,
    pub blocks_done: i64,
    pub blocks_total: i64,
    pub tuples_done: i64,
    pub tuples_total: i64,
}

/// What the executor reports as it goes (the CLI prints these).
#[derive(Debug)]
pub enum ApplyEvent<'a> {
    StepStarted {
        index: usize,
        step: &'a Step,
    },
    LockRetry {
        step: &'a Step,
        attempt: u32,
        wait: Duration,
    },
    Backfill {
        step: &'a Step,
        progress: &'a BackfillProgress,
    },
    IndexProgress {
        step: &'a Step,
        progress: &'a IndexProgress,
    },
    /// An INVALID index left by an earlier failed build (`before`) or by this one was dropped.
    InvalidIndexDropped {
        step: &'a Step,
        index: &'a str,
        before: bool,
    },
    StepFinished {
        index: usize,
        step: &'a Step,
        elapsed: Duration,
    },
    /// Replicas are past `--max-replica-lag`: the step waits before it starts (a backfill
    /// reports its waits between batches in [`BackfillProgress::waiting`]).
    ReplicaLag {
        step: &'a Step,
        why: &'a str,
    },
}

#[derive(Debug, Error)]
pub enum ApplyError {
    #[error("step {index} ({description}) failed: {message}\n  SQL: {sql}")]
    StepFailed {
        index: usize,
        description: String,
        sql: String,
        message: String,
    },
    #[error(
        "step {index} ({description}) failed: building index {name} failed: {message}; {cleanup}"
    )]
    IndexBuildFailed {
        index: usize,
        description: String,
        name: String,
        message: String,
        cleanup: String,
    },
    #[error("step {index} ({description}) could not get its lock within {timeout:?} after {attempts} attempts")]
    LockTimeout {
        index: usize,
        description: String,
        timeout: Duration,
        attempts: u32,
    },
    #[error("stopped before step {index} ({description}): the fleet reached its failure limit")]
    Stopped { index: usize, description: String },
    #[error("another zdm apply is running on this database: {holder}")]
    Busy { holder: String },
    #[error("could not prepare the session: {0}")]
    Session(#[source] tokio_postgres::Error),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
}

/// Where a run records itself: the ledger and this run's plan id.
pub struct Record<'a> {
    pub ledger: &'a crate::ledger::Ledger<'a>,
    pub plan_id: i64,
}

/// Leave out backfill steps whose work is already done (no row lacks its value): a plan
/// made after the backfill phase ran has nothing left to fill.
pub async fn prune_finished_backfills(
    client: &Client,
    live: &crate::model::Model,
    plan: &mut crate::plan::Plan,
) -> Result<(), tokio_postgres::Error> {
    let mut keep = Vec::with_capacity(plan.steps.len());
    for step in plan.steps.drain(..) {
        // A column the plan itself adds has nothing filled yet.
        let exists = |b: &crate::plan::Backfill| match &b.rows {
            Some(copy) => live.tables.contains_key(&copy.target),
            None => live
                .tables
                .get(&b.table)
                .is_some_and(|t| t.column(&b.column).is_some()),
        };
        let done = match &step.backfill {
            Some(b) if exists(b) => !backfill::is_pending(client, b).await?,
            _ => false,
        };
        if !done {
            keep.push(step);
        }
    }
    plan.steps = keep;
    Ok(())
}

/// The server's message for an error, with its detail and hint, on one line.
pub fn server_message(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => {
            let mut out = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                out.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = db.hint() {
                out.push_str(&format!("; hint: {hint}"));
            }
            out
        }
        None => error.to_string(),
    }
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

/// The session settings and statements a step runs, exactly as sent (for `--dry-run`).
pub fn statements_for(step: &Step, options: &ApplyOptions) -> Vec<String> {
    if let Some(backfill) = &step.backfill {
        return vec![
            format!(
                "SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms';",
                millis(options.lock_timeout),
                millis(options.statement_timeout)
            ),
            format!(
                "-- repeated with the last key of each batch as the lower bound, {}..{} rows per batch \
                 aiming at {} ms, until a batch finds no row:\n{};",
                options.backfill.min_batch,
                options.backfill.max_batch,
                options.backfill.target_batch_time.as_millis(),
                backfill::batch_sql(backfill, None, options.backfill.initial_batch)
            ),
        ];
    }
    if step.transactional {
        vec![transaction_script(step, options)]
    } else {
        vec![
            "SET lock_timeout = 0; SET statement_timeout = 0;".to_string(),
            step.sql.clone(),
        ]
    }
}

fn transaction_script(step: &Step, options: &ApplyOptions) -> String {
    format!(
        "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms';\n{}\nCOMMIT;",
        millis(options.lock_timeout),
        millis(options.statement_timeout),
        step.sql
    )
}

/// `ALTER TABLE ... VALIDATE CONSTRAINT` (a scan of the table) or `ALTER DOMAIN ... VALIDATE`.
fn is_validation(sql: &str) -> bool {
    sql.to_ascii_uppercase().contains("VALIDATE CONSTRAINT")
}

fn stop_requested(options: &ApplyOptions) -> bool {
    options
        .stop
        .as_ref()
        .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
}

/// Run `steps` in order. `first_index` numbers them in events and errors (and in the ledger).
pub async fn run_steps(
    client: &Client,
    steps: &[Step],
    first_index: usize,
    options: &ApplyOptions,
    record: Option<&Record<'_>>,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), ApplyError> {
    client
        .batch_execute("SET application_name = 'zdm'")
        .await
        .map_err(ApplyError::Session)?;
    for (offset, step) in steps.iter().enumerate() {
        let index = first_index + offset;
        if stop_requested(options) {
            return Err(ApplyError::Stopped {
                index,
                description: step.description.clone(),
            });
        }
        on_event(ApplyEvent::StepStarted { index, step });
        if let Some(r) = record {
            r.ledger.step_started(r.plan_id, index).await?;
        }
        let started = std::time::Instant::now();
        let result = run_step(client, index, step, options, record, on_event).await;
        if record.is_some() {
            crash::point(index, crash::At::BeforeRecord);
        }
        if let Some(r) = record {
            let error = result.as_ref().err().map(|e| e.to_string());
            let recorded = r
                .ledger
                .step_finished(r.plan_id, index, error.as_deref())
                .await;
            // A step that failed because the session died (terminated, the server gone)
            // cannot be recorded either: its own error says what happened, and the ledger
            // keeps it as started, which the next run reports as interrupted.
            if result.is_err() && recorded.is_err() {
                return result;
            }
            recorded?;
        }
        result?;
        if record.is_some() {
            crash::point(index, crash::At::AfterRecord);
        }
        on_event(ApplyEvent::StepFinished {
            index,
            step,
            elapsed: started.elapsed(),
        });
    }
    Ok(())
}

async fn run_step(
    client: &Client,
    index: usize,
    step: &Step,
    options: &ApplyOptions,
    record: Option<&Record<'_>>,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), ApplyError> {
    let failed = |message: String| ApplyError::StepFailed {
        index,
        description: step.description.clone(),
        sql: step.sql.clone(),
        message,
    };
    if let Some(backfill) = &step.backfill {
        if let Some(r) = record {
            r.ledger.step_attempt(r.plan_id, index).await?;
        }
        return run_backfill_step(client, step, backfill, options, record, on_event)
            .await
            .map_err(failed);
    }

    let index_build = step
        .op
        .concurrent_index_build()
        .map(|index| (index.schema.clone(), index.name.clone()));
    prepare_long_statement(client, step, index_build.as_ref(), options, on_event)
        .await
        .map_err(failed)?;

    let mut attempt = 0;
    loop {
        attempt += 1;
        if let Some(r) = record {
            r.ledger.step_attempt(r.plan_id, index).await?;
        }
        match execute_once(client, step, options, on_event).await {
            Ok(()) => return Ok(()),
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                if attempt > options.lock_retries {
                    return Err(ApplyError::LockTimeout {
                        index,
                        description: step.description.clone(),
                        timeout: options.lock_timeout,
                        attempts: attempt,
                    });
                }
                let wait = backoff(attempt);
                on_event(ApplyEvent::LockRetry {
                    step,
                    attempt,
                    wait,
                });
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                let Some((schema, name)) = &index_build else {
                    return Err(failed(server_message(&e)));
                };
                let cleanup = clean_up_failed_build(client, step, schema, name, on_event).await;
                return Err(ApplyError::IndexBuildFailed {
                    index,
                    description: step.description.clone(),
                    name: format!("{schema}.{name}"),
                    message: server_message(&e),
                    cleanup,
                });
            }
        }
    }
}

/// A backfill step: its batches under the session's timeouts, its cursor in the ledger.
async fn run_backfill_step(
    client: &Client,
    step: &Step,
    backfill: &crate::plan::Backfill,
    options: &ApplyOptions,
    record: Option<&Record<'_>>,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), String> {
    let session = format!(
        "SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms'",
        millis(options.lock_timeout),
        millis(options.statement_timeout)
    );
    client
        .batch_execute(&session)
        .await
        .map_err(|e| server_message(&e))?;
    let mut report = |p: &BackfillProgress| {
        on_event(ApplyEvent::Backfill { step, progress: p });
    };
    let store = record.map(|r| backfill::CursorStore {
        ledger: r.ledger,
        plan_id: Some(r.plan_id),
    });
    backfill::run(
        client,
        backfill,
        &options.backfill,
        store.as_ref(),
        &mut report,
    )
    .await
    .map(|_| ())
    .map_err(|e| e.message())
}

/// Before an index build or a validation: clear the name of an earlier build's INVALID index,
/// and wait until replicas keep up.
async fn prepare_long_statement(
    client: &Client,
    step: &Step,
    index_build: Option<&(String, String)>,
    options: &ApplyOptions,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), String> {
    if let Some((schema, name)) = index_build {
        // A build that died earlier (a killed run, a failed attempt) left an INVALID index
        // under this name: the new build would fail on the name. Drop it first.
        if drop_invalid_index(client, schema, name)
            .await
            .map_err(|e| server_message(&e))?
        {
            on_event(ApplyEvent::InvalidIndexDropped {
                step,
                index: name,
                before: true,
            });
        }
    }
    // One long statement each, writing WAL all the way: start only once replicas keep up.
    if let Some(bound) = options.backfill.replica_lag {
        if index_build.is_some() || is_validation(&step.sql) {
            replica_lag::wait_below(client, bound, &mut |why| {
                on_event(ApplyEvent::ReplicaLag { step, why })
            })
            .await
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// One attempt at a step: a transactional step in its own transaction, a concurrent one on
/// its own, watched.
async fn execute_once(
    client: &Client,
    step: &Step,
    options: &ApplyOptions,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), tokio_postgres::Error> {
    if step.transactional {
        let result = client
            .batch_execute(&transaction_script(step, options))
            .await;
        if result.is_err() {
            // Leave the session clean for the retry or the next command.
            let _ = client.batch_execute("ROLLBACK").await;
        }
        return result;
    }
    // CONCURRENTLY waits for older transactions without blocking anyone: no lock timeout,
    // and no statement timeout (a large build takes as long as it takes). Sent on its own:
    // several statements in one message form an implicit transaction, which CONCURRENTLY
    // refuses.
    client
        .batch_execute("SET lock_timeout = 0; SET statement_timeout = 0")
        .await?;
    run_watched(client, step, options, on_event).await
}

/// Exponential backoff with full jitter: up to 50 ms, 100 ms, 200 ms ... capped at 5 s.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let ceiling = 50u64.saturating_mul(1 << attempt.min(7)).min(5_000);
    Duration::from_millis(rand::thread_rng().gen_range(ceiling / 2..=ceiling))
}
