//! The ledger: what `zdm apply` did to a database, kept in that database's schema `zdm`
//! (which diff and the catalog ignore).
//!
//! - `zdm.plans`: each plan a run executed (fingerprints of the schema it was made against
//!   and of the desired schema, who ran it, when);
//! - `zdm.steps`: each step of a run (start, end, attempts, outcome, error);
//! - `zdm.phases`: when a phase finished, keyed by the *target* fingerprint, because every
//!   run re-plans from the live schema (a new plan each time) while the desired schema stays
//!   the same: expand's finish time survives re-plans and starts contract's rollback window;
//! - `zdm.backfill_cursors`: the last key a backfill finished, so a killed backfill resumes;
//! - `zdm.schema_after`: the schema each of the last runs left, to tell drift from zdm's work
//!   ([`Snapshot`]).

mod snapshot;

pub use snapshot::Snapshot;

use std::time::SystemTime;
use thiserror::Error;
use tokio_postgres::Client;

use crate::plan::{Backfill, Phase, Plan, Step};

#[derive(Debug, Error)]
pub enum LedgerError {
    #[error("ledger (schema zdm): {0}")]
    Db(#[from] tokio_postgres::Error),
}

const SETUP: &str = "
CREATE SCHEMA IF NOT EXISTS zdm;
CREATE TABLE IF NOT EXISTS zdm.plans (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_fingerprint text NOT NULL,
    target_fingerprint text NOT NULL,
    db_user text NOT NULL DEFAULT current_user,
    client_host text,
    os_user text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS zdm.steps (
    plan_id bigint NOT NULL REFERENCES zdm.plans (id),
    ordinal int NOT NULL,
    phase text NOT NULL,
    description text NOT NULL,
    sql text NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    attempts int NOT NULL DEFAULT 0,
    outcome text NOT NULL DEFAULT 'pending',
    error text,
    PRIMARY KEY (plan_id, ordinal)
);
CREATE TABLE IF NOT EXISTS zdm.phases (
    target_fingerprint text NOT NULL,
    phase text NOT NULL,
    plan_id bigint REFERENCES zdm.plans (id),
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_fingerprint, phase)
);
CREATE TABLE IF NOT EXISTS zdm.backfill_cursors (
    step_key text PRIMARY KEY,
    plan_id bigint REFERENCES zdm.plans (id),
    table_name text NOT NULL,
    column_name text NOT NULL,
    cursor text[],
    rows_done bigint NOT NULL DEFAULT 0,
    rows_scanned bigint NOT NULL DEFAULT 0,
    batch_size bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE TABLE IF NOT EXISTS zdm.schema_after (
    plan_id bigint PRIMARY KEY REFERENCES zdm.plans (id),
    taken_at timestamptz NOT NULL DEFAULT now(),
    model jsonb NOT NULL
);
-- Only zdm's own role writes its ledger, whatever default privileges the database has.
REVOKE ALL ON SCHEMA zdm FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA zdm FROM PUBLIC;
";

/// A step that a run started but never finished (the run was killed or lost its connection).
#[derive(Debug, Clone)]
pub struct InterruptedStep {
    pub plan_id: i64,
    pub ordinal: i32,
    pub phase: String,
    pub description: String,
    pub started_at: SystemTime,
    pub attempts: i32,
}

/// A saved backfill position.
#[derive(Debug, Clone, Default)]
pub struct SavedCursor {
    pub cursor: Option<Vec<String>>,
    pub rows_done: u64,
    pub rows_scanned: u64,
    pub batch_size: i64,
    pub finished: bool,
    pub table: String,
    pub column: String,
}

/// The columns [`SavedCursor::from_row`] reads, in its order.
const SELECT_CURSORS: &str = "SELECT cursor, rows_done, rows_scanned, batch_size, \
     finished_at IS NOT NULL, table_name, column_name FROM zdm.backfill_cursors";

impl SavedCursor {
    fn from_row(r: &tokio_postgres::Row) -> SavedCursor {
        SavedCursor {
            cursor: r.get(0),
            rows_done: r.get::<_, i64>(1) as u64,
            rows_scanned: r.get::<_, i64>(2) as u64,
            batch_size: r.get(3),
            finished: r.get(4),
            table: r.get(5),
            column: r.get(6),
        }
    }
}

/// Who runs zdm, as recorded with each plan.
#[derive(Debug, Clone, Default)]
pub struct Operator {
    pub host: Option<String>,
    pub os_user: Option<String>,
}

impl Operator {
    /// The client's host name and OS user, as far as they can be found.
    pub fn current() -> Operator {
        let host = nix::unistd::gethostname()
            .ok()
            .and_then(|h| h.into_string().ok());
        let os_user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map(|u| u.name)
            .or_else(|| std::env::var("USER").ok());
        Operator { host, os_user }
    }
}

/// The ledger of one database, through one session.
pub struct Ledger<'a> {
    client: &'a Client,
}

/// The key under which a backfill's cursor is kept: stable across re-plans.
pub fn backfill_key(backfill: &Backfill) -> String {
    format!(
        "{}.{}:{}",
        backfill.table, backfill.column, backfill.expression
    )
}

impl<'a> Ledger<'a> {
    /// Create the ledger's schema and tables when they don't exist yet.
    pub async fn open(client: &'a Client) -> Result<Ledger<'a>, LedgerError> {
        // The ledger's own DDL touches no application table; no lock worth a timeout.
        client.batch_execute(SETUP).await?;
        Ok(Ledger { client })
    }

    /// The ledger when it exists (read-only use: `zdm status`), without creating it.
    pub async fn existing(client: &'a Client) -> Result<Option<Ledger<'a>>, LedgerError> {
        let row = client
            .query_one(
                "SELECT to_regclass('zdm.backfill_cursors') IS NOT NULL \
                 AND to_regclass('zdm.phases') IS NOT NULL",
                &[],
            )
            .await?;
        Ok(row.get::<_, bool>(0).then_some(Ledger { client }))
    }

    pub fn client(&self) -> &Client {
        self.client
    }

    /// Record a plan about to run, and its steps as pending; returns the plan id.
    pub async fn record_plan(
        &self,
        plan: &Plan,
        steps: &[Step],
        operator: &Operator,
    ) -> Result<i64, LedgerError> {
        let row = self
            .client
            .query_one(
                "INSERT INTO zdm.plans (source_fingerprint, target_fingerprint, client_host, os_user) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    &plan.source_fingerprint,
                    &plan.target_fingerprint,
                    &operator.host,
                    &operator.os_user,
                ],
            )
            .await?;
        let id: i64 = row.get(0);
        for (i, step) in steps.iter().enumerate() {
            self.client
                .execute(
                    "INSERT INTO zdm.steps (plan_id, ordinal, phase, description, sql) \
                     VALUES ($1, $2, $3, $4, $5)",
                    &[
                        &id,
                        &(i as i32 + 1),
                        &step.phase.name(),
                        &step.description,
                        &step.sql,
                    ],
                )
                .await?;
        }
        Ok(id)
    }

    pub async fn step_started(&self, plan_id: i64, ordinal: usize) -> Result<(), LedgerError> {
        self.client
            .execute(
                "UPDATE zdm.steps SET started_at = now(), outcome = 'running' \
                 WHERE plan_id = $1 AND ordinal = $2",
                &[&plan_id, &(ordinal as i32)],
            )
            .await?;
        Ok(())
    }

    pub async fn step_attempt(&self, plan_id: i64, ordinal: usize) -> Result<(), LedgerError> {
        self.client
            .execute(
                "UPDATE zdm.steps SET attempts = attempts + 1 WHERE plan_id = $1 AND ordinal = $2",
                &[&plan_id, &(ordinal as i32)],
            )
            .await?;
        Ok(())
    }

    /// Record how a step ended: `error` None for success.
    pub async fn step_finished(
        &self,
        plan_id: i64,
        ordinal: usize,
        error: Option<&str>,
    ) -> Result<(), LedgerError> {
        let outcome = if error.is_some() { "failed" } else { "done" };
        self.client
            .execute(
                "UPDATE zdm.steps SET finished_at = now(), outcome = $3, error = $4 \
                 WHERE plan_id = $1 AND ordinal = $2",
                &[&plan_id, &(ordinal as i32), &outcome, &error],
            )
            .await?;
        Ok(())
    }

    /// Steps that some earlier run started and never finished; they are marked `interrupted`
    /// so they are reported once.
    pub async fn take_interrupted(&self) -> Result<Vec<InterruptedStep>, LedgerError> {
        let rows = self
            .client
            .query(
                "UPDATE zdm.steps SET outcome = 'interrupted' \
                 WHERE started_at IS NOT NULL AND finished_at IS NULL AND outcome = 'running' \
                 RETURNING plan_id, ordinal, phase, description, started_at, attempts",
                &[],
            )
            .await?;
        let mut out: Vec<InterruptedStep> = rows
            .iter()
            .map(|r| InterruptedStep {
                plan_id: r.get(0),
                ordinal: r.get(1),
                phase: r.get(2),
                description: r.get(3),
                started_at: r.get(4),
                attempts: r.get(5),
            })
            .collect();
        out.sort_by_key(|s| (s.plan_id, s.ordinal));
        Ok(out)
    }

    /// Record that `phase` has no work left toward the desired schema `target` (the first
    /// time only: a later empty run does not move the time).
    pub async fn phase_finished(
        &self,
        target: &str,
        phase: Phase,
        plan_id: Option<i64>,
    ) -> Result<(), LedgerError> {
        self.client
            .execute(
                "INSERT INTO zdm.phases (target_fingerprint, phase, plan_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (target_fingerprint, phase) DO NOTHING",
                &[&target, &phase.name(), &plan_id],
            )
            .await?;
        Ok(())
    }

    /// When `phase` finished toward the desired schema `target`.
    pub async fn phase_finished_at(
        &self,
        target: &str,
        phase: Phase,
    ) -> Result<Option<SystemTime>, LedgerError> {
        let row = self
            .client
            .query_opt(
                "SELECT finished_at FROM zdm.phases WHERE target_fingerprint = $1 AND phase = $2",
                &[&target, &phase.name()],
            )
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// All phases recorded as finished toward `target`, with their times.
    pub async fn phases_finished(
        &self,
        target: &str,
    ) -> Result<Vec<(String, SystemTime)>, LedgerError> {
        let rows = self
            .client
            .query(
                "SELECT phase, finished_at FROM zdm.phases WHERE target_fingerprint = $1 \
                 ORDER BY finished_at",
                &[&target],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub async fn load_cursor(
        &self,
        backfill: &Backfill,
    ) -> Result<Option<SavedCursor>, LedgerError> {
        let sql = format!("{SELECT_CURSORS} WHERE step_key = $1");
        let row = self
            .client
            .query_opt(sql.as_str(), &[&backfill_key(backfill)])
            .await?;
        Ok(row.as_ref().map(SavedCursor::from_row))
    }

    /// Every saved backfill position (for `zdm status`).
    pub async fn cursors(&self) -> Result<Vec<SavedCursor>, LedgerError> {
        let sql = format!("{SELECT_CURSORS} ORDER BY updated_at");
        let rows = self.client.query(sql.as_str(), &[]).await?;
        Ok(rows.iter().map(SavedCursor::from_row).collect())
    }

    /// Save a backfill's position after a batch (or its end, with `finished`).
    #[allow(clippy::too_many_arguments)]
    pub async fn save_cursor(
        &self,
        backfill: &Backfill,
        plan_id: Option<i64>,
        cursor: Option<&[String]>,
        rows_done: u64,
        rows_scanned: u64,
        batch_size: i64,
        finished: bool,
    ) -> Result<(), LedgerError> {
        let cursor: Option<Vec<String>> = cursor.map(|c| c.to_vec());
        self.client
            .execute(
                "INSERT INTO zdm.backfill_cursors AS b (step_key, plan_id, table_name, column_name, \
                   cursor, rows_done, rows_scanned, batch_size, finished_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $9 THEN now() END) \
                 ON CONFLICT (step_key) DO UPDATE SET plan_id = excluded.plan_id, \
                   cursor = excluded.cursor, rows_done = excluded.rows_done, \
                   rows_scanned = excluded.rows_scanned, batch_size = excluded.batch_size, \
                   updated_at = now(), finished_at = excluded.finished_at",
                &[
                    &backfill_key(backfill),
                    &plan_id,
                    &backfill.table.to_string(),
                    &backfill.column,
                    &cursor,
                    &(rows_done as i64),
                    &(rows_scanned as i64),
                    &batch_size,
                    &finished,
                ],
            )
            .await?;
        Ok(())
    }
}
