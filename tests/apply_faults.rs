//! Fault tests for `zdm apply`: killed runs resume and converge without losing or changing a
//! row, one apply at a time, stale saved plans refused, failed unique builds cleaned up.

mod apply_support;
mod common;

use apply_support::*;
use std::time::{Duration, Instant};

async fn wait_for(db: &common::TestDb, sql: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: bool = db.client.query_one(sql, &[]).await.unwrap().get(0);
        if done {
            return;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn kill9(child: &mut std::process::Child) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let _ = child.wait();
}

/// An old snapshot makes CREATE INDEX CONCURRENTLY wait at its end ("waiting for old
/// snapshots"), with its index built but still INVALID: returns that snapshot's session
/// (COMMIT releases the build) and the `zdm apply --phase expand` child, once the build is
/// in that state.
async fn expand_stalled_in_index_build(
    db: &common::TestDb,
    output: fn() -> std::process::Stdio,
) -> (tokio_postgres::Client, std::process::Child) {
    let (holder, connection) = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    holder
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM orgs")
        .await
        .unwrap();
    let child = zdm_command(db, &["apply", "--phase", "expand", "--yes"])
        .stdout(output())
        .stderr(output())
        .spawn()
        .unwrap();
    wait_for(
        db,
        "SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         WHERE c.relname = 'idx_orders_customer_date' AND NOT i.indisvalid)",
        "the concurrent build to start",
    )
    .await;
    (holder, child)
}

/// End zdm's sessions on `db` (a killed client's backend would otherwise finish its build).
async fn terminate_zdm_sessions(db: &common::TestDb) {
    db.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'zdm' AND datname = current_database()",
    )
    .await;
}

