//! Batched, resumable, idempotent data copies: keyset pagination on the primary key, one
//! short transaction per batch, the batch size adapted to a target batch duration.

use std::time::{Duration, Instant};
use thiserror::Error;
use tokio_postgres::Client;

use crate::plan::Backfill;
use crate::sql::{quote_ident, quote_ident_list, quote_literal};

/// Tuning of the batch loop.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// How long one batch may hold its row locks.
    pub target_batch_time: Duration,
    pub min_batch: i64,
    pub max_batch: i64,
    pub initial_batch: i64,
    /// Pause between batches, to leave room for the application.
    pub pause: Duration,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        BackfillOptions {
            target_batch_time: Duration::from_millis(50),
            min_batch: 100,
            max_batch: 10_000,
            initial_batch: 1_000,
            pause: Duration::ZERO,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct BackfillProgress {
    pub rows_updated: u64,
    pub rows_scanned: u64,
    pub batches: u64,
    pub batch_size: i64,
    /// The last key done, as text (resume point).
    pub cursor: Option<Vec<String>>,
    /// The planner's estimate of the table's rows.
    pub rows_estimated: Option<u64>,
    /// Whether this run continued from a cursor saved by an earlier one.
    pub resumed: bool,
    pub last_batch_time: Duration,
}

/// The statement for one batch after `cursor` (or from the start).
pub fn batch_sql(backfill: &Backfill, cursor: Option<&[String]>, size: i64) -> String {
    let table = &backfill.table;
    let keys = quote_ident_list(&backfill.key);
    let col = quote_ident(&backfill.column);
    let lower = match cursor {
        Some(values) => {
            let literals: Vec<String> = values
                .iter()
                .zip(&backfill.key_types)
                .map(|(v, t)| format!("{}::{t}", quote_literal(v)))
                .collect();
            format!("WHERE ({keys}) > ({})", literals.join(", "))
        }
        None => String::new(),
    };
    let descending: Vec<String> = backfill
        .key
        .iter()
        .map(|k| format!("{} DESC", quote_ident(k)))
        .collect();
    let last_as_text: Vec<String> = backfill
        .key
        .iter()
        .map(|k| format!("last.{}::text", quote_ident(k)))
        .collect();
    format!(
        "WITH batch AS (SELECT {keys} FROM {table} {lower} ORDER BY {keys} LIMIT {size}), \
         updated AS (UPDATE {table} SET {col} = {expr} WHERE {col} IS NULL AND ({keys}) IN (SELECT {keys} FROM batch) RETURNING 1) \
         SELECT (SELECT count(*) FROM updated), (SELECT count(*) FROM batch), {last} \
         FROM (SELECT {keys} FROM batch ORDER BY {desc} LIMIT 1) AS last",
        expr = backfill.expression,
        last = last_as_text.join(", "),
        desc = descending.join(", "),
    )
}

#[derive(Debug, Error)]
pub enum BackfillError {
    #[error(
        "{table} has no primary key: zdm fills {column} in keyset batches on the primary key; \
         add a primary key (e.g. CREATE UNIQUE INDEX CONCURRENTLY + ADD PRIMARY KEY USING INDEX) first"
    )]
    NoKey { table: String, column: String },
    #[error("{0}")]
    Db(#[from] tokio_postgres::Error),
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    #[error(
        "a batch could not get its row locks within the lock timeout {attempts} times in a row"
    )]
    LockTimeout { attempts: u32 },
}

impl BackfillError {
    pub fn message(&self) -> String {
        match self {
            BackfillError::Db(e) => super::server_message(e),
            other => other.to_string(),
        }
    }
}

/// The planner's estimate of the table's rows (`reltuples`), when it has one.
pub async fn estimate_rows(
    client: &Client,
    backfill: &Backfill,
) -> Result<Option<u64>, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT reltuples::float8 FROM pg_class WHERE oid = to_regclass($1)",
            &[&backfill.table.to_string()],
        )
        .await;
    Ok(match row {
        Ok(r) => {
            let n: Option<f64> = r.get(0);
            n.filter(|n| *n >= 0.0).map(|n| n as u64)
        }
        Err(_) => None,
    })
}

/// Where the backfill's cursor is kept (resume after a kill).
pub struct CursorStore<'a> {
    pub ledger: &'a crate::ledger::Ledger<'a>,
    pub plan_id: Option<i64>,
}

