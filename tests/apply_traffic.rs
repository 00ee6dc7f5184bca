//! Application traffic while the bundled example is migrated: `zdm apply` (expand, backfill,
//! validate) keeps every application statement's wait near the lock timeout even while a
//! long reader blocks the table; the naive migration (plain ALTERs in one transaction) stalls
//! the application for as long as the reader holds its lock.

mod apply_support;
mod common;

use apply_support::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: i64 = 5_000;
const ORDERS: i64 = 20_000;
const WORKERS: i64 = 4;
/// zdm's lock timeout, and what an application statement may wait beyond it.
const LOCK_TIMEOUT_MS: u64 = 100;
const MARGIN_MS: u64 = 400;
/// How long the blocker keeps its lock once a migration statement is seen queued behind it
/// (long enough for several of zdm's lock timeouts), and at most in all (a run that never
/// reaches a locking step fails its own assertions instead of hanging).
const BLOCKER_HOLDS_AFTER_QUEUED: Duration = Duration::from_secs(2);
const BLOCKER_HOLDS_AT_MOST: Duration = Duration::from_secs(120);

#[derive(Default)]
struct Stats {
    statements: AtomicU64,
    failures: Mutex<Vec<String>>,
    /// The slowest statement: (milliseconds, what).
    worst: Mutex<(u64, String)>,
}

/// Reads and writes on users and orders in a loop, one connection per worker, each worker on
/// its own rows (so workers never wait for each other).
fn start_traffic(
    db: &common::TestDb,
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..WORKERS)
        .map(|w| {
            let conninfo = db.conninfo.clone();
            let stop = stop.clone();
            let stats = stats.clone();
            tokio::spawn(async move {
                let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                client
                    .batch_execute("SET application_name = 'app'")
                    .await
                    .unwrap();
                let mut i: i64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let user = 1 + (w + WORKERS * (i % (USERS / WORKERS - 1)));
                    let (what, sql) = match i % 4 {
                        0 => (
                            "read user",
                            format!("SELECT first_name, last_name FROM users WHERE id = {user}"),
                        ),
                        1 => (
                            "update user",
                            format!("UPDATE users SET last_name = 'l{i}' WHERE id = {user}"),
                        ),
                        2 => (
                            "insert order",
                            format!(
                                "INSERT INTO orders (customer_id, amount) VALUES ({user}, {})",
                                1 + i % 100
                            ),
                        ),
                        _ => (
                            "read orders",
                            format!("SELECT count(*) FROM orders WHERE customer_id = {user}"),
                        ),
                    };
                    let started = Instant::now();
                    let result = client.simple_query(&sql).await;
                    let ms = started.elapsed().as_millis() as u64;
                    stats.statements.fetch_add(1, Ordering::Relaxed);
                    if let Err(e) = result {
                        stats
                            .failures
                            .lock()
                            .unwrap()
                            .push(format!("{what}: {}", zdm::apply::server_message(&e)));
                    }
                    let mut worst = stats.worst.lock().unwrap();
                    if ms > worst.0 {
                        *worst = (ms, what.to_string());
                    }
                }
            })
        })
        .collect()
}

/// A transaction that reads `orders` and sits on its ACCESS SHARE lock until a migration
/// statement (DDL, not the application's traffic) has queued behind it for a while: however
/// long reading the schemas and the rehearsal take on a loaded machine, the blocker is in the
/// way when the migration reaches its first locking step.
async fn start_blocker(db: &common::TestDb) -> tokio::task::JoinHandle<()> {
    let (client, conn) = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute("SET application_name = 'blocker'; BEGIN; SELECT count(*) FROM orders")
        .await
        .unwrap();
    let (watcher, conn) = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        while started.elapsed() < BLOCKER_HOLDS_AT_MOST {
            let queued: i64 = watcher
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity
                      WHERE wait_event_type = 'Lock' AND datname = current_database()
                        AND (query ILIKE 'ALTER%' OR query ILIKE '%ALTER TABLE%')",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if queued > 0 {
                tokio::time::sleep(BLOCKER_HOLDS_AFTER_QUEUED).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client.batch_execute("COMMIT").await.unwrap();
    })
}