/// After an interrupted expand: the rerun notices the interrupted step, leaves no INVALID
/// index, the remaining phases run, expand has converged and no row changed.
async fn rerun_converges(db: &common::TestDb, before: &(String, String)) {
    let out = zdm_ok(db, &["apply", "--phase", "expand", "--yes"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("interrupted"),
        "the rerun did not notice the interrupted step:\n{}",
        text(&out)
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM pg_index WHERE NOT indisvalid").await,
        0,
        "INVALID index left after the rerun:\n{}",
        text(&out)
    );
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_orders_customer_date'"
        )
        .await,
        1
    );
    zdm_ok(db, &["apply", "--phase", "backfill", "--yes"]);
    zdm_ok(db, &["apply", "--phase", "validate", "--yes"]);
    let out = zdm(db, &["plan"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("== expand =="),
        "expand did not converge:\n{}",
        text(&out)
    );
    assert_eq!(&checksum(db).await, before, "rows lost or changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_during_backfill_resumes_from_its_cursor() {
    let db = common::test_db().await;
    seed_example(&db, 20_000, 2_000).await;
    let before = checksum(&db).await;
    zdm_ok(&db, &["apply", "--phase", "expand", "--yes"]);

    // Slow batches (smallest size, a pause after each) so the kill lands mid-way.
    let mut child = zdm_command(
        &db,
        &[
            "apply",
            "--phase",
            "backfill",
            "--yes",
            "--backfill-pause",
            "30",
            "--batch-target-ms",
            "1",
        ],
    )
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    wait_for(
        &db,
        "SELECT coalesce((SELECT rows_scanned >= 1000 FROM zdm.backfill_cursors), false)",
        "the backfill to save a cursor",
    )
    .await;
    kill9(&mut child);
    let saved = count(&db, "SELECT rows_scanned FROM zdm.backfill_cursors").await;
    let filled = count(
        &db,
        "SELECT count(*) FROM users WHERE display_name IS NOT NULL",
    )
    .await;
    assert!(
        saved < 20_000 && filled < 20_000,
        "the kill came too late: {saved} rows scanned, {filled} filled"
    );

    let out = zdm_ok(&db, &["apply", "--phase", "backfill", "--yes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("interrupted"),
        "no note about the interrupted step:\n{}",
        text(&out)
    );
    assert!(
        stderr.contains("(resumed)"),
        "the backfill did not resume:\n{}",
        text(&out)
    );
    // Resumed from the cursor: the batches scanned the table about once in total.
    let scanned = count(&db, "SELECT rows_scanned FROM zdm.backfill_cursors").await;
    assert!(
        (20_000..=20_000 + 10_000).contains(&scanned),
        "resumed backfill scanned {scanned} rows in total"
    );
    zdm_ok(&db, &["apply", "--phase", "validate", "--yes"]);
    assert_eq!(
        count(&db, "SELECT count(*) FROM users WHERE display_name IS DISTINCT FROM concat(first_name, ' ', last_name)").await,
        0
    );
    assert_eq!(checksum(&db).await, before, "rows lost or changed");
    let status = zdm(&db, &["status"]);
    let stdout = String::from_utf8_lossy(&status.stdout);
    assert!(stdout.contains("backfill  done"), "{}", text(&status));
    assert!(
        stdout.contains("contract  4 step(s) pending"),
        "{}",
        text(&status)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_killed_during_concurrent_index_build_converges() {
    let db = common::test_db().await;
    seed_example(&db, 2_000, 10_000).await;
    let before = checksum(&db).await;

    let (holder, mut child) = expand_stalled_in_index_build(&db, std::process::Stdio::null).await;
    kill9(&mut child);
    terminate_zdm_sessions(&db).await;
    holder.batch_execute("COMMIT").await.unwrap();
    wait_for(
        &db,
        "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'zdm' \
         AND datname = current_database())",
        "the killed run's session to end",
    )
    .await;
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_index WHERE NOT indisvalid").await,
        1,
        "the interrupted build should have left an INVALID index"
    );
    rerun_converges(&db, &before).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_refuses_a_second_concurrent_run_naming_the_holder() {
    let db = common::test_db().await;
    seed_example(&db, 10, 10).await;
    let holder = tokio_postgres::connect(&db.conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(holder.1);
    let holder = holder.0;
    holder
        .batch_execute("SET application_name = 'other-zdm-run'")
        .await
        .unwrap();
    let pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let got: bool = holder
        .query_one(
            "SELECT pg_try_advisory_lock($1)",
            &[&zdm::apply::ADVISORY_LOCK_KEY],
        )
        .await
        .unwrap()
        .get(0);
    assert!(got);

    let out = zdm(&db, &["apply", "--phase", "expand", "--yes"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr.contains("another zdm apply is running"),
        "{}",
        text(&out)
    );
    assert!(stderr.contains(&format!("pid {pid}")), "{}", text(&out));
    assert!(stderr.contains("other-zdm-run"), "{}", text(&out));
    assert!(stderr.contains(" since "), "{}", text(&out));
    // Nothing ran.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'display_name'"
        )
        .await,
        0
    );
    holder
        .batch_execute("SELECT pg_advisory_unlock_all()")
        .await
        .unwrap();
    zdm_ok(&db, &["apply", "--phase", "expand", "--yes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_refuses_a_saved_plan_after_the_schema_moved() {
    let db = common::test_db().await;
    seed_example(&db, 10, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let plan_arg = plan.to_str().unwrap();
    let out = zdm(&db, &["plan", "--out", plan_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    db.exec("ALTER TABLE users ADD COLUMN nickname text").await;
    let out = zdm(
        &db,
        &["apply", "--phase", "expand", "--yes", "--plan", plan_arg],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("made against a different schema"),
        "{}",
        text(&out)
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM information_schema.columns WHERE column_name = 'display_name'"
        )
        .await,
        0,
        "the stale plan ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_unique_index_on_duplicates_fails_cleanly() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);
         INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 1000) g;
         INSERT INTO accounts VALUES (1001, 'user7@example.com');",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("accounts.sql"),
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n\
         CREATE UNIQUE INDEX accounts_email_key ON accounts (email);\n",
    )
    .unwrap();
    let schema = dir.path().to_str().unwrap();
    let out = zdm(
        &db,
        &[
            "apply",
            "--phase",
            "expand",
            "--yes",
            "--allow-hazards",
            "may-fail",
            "--schema",
            schema,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr.contains("accounts_email_key"), "{}", text(&out));
    assert!(
        stderr.contains("Key (email)=(user7@example.com) is duplicated"),
        "{}",
        text(&out)
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM pg_index WHERE NOT indisvalid").await,
        0,
        "INVALID index left behind:\n{}",
        text(&out)
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM zdm.steps WHERE outcome = 'failed' AND error LIKE '%is duplicated%'").await,
        1
    );
}

/// `pg_terminate_backend` of zdm's own sessions while a step runs (an operator's or a
/// watchdog's kill): the run stops with an error that names the step and the server's reason,
/// never a panic; the rerun finishes the phase and no row changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_whose_session_is_terminated_mid_step_stops_cleanly_and_resumes() {
    let db = common::test_db().await;
    seed_example(&db, 2_000, 10_000).await;
    let before = checksum(&db).await;

    let (holder, child) = expand_stalled_in_index_build(&db, std::process::Stdio::piped).await;
    terminate_zdm_sessions(&db).await;
    holder.batch_execute("COMMIT").await.unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{}", text(&out));
    assert_ne!(
        out.status.code(),
        Some(0),
        "the run went on:\n{}",
        text(&out)
    );
    assert!(
        stderr.contains("idx_orders_customer_date") && stderr.contains("terminat"),
        "the error does not name the step and the server's reason:\n{}",
        text(&out)
    );
    rerun_converges(&db, &before).await;
}
