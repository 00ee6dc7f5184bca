//! A table turned partitioned online, against a real server: `events` (regular, with rows)
//! gets `PARTITION BY RANGE (created_at)` and its partitions in the files; while the old
//! application inserts, updates and deletes events, zdm builds a partitioned copy kept in
//! step by triggers, backfills it, compares it, swaps it in by name and drops the old table
//! at contract. Each application statement also writes the same change to `mirror` (one
//! statement, so both commit or neither): afterwards `events` equals `mirror`, no statement
//! failed and none waited beyond the lock timeout plus a margin. A copy killed with SIGKILL
//! resumes without duplicates; an empty table is still re-created in one step.

mod apply_support;
mod common;
mod traffic_support;

use apply_support::{count, text, zdm_command};
use std::process::Output;
use std::time::Duration;

const LOCK_TIMEOUT_MS: u64 = 100;
const MARGIN_MS: u64 = 400;
/// Rows seeded; `ZDM_PARTITION_ROWS` overrides (the default is what the issue asks for).
const ROWS: i64 = 200_000;
const WORKERS: i64 = 2;

const V1: &str = "CREATE TABLE public.events (
    id bigserial NOT NULL,
    created_at timestamptz NOT NULL,
    kind text NOT NULL,
    payload text,
    PRIMARY KEY (id, created_at)
);
CREATE INDEX events_kind_idx ON public.events (kind);
CREATE VIEW public.recent_kinds AS SELECT kind, count(*) AS n FROM public.events GROUP BY kind;";

const DESIRED: &str = "CREATE TABLE public.events (
    id bigserial NOT NULL,
    created_at timestamptz NOT NULL,
    kind text NOT NULL,
    payload text,
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE TABLE public.events_2024 PARTITION OF public.events
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE public.events_2025 PARTITION OF public.events
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE public.events_rest PARTITION OF public.events DEFAULT;
CREATE INDEX events_kind_idx ON public.events (kind);
CREATE VIEW public.recent_kinds AS SELECT kind, count(*) AS n FROM public.events GROUP BY kind;
CREATE TABLE public.mirror (id bigint, created_at timestamptz, kind text, payload text);
";

fn rows() -> i64 {
    std::env::var("ZDM_PARTITION_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ROWS)
}

async fn seed(db: &common::TestDb, rows: i64) {
    db.exec(V1).await;
    db.exec(&format!(
        "INSERT INTO events (created_at, kind, payload)
           SELECT timestamptz '2024-01-01' + g * interval '5 minutes', 'k' || (g % 7), 'p' || g
             FROM generate_series(1, {rows}) g;
         CREATE TABLE mirror AS SELECT * FROM events;
         ANALYZE events;"
    ))
    .await;
}

/// Rows of `events` not in `mirror` plus rows of `mirror` not in `events`.
async fn differences(db: &common::TestDb) -> i64 {
    count(
        db,
        "SELECT (SELECT count(*) FROM (TABLE events EXCEPT ALL TABLE mirror) a)
              + (SELECT count(*) FROM (TABLE mirror EXCEPT ALL TABLE events) b)",
    )
    .await
}

async fn apply(db: &common::TestDb, phase: &str, schema: &str) -> Output {
    apply_support::apply_phase(db, phase, schema, LOCK_TIMEOUT_MS, &[]).await
}

/// The old application: each statement changes `events` and repeats the change on `mirror`.
/// Worker `w` touches only the seeded ids `= w (mod WORKERS)` and the rows it inserted.
fn old_app(w: i64, i: i64) -> (&'static str, String) {
    let id = 1 + w + WORKERS * ((i * 37) % (ROWS_FOR_TRAFFIC / WORKERS));
    match i % 5 {
        0 | 1 => (
            "insert event",
            format!(
                "WITH n AS (INSERT INTO events (created_at, kind, payload)
                   VALUES (timestamptz '2025-06-01' + {i} * interval '1 second', 'new', 'w{w} {i}') RETURNING *)
                 INSERT INTO mirror SELECT * FROM n"
            ),
        ),
        2 => (
            "update event",
            format!(
                "WITH u AS (UPDATE events SET payload = 'u{i}' WHERE id = {id} RETURNING *)
                 UPDATE mirror m SET payload = u.payload FROM u WHERE m.id = u.id"
            ),
        ),
        3 => (
            "delete event",
            format!(
                "WITH d AS (DELETE FROM events WHERE id = {} RETURNING id)
                 DELETE FROM mirror m USING d WHERE m.id = d.id",
                id + WORKERS * 3
            ),
        ),
        _ => (
            "read events",
            format!("SELECT kind, payload FROM events WHERE id = {id}"),
        ),
    }
}

