//! A CHECK added to a domain that a busy table's column uses, under traffic: `ALTER DOMAIN
//! ... ADD CONSTRAINT ... NOT VALID` in expand (no scan), `VALIDATE CONSTRAINT` in validate
//! (a scan of the table). Writers go through the domain all along, and a transaction holding
//! the table in ROW EXCLUSIVE stands in the way of the validation: zdm must give up on its
//! lock timeout and retry rather than queue the writers behind it. No write fails, none waits
//! beyond the lock timeout plus a margin. Timed: CI runs it with the other timed suites.

mod apply_support;
mod common;
mod traffic_support;

use apply_support::{count, text};
use std::time::Duration;

const LOCK_TIMEOUT_MS: u64 = 100;
/// What a write may wait beyond the lock timeout: the validation's scan of ROWS rows under
/// SHARE, on a loaded 2-core machine.
const MARGIN_MS: u64 = 400;
const ROWS: i64 = 100_000;
const WORKERS: i64 = 3;

const OLD: &str = "CREATE DOMAIN public.\"amount ñ\" AS integer;
CREATE TABLE public.payments (id bigint PRIMARY KEY, amount public.\"amount ñ\" NOT NULL);";

const NEW: &str = "CREATE DOMAIN public.\"amount ñ\" AS integer
    CONSTRAINT \"non negative\" CHECK (VALUE >= 0);
CREATE TABLE public.payments (id bigint PRIMARY KEY, amount public.\"amount ñ\" NOT NULL);";

/// The application: inserts and updates through the domain (values the check allows), reads.
fn app(w: i64, i: i64) -> (&'static str, String) {
    match i % 3 {
        0 => (
            "insert payment",
            format!(
                "INSERT INTO public.payments VALUES ({}, {})",
                ROWS + 1 + w + WORKERS * i,
                i % 1000
            ),
        ),
        1 => (
            "update amount",
            format!(
                "UPDATE public.payments SET amount = {} WHERE id = {}",
                i % 500,
                1 + (w * 7919 + i * 31) % ROWS
            ),
        ),
        _ => (
            "read payment",
            format!(
                "SELECT amount FROM public.payments WHERE id = {}",
                1 + (i * 97) % ROWS
            ),
        ),
    }
}

async fn apply(db: &common::TestDb, phase: &str, schema: &str) -> String {
    // The validation's scan under SHARE is the long-lock hazard this test measures.
    let allow = ["--allow-hazards", "all"];
    let out = apply_support::apply_phase(db, phase, schema, LOCK_TIMEOUT_MS, &allow).await;
    text(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_check_is_added_and_validated_under_writes() {
    let db = common::test_db().await;
    db.exec(OLD).await;
    db.exec(&format!(
        "INSERT INTO public.payments SELECT g, g % 1000 FROM generate_series(1, {ROWS}) g;
         ANALYZE public.payments;"
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.sql"), NEW).unwrap();
    let schema = dir.path().display().to_string();

    let traffic = traffic_support::Traffic::start(&db.conninfo, WORKERS, app);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut log = vec![apply(&db, "expand", &schema).await];
    let not_valid = count(
        &db,
        "SELECT count(*) FROM pg_constraint WHERE conname = 'non negative' AND NOT convalidated",
    )
    .await;
    let blocker = traffic_support::start_blocker(&db.conninfo, "public.payments").await;
    for phase in ["backfill", "validate", "contract"] {
        log.push(apply(&db, phase, &schema).await);
    }
    blocker.await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = traffic.stop().await;
    let log = log.join("\n");

    assert_eq!(
        not_valid, 1,
        "expand did not add the check NOT VALID:\n{log}"
    );
    run.assert_unharmed(&log, 200, LOCK_TIMEOUT_MS + MARGIN_MS);
    let validated = count(
        &db,
        "SELECT count(*) FROM pg_constraint WHERE conname = 'non negative' AND convalidated",
    )
    .await;
    assert_eq!(validated, 1, "the check is not validated:\n{log}");
    let check = apply_support::zdm_command(&db, &["diff", "--schema", &schema])
        .output()
        .unwrap();
    assert!(check.status.success(), "not converged:\n{}", text(&check));
    eprintln!(
        "{} statements through the domain while its check was added, worst {} ms ({}), 0 failed",
        run.statements, run.worst_ms, run.worst_what
    );
}
