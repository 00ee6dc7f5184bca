//! What a concurrent index build needs around it: progress read from a second connection
//! while it runs, and the INVALID index a failed or killed build leaves behind.

use tokio_postgres::Client;

use super::{server_message, ApplyEvent, ApplyOptions, IndexProgress};
use crate::plan::Step;

/// After a failed build: drop the INVALID index it leaves behind (it still slows writes and
/// blocks the name), concurrently, and say what became of it.
pub(super) async fn clean_up_failed_build(
    client: &Client,
    step: &Step,
    schema: &str,
    name: &str,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> String {
    match drop_invalid_index(client, schema, name).await {
        Ok(true) => {
            on_event(ApplyEvent::InvalidIndexDropped {
                step,
                index: name,
                before: false,
            });
            "the INVALID index it left behind was dropped (DROP INDEX CONCURRENTLY)".to_string()
        }
        Ok(false) => "no INVALID index was left behind".to_string(),
        Err(drop) => format!(
            "the INVALID index it left behind could not be dropped: {}; drop it with DROP INDEX CONCURRENTLY {}.{}",
            server_message(&drop),
            crate::sql::quote_ident(schema),
            crate::sql::quote_ident(name)
        ),
    }
}

/// Run a non-transactional step, watching its progress from a second connection.
pub(super) async fn run_watched(
    client: &Client,
    step: &Step,
    options: &ApplyOptions,
    on_event: &mut dyn FnMut(ApplyEvent),
) -> Result<(), tokio_postgres::Error> {
    let Some(target) = &options.progress_target else {
        return client.batch_execute(&step.sql).await;
    };
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await?
        .get(0);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<IndexProgress>();
    let target = target.clone();
    let interval = options.progress_interval;
    let watcher = tokio::spawn(async move {
        let Ok(watch) = target.connect().await else {
            return;
        };
        let _ = watch
            .batch_execute("SET application_name = 'zdm progress'")
            .await;
        let mut last: Option<IndexProgress> = None;
        loop {
            tokio::time::sleep(interval).await;
            let row = watch
                .query_opt(
                    "SELECT phase, blocks_done, blocks_total, tuples_done, tuples_total                      FROM pg_stat_progress_create_index WHERE pid = $1",
                    &[&pid],
                )
                .await;
            let Ok(row) = row else { return };
            if let Some(r) = row {
                let p = IndexProgress {
                    phase: r.get(0),
                    blocks_done: r.get(1),
                    blocks_total: r.get(2),
                    tuples_done: r.get(3),
                    tuples_total: r.get(4),
                };
                if last.as_ref() != Some(&p) {
                    last = Some(p.clone());
                    if tx.send(p).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let run = client.batch_execute(&step.sql);
    tokio::pin!(run);
    let result = loop {
        tokio::select! {
            result = &mut run => break result,
            Some(p) = rx.recv() => on_event(ApplyEvent::IndexProgress { step, progress: &p }),
        }
    };
    watcher.abort();
    result
}

/// Whether an index of this name exists and is INVALID (`pg_index.indisvalid` false).
pub async fn invalid_index_exists(
    client: &Client,
    schema: &str,
    name: &str,
) -> Result<bool, tokio_postgres::Error> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisvalid)",
            &[&schema, &name],
        )
        .await?;
    Ok(row.get(0))
}

/// Drop an INVALID index of this name, concurrently; whether there was one.
pub(super) async fn drop_invalid_index(
    client: &Client,
    schema: &str,
    name: &str,
) -> Result<bool, tokio_postgres::Error> {
    if !invalid_index_exists(client, schema, name).await? {
        return Ok(false);
    }
    client
        .batch_execute("SET lock_timeout = 0; SET statement_timeout = 0")
        .await?;
    client
        .batch_execute(&format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}.{}",
            crate::sql::quote_ident(schema),
            crate::sql::quote_ident(name)
        ))
        .await?;
    Ok(true)
}
