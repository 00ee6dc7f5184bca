//! Batched, resumable, idempotent data copies: keyset pagination on the primary key, one
//! short transaction per batch, the batch size adapted to a target batch duration.

use std::time::{Duration, Instant};
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

/// Run batches until the table is done, calling `on_batch` after each.
pub async fn run(
    client: &Client,
    backfill: &Backfill,
    options: &BackfillOptions,
    mut progress: BackfillProgress,
    on_batch: &mut dyn FnMut(&BackfillProgress),
) -> Result<BackfillProgress, tokio_postgres::Error> {
    let mut size = if progress.batch_size > 0 {
        progress.batch_size
    } else {
        options.initial_batch
    };
    loop {
        let sql = batch_sql(backfill, progress.cursor.as_deref(), size);
        let started = Instant::now();
        let rows = client.query(sql.as_str(), &[]).await?;
        let elapsed = started.elapsed();
        let Some(row) = rows.first() else {
            return Ok(progress);
        };
        let updated: i64 = row.get(0);
        let scanned: i64 = row.get(1);
        progress.rows_updated += updated as u64;
        progress.rows_scanned += scanned as u64;
        progress.batches += 1;
        progress.cursor = Some(
            (0..backfill.key.len())
                .map(|i| row.get::<_, String>(i + 2))
                .collect(),
        );
        progress.batch_size = size;
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