struct Run {
    statements: u64,
    failures: Vec<String>,
    worst_ms: u64,
    worst_what: String,
}

/// Traffic for a moment, then the blocker and `migrate`, then traffic for a moment more.
async fn under_traffic<F, Fut>(db: &common::TestDb, migrate: F) -> Run
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let stats = Arc::new(Stats::default());
    let workers = start_traffic(db, stop.clone(), stats.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let blocker = start_blocker(db).await;
    migrate().await;
    blocker.await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let worst = stats.worst.lock().unwrap().clone();
    let failures = stats.failures.lock().unwrap().clone();
    Run {
        statements: stats.statements.load(Ordering::Relaxed),
        failures,
        worst_ms: worst.0,
        worst_what: worst.1,
    }
}

const NAIVE: &str = include_str!("../examples/shop/naive_migration.sql");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_traffic_never_waits_longer_than_the_lock_timeout() {
    let bound = LOCK_TIMEOUT_MS + MARGIN_MS;

    // The naive migration: the first ALTER queues behind the blocker, and every application
    // statement on orders queues behind the ALTER.
    let naive_db = common::test_db().await;
    seed_example(&naive_db, USERS, ORDERS).await;
    let naive = under_traffic(&naive_db, || async {
        naive_db.exec(NAIVE).await;
    })
    .await;
    assert!(naive.statements > 0);
    assert!(
        naive.worst_ms > bound,
        "the naive migration should stall the application beyond {bound} ms (worst {} ms): the test cannot tell good from bad",
        naive.worst_ms
    );

    let db = common::test_db().await;
    seed_example(&db, USERS, ORDERS).await;
    let seeded_orders = "SELECT md5(string_agg(id || ':' || customer_id || ':' || amount || ':' || created_at, ',' ORDER BY id)) FROM orders WHERE id <= 20000";
    let before: String = db
        .client
        .query_one(seeded_orders, &[])
        .await
        .unwrap()
        .get(0);
    let mut outputs = Vec::new();
    let run = under_traffic(&db, || async {
        for phase in ["expand", "backfill", "validate"] {
            let mut cmd = zdm_command(
                &db,
                &[
                    "apply",
                    "--phase",
                    phase,
                    "--yes",
                    "--lock-timeout",
                    &LOCK_TIMEOUT_MS.to_string(),
                ],
            );
            let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap();
            assert!(
                out.status.success(),
                "zdm apply --phase {phase}:\n{}",
                text(&out)
            );
            outputs.push(text(&out));
        }
    })
    .await;
    let log = outputs.join("\n");
    assert!(
        log.contains("lock not available"),
        "the blocker never got in zdm's way, so this run proves nothing:\n{log}"
    );
    assert!(
        run.statements > 100,
        "too little traffic: {}",
        run.statements
    );
    assert!(
        run.failures.is_empty(),
        "{} application statement(s) failed, e.g. {:?}",
        run.failures.len(),
        &run.failures[..run.failures.len().min(5)]
    );
    assert!(
        run.worst_ms <= bound,
        "an application statement ({}) waited {} ms, more than lock_timeout + margin = {bound} ms\n{log}",
        run.worst_what,
        run.worst_ms
    );
    let after: String = db
        .client
        .query_one(seeded_orders, &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(after, before, "seeded orders changed");
    assert_eq!(
        count(&db, "SELECT count(*) FROM users WHERE display_name IS DISTINCT FROM concat(first_name, ' ', last_name)").await,
        0
    );
    eprintln!(
        "naive: {} statements, worst {} ms ({}); zdm: {} statements, worst {} ms ({}), 0 failed",
        naive.statements,
        naive.worst_ms,
        naive.worst_what,
        run.statements,
        run.worst_ms,
        run.worst_what
    );
}
