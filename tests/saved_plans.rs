//! A plan saved with `zdm plan --out` and applied with `zdm apply --plan`: it carries the
//! database through all four phases, days apart, and every gate of a fresh plan holds for it.

mod cli_support;
mod common;

use cli_support::{column_exists, example_schema_dir, gating_schema, v1_db, zdm_on, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `zdm plan --out` into a temp dir; returns the dir (keep it alive) and the file.
async fn save_plan(db: &common::TestDb, schema: &Path) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("plan.json");
    let run = zdm_on(
        &["plan"],
        &db.conninfo,
        schema,
        &["--out", out.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.text());
    (dir, out)
}

async fn apply_saved(
    db: &common::TestDb,
    schema: &Path,
    plan: &Path,
    phase: &str,
    extra: &[&str],
) -> Run {
    let mut args = vec![
        "apply",
        "--phase",
        phase,
        "--yes",
        "--plan",
        plan.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    zdm_on(&args, &db.conninfo, schema, &[]).await
}

#[tokio::test]
async fn saved_plan_is_refused_once_the_schema_moved() {
    let db = v1_db().await;
    let schema = gating_schema();
    let (_dir, plan) = save_plan(&db, schema.path()).await;
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    assert_eq!(saved["source_fingerprint"].as_str().unwrap().len(), 64);
    // rehearsed: one checkpoint before each phase and one for done
    assert_eq!(saved["checkpoints"].as_array().unwrap().len(), 5);

    db.exec("ALTER TABLE users ADD COLUMN added_by_someone int")
        .await;
    let run = apply_saved(&db, schema.path(), &plan, "expand", &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.contains("different schema"), "{}", run.text());
    assert!(
        !column_exists(&db, "orders", "org_id").await,
        "nothing may run"
    );

    // back to the schema the plan was made against: accepted
    db.exec("ALTER TABLE users DROP COLUMN added_by_someone")
        .await;
    let run = apply_saved(&db, schema.path(), &plan, "expand", &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(column_exists(&db, "orders", "org_id").await);
    // expand again: the database is past it, nothing runs
    let run = apply_saved(&db, schema.path(), &plan, "expand", &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stderr.contains("past it"), "{}", run.text());
}

/// The bundled example (a derived column with a backfill): one saved plan, four phases.
#[tokio::test]
async fn one_saved_plan_carries_the_database_through_every_phase() {
    let db = v1_db().await;
    let schema = example_schema_dir();
    let (_dir, plan) = save_plan(&db, &schema).await;

    // before expand, no later phase may run
    for phase in ["backfill", "validate", "contract"] {
        let run = apply_saved(&db, &schema, &plan, phase, &["--allow-hazards", "all"]).await;
        assert_eq!(run.code, 2, "{phase}: {}", run.text());
        assert!(
            run.stderr.contains(&format!("cannot run {phase}")) && run.stderr.contains("expand"),
            "{phase}: {}",
            run.text()
        );
    }
    assert!(!column_exists(&db, "users", "display_name").await);

    let run = apply_saved(&db, &schema, &plan, "expand", &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    // the backfill leaves the schema alone: the data says it is still to do
    let run = apply_saved(&db, &schema, &plan, "validate", &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("phase backfill") && run.stderr.contains("pending"),
        "{}",
        run.text()
    );
    for phase in ["backfill", "validate"] {
        let run = apply_saved(&db, &schema, &plan, phase, &["--allow-hazards", "may-fail"]).await;
        assert_eq!(run.code, 0, "{phase}: {}", run.text());
    }
    let filled: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM users WHERE display_name = first_name || ' ' || last_name",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(filled, 500);
    let run = apply_saved(
        &db,
        &schema,
        &plan,
        "contract",
        &["--skip-rollback-window", "--allow-hazards", "all"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!column_exists(&db, "users", "first_name").await);
    let diff = zdm_on(&["diff"], &db.conninfo, &schema, &[]).await;
    assert_eq!(diff.code, 0, "{}", diff.text());
    // and the plan is done
    let run = apply_saved(&db, &schema, &plan, "all", &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stderr.contains("past it"), "{}", run.text());
}

/// Expand, backfill and validate of the gating schema from a saved plan.
async fn saved_up_to_contract(db: &common::TestDb, schema: &Path, plan: &Path) {
    for phase in ["expand", "backfill", "validate"] {
        let run = apply_saved(db, schema, plan, phase, &["--allow-hazards", "may-fail"]).await;
        assert_eq!(run.code, 0, "{phase}: {}", run.text());
    }
}

#[tokio::test]
async fn a_saved_plan_keeps_the_rollback_window_and_the_hazard_gate() {
    let db = v1_db().await;
    let schema = gating_schema();
    let (_dir, plan) = save_plan(&db, schema.path()).await;
    saved_up_to_contract(&db, schema.path(), &plan).await;

    let run = apply_saved(
        &db,
        schema.path(),
        &plan,
        "contract",
        &["--allow-hazards", "all"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("the rollback window is 24h"),
        "{}",
        run.text()
    );
    let run = apply_saved(
        &db,
        schema.path(),
        &plan,
        "contract",
        &["--rollback-window", "0s"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.contains("data-loss"), "{}", run.text());
    assert!(
        column_exists(&db, "users", "legacy_field").await,
        "dropped anyway"
    );

    let run = apply_saved(
        &db,
        schema.path(),
        &plan,
        "contract",
        &["--rollback-window", "0s", "--allow-hazards", "data-loss"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!column_exists(&db, "users", "legacy_field").await);
}

/// The bug this file exists for: a saved plan's contract dropped columns a live query read,
/// because the plan file did not say what its steps drop.
#[tokio::test]
async fn a_saved_plan_refuses_contract_while_pg_stat_statements_shows_the_old_code() {
    assert!(
        common::cluster()
            .preloaded()
            .contains(&"pg_stat_statements".to_string()),
        "the PostgreSQL installation under test lacks pg_stat_statements (a contrib module)"
    );
    let db = v1_db().await;
    db.exec("CREATE EXTENSION pg_stat_statements").await;
    let schema = gating_schema();
    let (_dir, plan) = save_plan(&db, schema.path()).await;
    saved_up_to_contract(&db, schema.path(), &plan).await;
    for id in 1..=3 {
        db.exec(&format!("SELECT first_name FROM users WHERE id = {id}"))
            .await;
    }
    let gates = ["--skip-rollback-window", "--allow-hazards", "all"];
    let run = apply_saved(&db, schema.path(), &plan, "contract", &gates).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("column users.first_name (3 call(s))"),
        "{}",
        run.text()
    );
    assert!(column_exists(&db, "users", "first_name").await);
    assert!(column_exists(&db, "users", "last_name").await);

    let mut forced = gates.to_vec();
    forced.push("--force");
    let run = apply_saved(&db, schema.path(), &plan, "contract", &forced).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!column_exists(&db, "users", "first_name").await);
}

/// Steps say what they do (`op`), saved with the plan: apply learns which index a concurrent
/// build creates from it, not from the SQL. A plan saved before steps carried `op` still
/// loads when its steps all run in transactions (nothing downstream needs more of them), and
/// is refused, naming the step, when one runs outside a transaction.
#[tokio::test]
async fn saved_steps_say_what_they_do_and_older_plans_are_judged_by_it() {
    let db = v1_db().await;
    let schema = gating_schema();
    let (dir, plan) = save_plan(&db, schema.path()).await;
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let steps = saved["steps"].as_array().unwrap();
    let builds: Vec<&Value> = steps
        .iter()
        .filter(|s| s["op"].get("build_index_concurrently").is_some())
        .collect();
    assert_eq!(builds.len(), 1, "{saved:#}");
    assert_eq!(
        builds[0]["op"]["build_index_concurrently"]["index"],
        "public.idx_orders_customer_date"
    );
    assert_eq!(builds[0]["transactional"], false);
    assert!(
        steps
            .iter()
            .filter(|s| s["transactional"] == true)
            .all(|s| s["op"] == "statement"),
        "{saved:#}"
    );

    let without_op = |keep: fn(&Value) -> bool| {
        let mut old = saved.clone();
        for step in old["steps"].as_array_mut().unwrap() {
            if !keep(step) {
                step.as_object_mut().unwrap().remove("op");
            }
        }
        old
    };
    let older = dir.path().join("older.json");
    std::fs::write(&older, without_op(|_| false).to_string()).unwrap();
    let run = apply_saved(&db, schema.path(), &older, "expand", &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("does not say what it does (no `op`)")
            && run.stderr.contains("idx_orders_customer_date")
            && run.stderr.contains("zdm plan --out"),
        "{}",
        run.text()
    );
    assert!(
        !column_exists(&db, "orders", "org_id").await,
        "nothing may run"
    );

    let older = dir.path().join("older-transactional.json");
    let kept = without_op(|s| s["transactional"] == false);
    std::fs::write(&older, kept.to_string()).unwrap();
    let run = apply_saved(&db, schema.path(), &older, "expand", &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(column_exists(&db, "orders", "org_id").await);
}
