//! Rows moved into a new table with `-- zdm:backfill-from`, against a real server: `addresses`
//! is extracted out of `users` while the old application keeps inserting, updating (also the
//! key, and in and out of the query's WHERE) and deleting users; after every phase the new
//! table holds exactly what the query returns, no application statement failed and none
//! waited beyond the lock timeout plus a margin. A backfill killed with SIGKILL resumes from
//! its cursor without duplicates.

mod apply_support;
mod common;
mod traffic_support;

use apply_support::{count, text, zdm_command};
use std::process::Output;
use std::time::{Duration, Instant};

const LOCK_TIMEOUT_MS: u64 = 100;
const MARGIN_MS: u64 = 400;
const USERS: i64 = 20_000;
const WORKERS: i64 = 4;

const V1: &str = "CREATE TABLE public.users (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    street text,
    city text
);";

const DESIRED: &str = "CREATE TABLE public.users (
    id bigserial PRIMARY KEY,
    name text NOT NULL
);

-- zdm:backfill-from SELECT id AS user_id, street, city FROM users WHERE street IS NOT NULL
CREATE TABLE public.addresses (
    user_id bigint PRIMARY KEY REFERENCES public.users (id) ON DELETE CASCADE,
    street text NOT NULL,
    city text,
    CONSTRAINT street_not_blank CHECK (street <> '')
);
";

/// The query of the annotation, and the new table, as comparable rows.
const QUERY: &str = "SELECT id AS user_id, street, city FROM users WHERE street IS NOT NULL";
const TARGET: &str = "SELECT user_id, street, city FROM addresses";

fn schema_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.sql"), DESIRED).unwrap();
    dir
}

async fn seed(db: &common::TestDb, users: i64) {
    db.exec(V1).await;
    db.exec(&format!(
        "INSERT INTO users (name, street, city)
           SELECT 'u' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'street ' || g END, 'city ' || (g % 50)
             FROM generate_series(1, {users}) g;
         ANALYZE users;"
    ))
    .await;
}

/// Rows of the query missing from the table plus rows of the table the query does not give.
async fn differences(db: &common::TestDb) -> i64 {
    count(
        db,
        &format!(
            "SELECT (SELECT count(*) FROM (({QUERY}) EXCEPT ALL ({TARGET})) a)
                  + (SELECT count(*) FROM (({TARGET}) EXCEPT ALL ({QUERY})) b)"
        ),
    )
    .await
}

fn apply_args<'a>(phase: &'a str, schema: &'a str, timeout: &'a str) -> Vec<&'a str> {
    vec![
        "apply",
        "--phase",
        phase,
        "--yes",
        "--lock-timeout",
        timeout,
        "--schema",
        schema,
        "--skip-rollback-window",
        "--allow-hazards",
        "data-loss",
    ]
}

async fn apply(db: &common::TestDb, phase: &str, schema: &str) -> Output {
    let allow = ["--allow-hazards", "data-loss"];
    apply_support::apply_phase(db, phase, schema, LOCK_TIMEOUT_MS, &allow).await
}

