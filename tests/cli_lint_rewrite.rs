//! `zdm lint --rewrite`: the bundled example's naive migration turned into zdm's phased plan.
//! The plan's script, run with psql on one copy of the example's v1 database, and the naive
//! migration, run on another, end with the same schema; the plan lints clean; a migration the
//! server refuses is an error at file:line:col, and the live database is never touched.

mod cli_support;
mod common;

use std::path::{Path, PathBuf};

use cli_support::{dev_url, fingerprint_db, repo_path, v1_db, zdm, Run};

const NAIVE: &str = "examples/shop/naive_migration.sql";

async fn rewrite(migration: &Path, start: &[&str], format: &str) -> Run {
    let mut args = vec![
        "lint".to_string(),
        "--rewrite".to_string(),
        migration.display().to_string(),
        "--dev-url".to_string(),
        dev_url(),
        "--format".to_string(),
        format.to_string(),
    ];
    args.extend(start.iter().map(|s| s.to_string()));
    zdm(&args).await
}

/// A file under the target directory, unique to the test that writes it.
fn scratch(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_lint_rewrite");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path
}

/// The schema part of the fingerprint (the rows' digests differ: `created_at DEFAULT now()`),
/// without the foreign keys' internal triggers (named by OID).
async fn schema_of(db: &common::TestDb) -> String {
    let all = fingerprint_db(&db.client).await;
    let end = all.rfind("----\n").expect("fingerprint sections");
    all[..end]
        .lines()
        .filter(|l| !l.starts_with("RI_ConstraintTrigger_"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn psql(conninfo: &str, script: &Path) -> std::process::Output {
    std::process::Command::new("psql")
        .args(["--no-psqlrc", "-q", "-d", conninfo, "-f"])
        .arg(script)
        .output()
        .expect("psql runs")
}

#[tokio::test]
async fn rewrite_of_the_naive_migration_converges_to_its_schema_and_lints_clean() {
    let by_plan = v1_db().await;
    let by_hand = v1_db().await;
    let before = fingerprint_db(&by_plan.client).await;
    let run = rewrite(
        &repo_path(NAIVE),
        &["--db", by_plan.conninfo.as_str()],
        "sql",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    // --rewrite only reads the live database.
    assert_eq!(fingerprint_db(&by_plan.client).await, before);
    let script = run.stdout.clone();
    for phase in ["expand", "backfill", "validate"] {
        assert!(
            script.contains(&format!("-- ===== phase: {phase} =====")),
            "{phase} in\n{script}"
        );
    }
    assert!(script.contains("CREATE INDEX CONCURRENTLY"), "{script}");
    assert!(script.contains("NOT VALID"), "{script}");

    let path = scratch("naive_rewritten.sql", &script);
    let lint = zdm(&["lint", "--format", "json", path.to_str().unwrap()]).await;
    assert_eq!(lint.code, 0, "the plan lints clean:\n{}", lint.text());

    let out = psql(&by_plan.conninfo, &path);
    assert!(
        out.status.success(),
        "the plan's script runs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // zdm's helper schema (the sync trigger's function) is not part of the end state.
    by_plan.exec("DROP SCHEMA IF EXISTS zdm CASCADE").await;
    by_hand
        .exec(&std::fs::read_to_string(repo_path(NAIVE)).unwrap())
        .await;
    assert_eq!(schema_of(&by_plan).await, schema_of(&by_hand).await);
    for db in [&by_plan, &by_hand] {
        let unfilled: i64 = db
            .client
            .query_one(
                "SELECT count(*) FROM users WHERE display_name IS DISTINCT FROM concat(first_name, ' ', last_name)",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(unfilled, 0, "display_name filled on {}", db.name);
    }
}

/// Starting from schema files instead of a live database; a rename keeps the column's data.
#[tokio::test]
async fn rewrite_from_schema_files_keeps_a_rename() {
    let schema = cli_support::schema_dir(&cli_support::example_v1_sql());
    let migration = scratch(
        "rename.sql",
        "ALTER TABLE users RENAME COLUMN legacy_field TO notes;\n",
    );
    let run = rewrite(
        &migration,
        &["--schema", schema.path().to_str().unwrap()],
        "json",
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan json");
    let sql: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["sql"].as_str())
        .collect();
    // zdm's online rename: the new column kept in sync and filled from the old one, which
    // goes only in contract. A plan of the end state alone would drop the data.
    assert!(
        sql.iter().any(|s| s.contains("SET notes = legacy_field")),
        "the renamed column is filled from the old one:\n{}",
        sql.join("\n")
    );
}

#[tokio::test]
async fn a_migration_the_server_refuses_is_an_error_at_its_position() {
    let db = v1_db().await;
    let before = fingerprint_db(&db.client).await;
    let migration = scratch(
        "refused.sql",
        "ALTER TABLE users ADD COLUMN nickname text;\nALTER TABLE users ADD COLUMN age int REFERENCES nowhere (id);\n",
    );
    let run = rewrite(&migration, &["--db", db.conninfo.as_str()], "human").await;
    assert_eq!(run.code, 2, "{}", run.text());
    let at = format!("{}:2:", migration.display());
    assert!(run.stderr.contains(&at), "{}", run.text());
    assert!(run.stderr.contains("nowhere"), "{}", run.text());
    assert!(
        run.stderr.contains("nothing ran on the live database"),
        "{}",
        run.text()
    );
    assert_eq!(fingerprint_db(&db.client).await, before);
}

#[tokio::test]
async fn rewrite_needs_a_starting_schema() {
    let run = zdm(&["lint", "--rewrite", NAIVE]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("--db URL or --schema PATH"),
        "{}",
        run.text()
    );
}
