//! Crash points: `zdm apply` killed at every step boundary of the bundled example (after a
//! step's work committed, before and after the ledger recorded it), then run again. Every
//! rerun converges and no surviving value changes.

mod apply_support;
mod common;

use apply_support::*;

const USERS: i64 = 300;
const ORDERS: i64 = 300;

use common::APPLY_ALL;

/// The orders as they were seeded (every column of them survives the migration).
async fn orders_checksum(db: &common::TestDb) -> String {
    db.client
        .query_one(
            "SELECT md5(string_agg(id || ':' || customer_id || ':' || amount || ':' || created_at, ',' ORDER BY id)) FROM orders",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

async fn crash_and_resume(step: usize, at: &str) {
    let db = common::test_db().await;
    seed_example(&db, USERS, ORDERS).await;
    let orders_before = orders_checksum(&db).await;

    let crashed = zdm_command(&db, APPLY_ALL)
        .env("ZDM_CRASH_AT", format!("{step}:{at}"))
        .output()
        .unwrap();
    assert!(
        !crashed.status.success() && crashed.status.code().is_none(),
        "step {step} ({at}): the run was meant to die by a signal:\n{}",
        text(&crashed)
    );

    let resumed = zdm_ok(&db, APPLY_ALL);
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    if at == "unrecorded" {
        assert!(
            stderr.contains("interrupted"),
            "step {step}: no note about the interrupted step:\n{}",
            text(&resumed)
        );
    }
    let diff = zdm(&db, &["diff"]);
    assert_eq!(
        diff.status.code(),
        Some(0),
        "step {step} ({at}): {}",
        text(&diff)
    );
    assert_eq!(
        orders_checksum(&db).await,
        orders_before,
        "step {step} ({at}): orders changed"
    );
    let users = count(&db, "SELECT count(*) FROM users").await;
    let right = count(
        &db,
        "SELECT count(*) FROM users WHERE display_name = 'first' || id || ' last' || id",
    )
    .await;
    assert_eq!(
        (users, right),
        (USERS, USERS),
        "step {step} ({at}): users lost or misfilled"
    );
}

/// The steps of the example's plan, as `zdm apply --dry-run` counts them.
fn step_count() -> usize {
    17
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_any_two_steps_the_rerun_converges() {
    // Every step, alternately before and after the ledger records it: each boundary is
    // crossed both ways across neighbouring steps, at half the runs of trying both everywhere.
    for step in 1..=step_count() {
        let at = if step % 2 == 0 {
            "recorded"
        } else {
            "unrecorded"
        };
        crash_and_resume(step, at).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_point_past_the_last_step_never_fires() {
    // The hook itself: a step number the plan does not reach leaves the run alone, so the
    // test above really counts the plan's steps.
    let db = common::test_db().await;
    seed_example(&db, USERS, ORDERS).await;
    let out = zdm_command(&db, APPLY_ALL)
        .env("ZDM_CRASH_AT", format!("{}:recorded", step_count() + 1))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let steps = String::from_utf8_lossy(&out.stderr)
        .matches("      done in")
        .count();
    assert_eq!(steps, step_count(), "{}", text(&out));
}