/// What the old application does: it knows `users.street` and `users.city`, nothing of
/// `addresses`. Each worker keeps to its own users.
fn old_app(w: i64, i: i64) -> (&'static str, String) {
    let user = 1 + w + WORKERS * (i % (USERS / WORKERS / 2));
    match i % 7 {
        0 => (
            "insert user",
            format!(
                "INSERT INTO users (name, street, city) VALUES ('new {w} {i}', {}, 'c{i}')",
                if i % 3 == 0 {
                    "NULL".into()
                } else {
                    format!("'s{i}'")
                }
            ),
        ),
        1 => (
            "update address",
            format!("UPDATE users SET street = 'moved {i}', city = 'c{i}' WHERE id = {user}"),
        ),
        2 => (
            "clear street",
            format!(
                "UPDATE users SET street = NULL WHERE id = {}",
                user + WORKERS
            ),
        ),
        3 => (
            "delete user",
            format!("DELETE FROM users WHERE id = {}", USERS / 2 + user),
        ),
        4 => (
            "change key",
            format!(
                "UPDATE users SET id = id + 1000000 WHERE id = {}",
                USERS / 2 + user + WORKERS
            ),
        ),
        5 => (
            "rename user",
            format!("UPDATE users SET name = 'n{i}' WHERE id = {user}"),
        ),
        _ => (
            "read user",
            format!("SELECT name, street, city FROM users WHERE id = {user}"),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_are_extracted_from_users_under_traffic() {
    let db = common::test_db().await;
    seed(&db, USERS).await;
    let dir = schema_dir();
    let schema = dir.path().to_str().unwrap().to_string();
    let expected_rows = count(&db, &format!("SELECT count(*) FROM ({QUERY}) q")).await;

    let traffic = traffic_support::Traffic::start(&db.conninfo, WORKERS, old_app);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let blocker = traffic_support::start_blocker(&db.conninfo, "users").await;
    let mut log = Vec::new();
    for phase in ["expand", "backfill", "validate"] {
        log.push(text(&apply(&db, phase, &schema).await));
    }
    blocker.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = traffic.stop().await;
    let log = log.join("\n");

    run.assert_unharmed(&log, 200, LOCK_TIMEOUT_MS + MARGIN_MS);
    assert!(
        log.contains("check that public.addresses holds exactly the rows"),
        "{log}"
    );
    assert_eq!(
        differences(&db).await,
        0,
        "addresses differs from its query"
    );
    let rows = count(&db, "SELECT count(*) FROM addresses").await;
    assert!(
        rows > expected_rows / 2,
        "only {rows} addresses of ~{expected_rows}"
    );
    // The old application's writes since expand went through the trigger, not the backfill.
    assert!(
        count(
            &db,
            "SELECT count(*) FROM addresses WHERE street LIKE 'moved %' OR user_id > 1000000"
        )
        .await
            > 0
    );

    let contract = apply(&db, "contract", &schema).await;
    let contract = text(&contract);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'zdm_rows%'"
        )
        .await,
        0,
        "{contract}"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name IN ('street', 'city')").await,
        0,
        "the moved columns are dropped at contract:\n{contract}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM addresses").await, rows);
    let validated = count(
        &db,
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'addresses'::regclass AND convalidated AND contype IN ('c', 'f')",
    )
    .await;
    assert_eq!(
        validated, 2,
        "the CHECK and the foreign key end up validated"
    );
    let diff = apply_support::zdm(&db, &["diff", "--schema", &schema]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    eprintln!(
        "{} statements of the old application, 0 failed, worst {} ms ({}); {rows} addresses",
        run.statements, run.worst_ms, run.worst_what
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_row_copy_resumes_without_duplicates() {
    let db = common::test_db().await;
    let users = 60_000;
    seed(&db, users).await;
    let dir = schema_dir();
    let schema = dir.path().to_str().unwrap().to_string();
    apply(&db, "expand", &schema).await;

    let timeout = LOCK_TIMEOUT_MS.to_string();
    let mut args = apply_args("backfill", &schema, &timeout);
    args.extend(["--backfill-pause", "30", "--batch-target-ms", "5"]);
    let mut child = zdm_command(&db, &args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let progress =
        "SELECT coalesce(max(rows_done), 0) FROM zdm.backfill_cursors WHERE finished_at IS NULL";
    loop {
        let done = db
            .client
            .query_one(
                &format!("SELECT CASE WHEN to_regclass('zdm.backfill_cursors') IS NULL THEN 0 ELSE ({progress}) END"),
                &[],
            )
            .await;
        if done.is_ok_and(|r| r.get::<_, i64>(0) >= 3_000) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backfill ended before it was killed"
        );
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the backfill never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(status.code().is_none(), "killed by a signal: {status:?}");
    let copied_before = count(&db, "SELECT count(*) FROM addresses").await;
    let expected = count(&db, &format!("SELECT count(*) FROM ({QUERY}) q")).await;
    assert!(
        copied_before > 0 && copied_before < expected,
        "killed mid-way: {copied_before} of {expected}"
    );

    let resumed = text(&apply(&db, "backfill", &schema).await);
    eprintln!("killed after {copied_before} of {expected} rows; resumed:\n{resumed}");
    assert!(resumed.contains("(resumed)"), "{resumed}");
    assert_eq!(count(&db, "SELECT count(*) FROM addresses").await, expected);
    assert_eq!(differences(&db).await, 0);
    let validate = text(&apply(&db, "validate", &schema).await);
    assert!(
        validate.contains("check that public.addresses"),
        "{validate}"
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_drifted_fails_validation_naming_the_keys() {
    let db = common::test_db().await;
    seed(&db, 2_000).await;
    let dir = schema_dir();
    let schema = dir.path().to_str().unwrap().to_string();
    apply(&db, "expand", &schema).await;
    apply(&db, "backfill", &schema).await;
    // What no trigger saw: a row changed behind zdm's back.
    db.exec("ALTER TABLE users DISABLE TRIGGER USER; UPDATE users SET city = 'elsewhere' WHERE id IN (7, 8); ALTER TABLE users ENABLE TRIGGER USER")
        .await;
    let timeout = LOCK_TIMEOUT_MS.to_string();
    let out = apply_support::zdm(&db, &apply_args("validate", &schema, &timeout));
    let out = text(&out);
    assert!(
        out.contains("differ from its zdm:backfill-from query"),
        "{out}"
    );
    assert!(
        out.contains("first differing keys (user_id): 7; 8"),
        "{out}"
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_does_not_fit_the_table_is_refused_at_its_line() {
    let db = common::test_db().await;
    seed(&db, 10).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("schema.sql"),
        DESIRED.replace(
            "SELECT id AS user_id, street, city",
            "SELECT id AS user_id, street, length(city) AS city",
        ),
    )
    .unwrap();
    let schema = dir.path().to_str().unwrap();
    let out = apply_support::zdm(&db, &["plan", "--schema", schema]);
    let out = text(&out);
    assert!(out.contains("schema.sql:6:"), "{out}");
    assert!(
        out.contains("gives \"city\" as int4, but public.addresses.city is text")
            || out.contains("gives city as int4"),
        "{out}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'addresses'"
        )
        .await,
        0
    );

    std::fs::write(
        dir.path().join("schema.sql"),
        DESIRED.replace(
            "FROM users WHERE",
            "FROM users JOIN users u2 USING (id) WHERE",
        ),
    )
    .unwrap();
    let out = text(&apply_support::zdm(&db, &["plan", "--schema", schema]));
    assert!(out.contains("joins are not supported"), "{out}");

    std::fs::write(
        dir.path().join("schema.sql"),
        DESIRED.replace(
            "SELECT id AS user_id, street, city FROM users WHERE street IS NOT NULL",
            "SELECT id AS user_id, max(street) AS street, city FROM users WHERE street IS NOT NULL",
        ),
    )
    .unwrap();
    let out = text(&apply_support::zdm(&db, &["plan", "--schema", schema]));
    assert!(out.contains("calls aggregate max()"), "{out}");
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM pg_tables WHERE tablename = 'addresses'"
        )
        .await,
        0
    );
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_phases_in_one_run_end_with_the_rows_moved_and_the_columns_gone() {
    let db = common::test_db().await;
    seed(&db, 2_000).await;
    let expected = count(&db, &format!("SELECT count(*) FROM ({QUERY}) q")).await;
    let moved = count(&db, &format!("SELECT count(*) FROM ({QUERY}) q WHERE street = 'street ' || user_id AND city = 'city ' || (user_id % 50)")).await;
    assert_eq!(moved, expected);
    let dir = schema_dir();
    let schema = dir.path().to_str().unwrap().to_string();
    let out = text(&apply(&db, "all", &schema).await);
    let right = count(
        &db,
        "SELECT count(*) FROM addresses WHERE street = 'street ' || user_id AND city = 'city ' || (user_id % 50)",
    )
    .await;
    assert_eq!(
        (count(&db, "SELECT count(*) FROM addresses").await, right),
        (expected, expected),
        "{out}"
    );
    let diff = apply_support::zdm(&db, &["diff", "--schema", &schema]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_carries_the_move_through_its_phases() {
    let db = common::test_db().await;
    seed(&db, 2_000).await;
    let expected = count(&db, &format!("SELECT count(*) FROM ({QUERY}) q")).await;
    let dir = schema_dir();
    let schema = dir.path().to_str().unwrap().to_string();
    let plan = dir.path().join("plan.json");
    let saved = apply_support::zdm(
        &db,
        &["plan", "--schema", &schema, "--out", plan.to_str().unwrap()],
    );
    assert_eq!(saved.status.code(), Some(1), "{}", text(&saved));
    for phase in ["expand", "backfill", "validate", "contract"] {
        let mut args = apply_args(phase, &schema, "100");
        args.extend(["--plan", plan.to_str().unwrap()]);
        let out = apply_support::zdm(&db, &args);
        assert!(out.status.success(), "{phase}: {}", text(&out));
    }
    assert_eq!(count(&db, "SELECT count(*) FROM addresses").await, expected);
    let diff = apply_support::zdm(&db, &["diff", "--schema", &schema]);
    assert_eq!(diff.status.code(), Some(0), "{}", text(&diff));
    db.drop().await;
}