impl CursorStore<'_> {
    /// Record how far `backfill` got (and whether it is finished).
    async fn save(
        &self,
        backfill: &Backfill,
        progress: &BackfillProgress,
        finished: bool,
    ) -> Result<(), crate::ledger::LedgerError> {
        self.ledger
            .save_cursor(
                backfill,
                self.plan_id,
                progress.cursor.as_deref(),
                progress.rows_updated,
                progress.rows_scanned,
                progress.batch_size,
                finished,
            )
            .await
    }
}

/// Run batches until the table is done, calling `on_batch` after each. With a `store`, the
/// position is loaded from the ledger first and saved after every batch.
pub async fn run(
    client: &Client,
    backfill: &Backfill,
    options: &BackfillOptions,
    store: Option<&CursorStore<'_>>,
    on_batch: &mut dyn FnMut(&BackfillProgress),
) -> Result<BackfillProgress, BackfillError> {
    if backfill.key.is_empty() {
        return Err(BackfillError::NoKey {
            table: backfill.table.to_string(),
            column: backfill.column.clone(),
        });
    }
    let mut progress = BackfillProgress {
        rows_estimated: estimate_rows(client, backfill).await?,
        ..BackfillProgress::default()
    };
    if let Some(store) = store {
        if let Some(saved) = store.ledger.load_cursor(backfill).await? {
            if !saved.finished {
                progress.cursor = saved.cursor;
                progress.rows_updated = saved.rows_done;
                progress.rows_scanned = saved.rows_scanned;
                progress.batch_size = saved.batch_size;
                progress.resumed = progress.cursor.is_some();
            }
        }
    }
    let mut size = if progress.batch_size > 0 {
        progress.batch_size
    } else {
        options.initial_batch
    };
    let mut lock_failures = 0u32;
    loop {
        let sql = batch_sql(backfill, progress.cursor.as_deref(), size);
        let started = Instant::now();
        let rows = match client.query(sql.as_str(), &[]).await {
            Ok(rows) => rows,
            // An application transaction holds a row of this batch for longer than the lock
            // timeout: back off and try the same batch again, smaller.
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
                lock_failures += 1;
                if lock_failures > 50 {
                    return Err(BackfillError::LockTimeout {
                        attempts: lock_failures,
                    });
                }
                size = (size / 2).max(options.min_batch);
                tokio::time::sleep(super::backoff(lock_failures.min(5))).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        lock_failures = 0;
        let elapsed = started.elapsed();
        let Some(row) = rows.first() else {
            if let Some(store) = store {
                store.save(backfill, &progress, true).await?;
            }
            return Ok(progress);
        };
        let updated: i64 = row.get(0);
        let scanned: i64 = row.get(1);
        progress.rows_updated += updated as u64;
        progress.rows_scanned += scanned as u64;
        progress.batches += 1;
        progress.last_batch_time = elapsed;
        progress.cursor = Some(
            (0..backfill.key.len())
                .map(|i| row.get::<_, String>(i + 2))
                .collect(),
        );
        progress.batch_size = size;
        if let Some(store) = store {
            // After the batch committed: a kill in between only repeats a batch, and a
            // batch only fills rows that still lack their value.
            store.save(backfill, &progress, false).await?;
        }
        on_batch(&progress);
        // Aim each batch at the target time: scale by how far off this one was.
        let ratio = options.target_batch_time.as_secs_f64() / elapsed.as_secs_f64().max(1e-4);
        let next = (size as f64 * ratio.clamp(0.5, 2.0)) as i64;
        size = next.clamp(options.min_batch, options.max_batch);
        if !options.pause.is_zero() {
            tokio::time::sleep(options.pause).await;
        }
    }
}

/// Whether any row still waits for its value (a backfill is finished when none does): a row
/// whose column is NULL (and that meets `pending_only_where`: a NULL source, e.g. the old
/// column of a rename, leaves nothing to copy). A column that does not exist yet (expand has
/// not run) is pending too.
pub async fn is_pending(
    client: &Client,
    backfill: &Backfill,
) -> Result<bool, tokio_postgres::Error> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM {} WHERE {} IS NULL{})",
        backfill.table,
        quote_ident(&backfill.column),
        backfill
            .pending_only_where
            .as_ref()
            .map(|c| format!(" AND ({c})"))
            .unwrap_or_default()
    );
    match client.query_one(sql.as_str(), &[]).await {
        Ok(row) => Ok(row.get(0)),
        Err(e)
            if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_COLUMN)
                || e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) =>
        {
            Ok(true)
        }
        Err(e) => Err(e),
    }
}
