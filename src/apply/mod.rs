//! Executing a plan's steps against the live database.
//!
//! Every step runs alone: a transactional step in its own short transaction with
//! `lock_timeout` set, retried with jittered exponential backoff when the lock cannot be had
//! in time (SQLSTATE 55P03); a `CONCURRENTLY` step outside any transaction; a backfill in
//! batches. The first failure stops the run with the step and the server's message.

pub mod backfill;

use rand::Rng;
use std::time::Duration;
use thiserror::Error;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::plan::Step;
use backfill::{BackfillOptions, BackfillProgress};

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How long a step may wait for its lock before it gives up (and is retried).
    pub lock_timeout: Duration,
    /// Upper bound for non-concurrent statements.
    pub statement_timeout: Duration,
    /// How many times a step that timed out on its lock is tried again.
    pub lock_retries: u32,
    pub backfill: BackfillOptions,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            lock_timeout: Duration::from_millis(100),
            statement_timeout: Duration::from_secs(60 * 60),
            lock_retries: 30,
            backfill: BackfillOptions::default(),
        }
    }
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
    StepFinished {
        index: usize,
        step: &'a Step,
        elapsed: Duration,
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
    #[error("step {index} ({description}) could not get its lock within {timeout:?} after {attempts} attempts")]
    LockTimeout {
        index: usize,
        description: String,
        timeout: Duration,
        attempts: u32,
    },
    #[error("could not prepare the session: {0}")]
    Session(#[source] tokio_postgres::Error),
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
        let exists = |b: &crate::plan::Backfill| {
            live.tables
                .get(&b.table)
                .is_some_and(|t| t.column(&b.column).is_some())
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

/// Run `steps` in order. `first_index` numbers them in events and errors.
pub async fn run_steps(
    client: &Client,
    steps: &[Step],
    first_index: usize,
    options: &ApplyOptions,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), ApplyError> {
    client
        .batch_execute("SET application_name = 'zdm'")
        .await
        .map_err(ApplyError::Session)?;
    for (offset, step) in steps.iter().enumerate() {
        let index = first_index + offset;
        on_event(ApplyEvent::StepStarted { index, step });
        let started = std::time::Instant::now();
        run_step(client, index, step, options, on_event).await?;
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
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), ApplyError> {
    let failed = |e: &tokio_postgres::Error| ApplyError::StepFailed {
        index,
        description: step.description.clone(),
        sql: step.sql.clone(),
        message: server_message(e),
    };
    if let Some(backfill) = &step.backfill {
        let session = format!(
            "SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms'",
            millis(options.lock_timeout),
            millis(options.statement_timeout)
        );
        client
            .batch_execute(&session)
            .await
            .map_err(|e| failed(&e))?;
        let mut report = |p: &BackfillProgress| {
            on_event(ApplyEvent::Backfill { step, progress: p });
        };
        backfill::run(
            client,
            backfill,
            &options.backfill,
            BackfillProgress::default(),
            &mut report,
        )
        .await
        .map_err(|e| failed(&e))?;
        return Ok(());
    }

    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = if step.transactional {
            let script = format!(
                "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms';\n{}\nCOMMIT;",
                millis(options.lock_timeout),
                millis(options.statement_timeout),
                step.sql
            );
            let result = client.batch_execute(&script).await;
            if result.is_err() {
                // Leave the session clean for the retry or the next command.
                let _ = client.batch_execute("ROLLBACK").await;
            }
            result
        } else {
            // CONCURRENTLY waits for older transactions without blocking anyone: no lock
            // timeout, and no statement timeout (a large build takes as long as it takes).
            // Sent on its own: several statements in one message form an implicit
            // transaction, which CONCURRENTLY refuses.
            match client
                .batch_execute("SET lock_timeout = 0; SET statement_timeout = 0")
                .await
            {
                Ok(()) => client.batch_execute(&step.sql).await,
                Err(e) => Err(e),
            }
        };
        match result {
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
            Err(e) => return Err(failed(&e)),
        }
    }
}

/// Exponential backoff with full jitter: up to 50 ms, 100 ms, 200 ms ... capped at 5 s.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 50u64.saturating_mul(1 << attempt.min(7)).min(5_000);
    Duration::from_millis(rand::thread_rng().gen_range(ceiling / 2..=ceiling))
}
