//! Batched, resumable, idempotent data copies: keyset pagination on the primary key, one
//! short transaction per batch, the batch size adapted to a target batch duration.

use std::time::{Duration, Instant};
use thiserror::Error;
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::plan::Backfill;
use crate::sql::{quote_ident, quote_ident_list, quote_literal};

/// Tuning of the batch loop.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// How long one batch should hold its row locks. A batch that runs past twice this is
    /// cancelled (its locks released at once) and retried smaller, unless it is already at
    /// `min_batch`.
    pub target_batch_time: Duration,
    pub min_batch: i64,
    pub max_batch: i64,
    pub initial_batch: i64,
    /// Pause between batches, to leave room for the application.
    pub pause: Duration,
    /// Wait before each batch while a replica is further behind than this (index builds and
    /// validations wait on the same bound before they start).
    pub replica_lag: Option<super::replica_lag::LagBound>,
}

impl Default for BackfillOptions {
    fn default() -> Self {
        BackfillOptions {
            target_batch_time: Duration::from_millis(50),
            min_batch: 100,
            max_batch: 10_000,
            initial_batch: 1_000,
            pause: Duration::ZERO,
            replica_lag: None,
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
    /// Batches cancelled for running past their time cap (and redone smaller).
    pub batches_cut: u64,
    /// Set while the next batch waits for replicas: why.
    pub waiting: Option<String>,
}

/// The keyset condition for the batch after `cursor` (empty for the first batch).
fn lower_bound(backfill: &Backfill, cursor: Option<&[String]>) -> String {
    let keys = quote_ident_list(&backfill.key);
    match cursor {
        Some(values) => {
            let literals: Vec<String> = values
                .iter()
                .zip(&backfill.key_types)
                .map(|(v, t)| format!("{}::{t}", quote_literal(v)))
                .collect();
            format!("WHERE ({keys}) > ({})", literals.join(", "))
        }
        None => String::new(),
    }
}

/// The statement for one batch after `cursor` (or from the start).
pub fn batch_sql(backfill: &Backfill, cursor: Option<&[String]>, size: i64) -> String {
    let table = &backfill.table;
    let keys = quote_ident_list(&backfill.key);
    let col = quote_ident(&backfill.column);
    let lower = lower_bound(backfill, cursor);
    if let Some(copy) = &backfill.rows {
        return copy.batch_sql(&backfill.key, &lower, size);
    }
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
    #[error(transparent)]
    ReplicaLag(#[from] super::replica_lag::LagError),
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

/// Picks each batch's size from how long the previous one took. It shrinks at once when a
/// batch ran long but grows by at most half when one ran short: on a busy machine batch times
/// are noisy, and chasing a lucky fast batch upwards is what makes the next one hold its row
/// locks for too long.
#[derive(Debug, Clone)]
struct BatchSizer {
    size: i64,
    min: i64,
    max: i64,
    target: Duration,
}

impl BatchSizer {
    fn new(options: &BackfillOptions, resumed_size: i64) -> BatchSizer {
        let start = if resumed_size > 0 {
            resumed_size
        } else {
            options.initial_batch
        };
        BatchSizer {
            size: start.clamp(options.min_batch, options.max_batch),
            min: options.min_batch,
            max: options.max_batch,
            target: options.target_batch_time,
        }
    }

    /// The statement timeout for the next batch: twice the target, or none (`None`) once the
    /// batch is as small as it may get (a batch must be able to finish).
    fn cap(&self) -> Option<Duration> {
        (self.size > self.min).then_some(self.target * 2)
    }

    fn after_batch(&mut self, elapsed: Duration) {
        let ratio = self.target.as_secs_f64() / elapsed.as_secs_f64().max(1e-4);
        self.resize(ratio.clamp(0.1, 1.5));
    }

    /// The batch was cancelled: it ran past the cap, or waited past the lock timeout for a
    /// row an application transaction holds.
    fn after_cut(&mut self) {
        self.resize(0.25);
    }

    fn resize(&mut self, factor: f64) {
        self.size = ((self.size as f64 * factor) as i64).clamp(self.min, self.max);
    }
}

/// Run batches until the table is done, calling `on_batch` after each. With a `store`, the
/// position is loaded from the ledger first and saved after every batch. The session's
/// `statement_timeout` is changed per batch (see [`BatchSizer::cap`]) and restored after;
/// its `search_path` is `pg_catalog, pg_temp` meanwhile, as in zdm's sync triggers, so that
/// the batches compute what the triggers compute (the expression names what is not in
/// pg_catalog with its schema, see `catalog::resolve`).
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
    let session = client
        .query_one(
            "SELECT current_setting('statement_timeout'), current_setting('search_path')",
            &[],
        )
        .await?;
    let (session_timeout, session_path): (String, String) = (session.get(0), session.get(1));
    client
        .batch_execute("SET search_path = pg_catalog, pg_temp")
        .await?;
    let result = run_batches(client, backfill, options, store, on_batch).await;
    let restore = format!(
        "SET statement_timeout = {}; SELECT pg_catalog.set_config('search_path', {}, false)",
        quote_literal(&session_timeout),
        quote_literal(&session_path)
    );
    let restored = client.batch_execute(&restore).await;
    // The batch loop's error, when there is one, says more than a failed restore would.
    let progress = result?;
    restored?;
    Ok(progress)
}

async fn run_batches(
    client: &Client,
    backfill: &Backfill,
    options: &BackfillOptions,
    store: Option<&CursorStore<'_>>,
    on_batch: &mut dyn FnMut(&BackfillProgress),
) -> Result<BackfillProgress, BackfillError> {
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
    let mut sizer = BatchSizer::new(options, progress.batch_size);
    let mut timeout_set: Option<Option<Duration>> = None;
    let mut lock_failures = 0u32;
    loop {
        if let Some(bound) = options.replica_lag {
            wait_for_replicas(client, bound, &mut progress, on_batch).await?;
        }
        let cap = sizer.cap();
        if timeout_set != Some(cap) {
            let ms = cap.map(|c| c.as_millis().max(1)).unwrap_or(0);
            client
                .batch_execute(&format!("SET statement_timeout = '{ms}ms'"))
                .await?;
            timeout_set = Some(cap);
        }
        let sql = batch_sql(backfill, progress.cursor.as_deref(), sizer.size);
        let started = Instant::now();
        let rows = match client.query(sql.as_str(), &[]).await {
            Ok(rows) => rows,
            // An application transaction holds a row of this batch for longer than the lock
            // timeout: back off and try the same batch again, smaller.
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                lock_failures += 1;
                if lock_failures > 50 {
                    return Err(BackfillError::LockTimeout {
                        attempts: lock_failures,
                    });
                }
                sizer.after_cut();
                tokio::time::sleep(super::backoff(lock_failures.min(5))).await;
                continue;
            }
            // The batch ran past its cap and was rolled back: the same rows again, fewer.
            Err(e) if cap.is_some() && e.code() == Some(&SqlState::QUERY_CANCELED) => {
                progress.batches_cut += 1;
                sizer.after_cut();
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
        progress.batch_size = sizer.size;
        if let Some(store) = store {
            // After the batch committed: a kill in between only repeats a batch, and a
            // batch only fills rows that still lack their value.
            store.save(backfill, &progress, false).await?;
        }
        on_batch(&progress);
        sizer.after_batch(elapsed);
        if !options.pause.is_zero() {
            tokio::time::sleep(options.pause).await;
        }
    }
}

/// Before a batch: wait while replicas are past `bound`, telling `on_batch` why.
async fn wait_for_replicas(
    client: &Client,
    bound: super::replica_lag::LagBound,
    progress: &mut BackfillProgress,
    on_batch: &mut dyn FnMut(&BackfillProgress),
) -> Result<(), BackfillError> {
    super::replica_lag::wait_below(client, bound, &mut |why| {
        progress.waiting = Some(why.to_string());
        on_batch(progress);
    })
    .await?;
    progress.waiting = None;
    Ok(())
}

/// Whether any row still waits for its value (a backfill is finished when none does): a row
/// whose column is NULL (and that meets `pending_only_where`: a NULL source, e.g. the old
/// column of a rename, leaves nothing to copy). A column that does not exist yet (expand has
/// not run) is pending too.
pub async fn is_pending(
    client: &Client,
    backfill: &Backfill,
) -> Result<bool, tokio_postgres::Error> {
    if let Some(copy) = &backfill.rows {
        return match client.query_one(copy.pending_sql().as_str(), &[]).await {
            Ok(row) => Ok(row.get(0)),
            Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(true),
            Err(e) => Err(e),
        };
    }
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
            if e.code() == Some(&SqlState::UNDEFINED_COLUMN)
                || e.code() == Some(&SqlState::UNDEFINED_TABLE) =>
        {
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizer() -> BatchSizer {
        BatchSizer::new(&BackfillOptions::default(), 0)
    }

    #[test]
    fn grows_slowly_and_shrinks_at_once() {
        let mut s = sizer();
        assert_eq!(s.size, 1_000);
        s.after_batch(Duration::from_millis(5));
        assert_eq!(s.size, 1_500, "a fast batch grows the next by half at most");
        s.after_batch(Duration::from_millis(100));
        assert_eq!(s.size, 750, "twice the target halves it");
        s.after_batch(Duration::from_secs(5));
        assert_eq!(
            s.size, 100,
            "far over the target drops to a tenth, within bounds"
        );
    }

    #[test]
    fn cap_is_twice_the_target_until_the_minimum() {
        let mut s = sizer();
        assert_eq!(s.cap(), Some(Duration::from_millis(100)));
        s.after_cut();
        assert_eq!(s.size, 250);
        s.after_cut();
        assert_eq!(s.size, 100);
        assert_eq!(s.cap(), None, "the smallest batch is never cancelled");
    }

    #[test]
    fn resumes_with_the_saved_size_within_bounds() {
        let options = BackfillOptions::default();
        assert_eq!(BatchSizer::new(&options, 4_000).size, 4_000);
        assert_eq!(BatchSizer::new(&options, 50_000).size, 10_000);
    }
}
