//! The backfill batch loop against a real server: batches that run past their time cap are
//! cancelled and redone smaller, every row is filled once, and the session's settings are
//! restored afterwards.

mod common;

use std::time::Duration;

use common::test_db;
use zdm::apply::backfill::{run, BackfillOptions};
use zdm::model::QualifiedName;
use zdm::plan::Backfill;

fn backfill_of(expression: &str) -> Backfill {
    Backfill {
        table: QualifiedName::new("public", "items"),
        column: "label".into(),
        expression: expression.into(),
        key: vec!["id".into()],
        key_types: vec!["bigint".into()],
        pending_only_where: None,
        rows: None,
    }
}

#[tokio::test]
async fn slow_batches_are_cut_and_redone_smaller() {
    let db = test_db().await;
    db.exec(
        "CREATE TABLE items (id bigint PRIMARY KEY, name text, label text);
         INSERT INTO items (id, name) SELECT g, 'n' || g FROM generate_series(1, 600) g;
         SET statement_timeout = '7s';",
    )
    .await;
    // 2 ms per row: the first batch of 1,000 would take 2 s against a 40 ms cap (twice the
    // 20 ms target); batches are cut to 250, then to 100 (the minimum, never cut).
    let slow = backfill_of("concat(name, '!', pg_sleep(0.002))");
    let options = BackfillOptions {
        target_batch_time: Duration::from_millis(20),
        ..BackfillOptions::default()
    };
    let progress = run(&db.client, &slow, &options, None, &mut |_| {})
        .await
        .unwrap_or_else(|e| panic!("{}", e.message()));

    assert_eq!(progress.batches_cut, 2, "{progress:?}");
    assert_eq!(progress.rows_updated, 600);
    assert_eq!(progress.batch_size, 100);
    let wrong: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM items WHERE label IS DISTINCT FROM name || '!'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0);
    let timeout: String = db
        .client
        .query_one("SHOW statement_timeout", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(timeout, "7s", "the session's statement_timeout is restored");
}

#[tokio::test]
async fn fast_batches_grow_by_half_at_most() {
    let db = test_db().await;
    db.exec(
        "CREATE TABLE items (id bigint PRIMARY KEY, name text, label text);
         INSERT INTO items (id, name) SELECT g, 'n' || g FROM generate_series(1, 20000) g;",
    )
    .await;
    let mut sizes = Vec::new();
    let options = BackfillOptions {
        target_batch_time: Duration::from_secs(5),
        ..BackfillOptions::default()
    };
    let progress = run(
        &db.client,
        &backfill_of("upper(name)"),
        &options,
        None,
        &mut |p| sizes.push(p.batch_size),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.message()));
    assert_eq!(progress.rows_updated, 20_000);
    assert_eq!(progress.batches_cut, 0);
    // Far under a 5 s target every batch is fast: 1,000, then half as many again each time,
    // up to the 10,000 maximum.
    assert_eq!(sizes[..4], [1_000, 1_500, 2_250, 3_375]);
    assert!(sizes.iter().all(|s| *s <= 10_000));
}