/// The id range the traffic works in (the smallest row count the test is run with).
const ROWS_FOR_TRAFFIC: i64 = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_is_turned_partitioned_under_traffic() {
    let db = common::test_db().await;
    let rows = rows();
    let seeding = std::time::Instant::now();
    seed(&db, rows).await;
    let seeded_in = seeding.elapsed();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.sql"), DESIRED).unwrap();
    let schema = dir.path().to_str().unwrap().to_string();

    let plan = apply_support::zdm(&db, &["plan", "--schema", &schema]);
    let plan = text(&plan);
    assert!(
        plan.contains("swap the partitioned copy in for public.events"),
        "{plan}"
    );
    assert!(!plan.contains("re-create table public.events"), "{plan}");

    let traffic = traffic_support::Traffic::start(&db.conninfo, WORKERS, old_app);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let mut log = Vec::new();
    for phase in ["expand", "backfill"] {
        log.push(text(&apply(&db, phase, &schema).await));
    }
    // A writer's transaction in the way of the check and the swap.
    let blocker = traffic_support::start_blocker(&db.conninfo, "events").await;
    log.push(text(&apply(&db, "validate", &schema).await));
    blocker.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = traffic.stop().await;
    let took = started.elapsed();
    let log = log.join("\n");

    run.assert_unharmed(&log, 100, LOCK_TIMEOUT_MS + MARGIN_MS);
    assert!(
        log.contains("check that public.zdm_pc_events holds exactly the rows")
            && log.contains("swap the partitioned copy in for public.events"),
        "{log}"
    );
    assert_eq!(
        differences(&db).await,
        0,
        "events differs from mirror\n{log}"
    );
    let kind = text_of(
        &db,
        "SELECT relkind::text FROM pg_class WHERE oid = 'events'::regclass",
    )
    .await;
    assert_eq!(kind, "p", "events is partitioned after validate\n{log}");
    // The rows are in the partitions their dates say.
    assert_eq!(
        count(&db, "SELECT count(*) FROM events_2024").await
            + count(&db, "SELECT count(*) FROM events_2025").await
            + count(&db, "SELECT count(*) FROM events_rest").await,
        count(&db, "SELECT count(*) FROM mirror").await
    );
    // The view reads the new table.
    assert_eq!(
        count(&db, "SELECT sum(n)::bigint FROM recent_kinds").await,
        count(&db, "SELECT count(*) FROM mirror").await
    );
    // The sequence moved with the column: new rows still get ids.
    db.exec("INSERT INTO events (created_at, kind) VALUES ('2025-02-02', 'after')")
        .await;

    let contract = text(&apply(&db, "contract", &schema).await);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'zdm_pc%'"
        )
        .await,
        0,
        "the old table is dropped at contract\n{contract}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zdm_rows%'"
        )
        .await,
        0
    );
    db.exec("INSERT INTO events (created_at, kind) VALUES ('2025-02-03', 'after contract')")
        .await;
    let diff = apply_support::zdm(&db, &["diff", "--schema", &schema]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    eprintln!(
        "{rows} rows (seeded in {seeded_in:?}), expand..validate in {took:?}; {} statements of the old application, 0 failed, worst {} ms ({})",
        run.statements, run.worst_ms, run.worst_what
    );
    db.drop().await;
}

async fn text_of(db: &common::TestDb, sql: &str) -> String {
    let (client, conn) = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_phases_in_one_run_end_partitioned_with_the_rows() {
    let db = common::test_db().await;
    seed(&db, 5_000).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.sql"), DESIRED).unwrap();
    let schema = dir.path().to_str().unwrap().to_string();
    let out = text(&apply(&db, "all", &schema).await);
    assert!(
        out.contains("swap the partitioned copy in for public.events"),
        "{out}"
    );
    assert_eq!(differences(&db).await, 0, "{out}");
    assert_eq!(count(&db, "SELECT count(*) FROM events").await, 5_000);
    let diff = apply_support::zdm(&db, &["diff", "--schema", &schema]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_table_is_still_re_created_in_one_step() {
    let db = common::test_db().await;
    db.exec(V1).await;
    db.exec("CREATE TABLE mirror AS SELECT * FROM events; ANALYZE events")
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.sql"), DESIRED).unwrap();
    let schema = dir.path().to_str().unwrap().to_string();
    let plan = text(&apply_support::zdm(&db, &["plan", "--schema", &schema]));
    assert!(plan.contains("re-create table public.events"), "{plan}");
    assert!(!plan.contains("swap the partitioned copy"), "{plan}");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_copy_resumes_without_duplicates_and_swaps() {
    let db = common::test_db().await;
    let rows = 60_000;
    seed(&db, rows).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.sql"), DESIRED).unwrap();
    let schema = dir.path().to_str().unwrap().to_string();
    apply(&db, "expand", &schema).await;

    let timeout = LOCK_TIMEOUT_MS.to_string();
    let args = [
        "apply",
        "--phase",
        "backfill",
        "--yes",
        "--lock-timeout",
        &timeout,
        "--schema",
        &schema,
        "--skip-rollback-window",
        "--backfill-pause",
        "30",
        "--batch-target-ms",
        "5",
    ];
    let mut child = zdm_command(&db, &args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let progress = "SELECT CASE WHEN to_regclass('zdm.backfill_cursors') IS NULL THEN 0 ELSE \
         (SELECT coalesce(max(rows_done), 0) FROM zdm.backfill_cursors WHERE finished_at IS NULL) END";
    loop {
        let done = db.client.query_one(progress, &[]).await;
        if done.is_ok_and(|r| r.get::<_, i64>(0) >= 3_000) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backfill ended before it was killed"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    assert!(child.wait().unwrap().code().is_none(), "killed by a signal");
    let before = count(&db, "SELECT count(*) FROM zdm_pc_events").await;
    assert!(
        before > 0 && before < rows,
        "killed mid-way: {before} of {rows}"
    );

    let resumed = text(&apply(&db, "backfill", &schema).await);
    assert!(resumed.contains("(resumed)"), "{resumed}");
    assert_eq!(count(&db, "SELECT count(*) FROM zdm_pc_events").await, rows);
    apply(&db, "validate", &schema).await;
    assert_eq!(differences(&db).await, 0);
    eprintln!("killed after {before} of {rows} rows, resumed and swapped");
    db.drop().await;
}
