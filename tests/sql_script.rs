//! `zdm plan --format sql` is a script that runs end to end under `psql -v ON_ERROR_STOP=1`
//! and leaves the database exactly as `zdm apply` does, data included.

mod cli_support;
mod common;

use cli_support::{apply_all, example_schema_dir, fingerprint_db, v1_db, zdm_on};

/// The schema and data of `db` without what differs between any two databases built alike:
/// zdm's own schema (apply keeps its ledger there; the script has none), the OIDs in foreign
/// key trigger names, and `orders.created_at` (`now()` when the rows went in).
async fn user_picture(db: &common::TestDb) -> String {
    db.exec(
        "DROP SCHEMA IF EXISTS zdm CASCADE;
         UPDATE orders SET created_at = '2026-01-01';",
    )
    .await;
    let picture = fingerprint_db(&db.client).await;
    // Sorted: the catalog rows come in physical order, which a VALIDATE (an update of the
    // constraint's row) changes.
    let mut lines: Vec<&str> = picture
        .lines()
        .filter(|l| !l.starts_with("RI_ConstraintTrigger"))
        .collect();
    lines.sort_unstable();
    lines.join("\n")
}

#[tokio::test]
async fn the_printed_script_migrates_like_apply() {
    let by_script = v1_db().await;
    let by_apply = v1_db().await;
    let schema = example_schema_dir();

    let plan = zdm_on(
        &["plan"],
        &by_script.conninfo,
        &schema,
        &["--format", "sql"],
    )
    .await;
    assert_eq!(plan.code, 1, "{}", plan.text());
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("plan.sql");
    std::fs::write(&script, &plan.stdout).unwrap();
    let psql = tokio::process::Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
        .arg(&by_script.conninfo)
        .arg("-f")
        .arg(&script)
        .output()
        .await
        .expect("psql on PATH");
    assert!(
        psql.status.success(),
        "psql failed:\n{}\n{}",
        String::from_utf8_lossy(&psql.stderr),
        plan.stdout
    );

    let run = apply_all(&by_apply.conninfo, &schema).await;
    assert_eq!(run.code, 0, "{}", run.text());

    // both converged, with the derived column filled on every row
    for db in [&by_script, &by_apply] {
        let diff = zdm_on(&["diff"], &db.conninfo, &schema, &[]).await;
        assert_eq!(diff.code, 0, "{}", diff.text());
        let unfilled: i64 = db
            .client
            .query_one(
                "SELECT count(*) FROM users WHERE display_name <> concat('first', id, ' last', id)",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(unfilled, 0);
    }
    assert_eq!(
        user_picture(&by_script).await,
        user_picture(&by_apply).await
    );
}
