//! `--fleet`: one desired schema over many databases of the harness cluster, through the real
//! binary. One database cannot be planned (a conflicting type), one fails mid-phase (a lock
//! held on its table): the others finish, both are reported, and a rerun finishes the one that
//! failed mid-phase without repeating the steps it had finished.

mod cli_support;
mod common;

use cli_support::{dev_url, schema_dir, zdm, Run};
use serde_json::Value;
use std::path::Path;

const PASSWORD: &str = "fleet-sekret-pw";

fn v1(pair: &str) -> String {
    format!(
        "CREATE SCHEMA app;
         CREATE TYPE app.pair AS ({pair});
         CREATE TABLE app.accounts (id bigint PRIMARY KEY, name text NOT NULL);
         CREATE TABLE app.pairs (id int PRIMARY KEY, p app.pair);
         INSERT INTO app.accounts SELECT g, 'n' || g FROM generate_series(1, 50) g;"
    )
}

/// v2 adds a column and an index to `app.accounts` (zdm's first steps), a column to
/// `app.pairs` (a later step, which a lock held on `app.pairs` stops), and a table.
const DESIRED: &str = "CREATE SCHEMA app;
CREATE TYPE app.pair AS (a int, b int);
CREATE TABLE app.accounts (id bigint PRIMARY KEY, name text NOT NULL, email text);
CREATE TABLE app.pairs (id int PRIMARY KEY, p app.pair, note text);
CREATE TABLE app.audit (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
CREATE INDEX accounts_name_idx ON app.accounts (name);
";

/// `n` databases at v1; those in `conflicting` have the type's attributes the other way
/// round, which PostgreSQL cannot reorder in place while a column stores it.
async fn fleet(n: usize, conflicting: &[usize]) -> Vec<common::TestDb> {
    let mut dbs = Vec::new();
    for i in 0..n {
        let db = common::test_db().await;
        let pair = if conflicting.contains(&i) {
            "b int, a int"
        } else {
            "a int, b int"
        };
        db.exec(&v1(pair)).await;
        dbs.push(db);
    }
    dbs
}

/// A fleet file with a comment, a blank line, and a password in every connection string
/// (the harness trusts local connections, so it is never checked, only carried).
fn fleet_file(dbs: &[common::TestDb], dir: &Path) -> String {
    let mut text = String::from("# tenants\n\n");
    for db in dbs {
        text.push_str(&format!("{} password={PASSWORD}\n", db.conninfo));
    }
    let path = dir.join("fleet.txt");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

async fn run(verb: &[&str], file: &str, schema: &Path, extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
    args.extend(
        [
            "--fleet",
            file,
            "--schema",
            &schema.display().to_string(),
            "--dev-url",
            &dev_url(),
            "--format",
            "json",
        ]
        .map(String::from),
    );
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = zdm(&args).await;
    assert!(
        !out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD),
        "a password was printed:\n{}",
        out.text()
    );
    let document: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", out.text()));
    let rows = document["databases"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (out, rows)
}

fn results(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|r| r["result"].as_str().unwrap()).collect()
}

const APPLY: &[&str] = &[
    "apply",
    "--phase",
    "expand",
    "--yes",
    "--lock-timeout",
    "50",
    "--lock-retries",
    "2",
];

async fn finished_steps(db: &common::TestDb) -> Vec<(String, i64)> {
    db.client
        .query(
            "SELECT description, count(*) FROM zdm.steps WHERE outcome = 'done' \
             GROUP BY description ORDER BY description",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn twenty_databases_one_unplannable_one_failing_mid_phase_then_a_rerun() {
    const CONFLICT: usize = 4;
    const LOCKED: usize = 9;
    let dbs = fleet(20, &[CONFLICT]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = fleet_file(&dbs, dir.path());
    let schema = schema_dir(DESIRED);

    let (out, rows) = run(&["plan"], &file, schema.path(), &[]).await;
    assert_eq!(out.code, 2, "{}", out.text());
    assert_eq!(rows.len(), 20);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row["database"], dbs[i].name.as_str());
        if i == CONFLICT {
            assert_eq!(row["result"], "failed", "{row}");
            assert!(
                row["error"].as_str().unwrap().contains("cannot plan"),
                "{row}"
            );
        } else {
            assert_eq!(row["result"], "differs", "{row}");
            assert!(row["steps"].as_u64().unwrap() >= 3, "{row}");
        }
    }
    let steps_per_db = rows[0]["steps"].as_u64().unwrap();

    // Hold a lock on one database's table: its step on that table times out, the ones
    // before it (on app.accounts) are done.
    let holder = tokio_postgres::connect(&dbs[LOCKED].conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(holder.1);
    let holder = holder.0;
    holder
        .batch_execute("BEGIN; LOCK TABLE app.pairs IN SHARE MODE")
        .await
        .unwrap();

    let (out, rows) = run(APPLY, &file, schema.path(), &["--parallel", "4"]).await;
    assert_eq!(out.code, 2, "{}", out.text());
    let failed: Vec<usize> = (0..20).filter(|&i| rows[i]["result"] == "failed").collect();
    assert_eq!(failed, [CONFLICT, LOCKED], "{}", out.text());
    assert!(
        rows[LOCKED]["error"]
            .as_str()
            .unwrap()
            .contains("could not get its lock"),
        "{}",
        rows[LOCKED]
    );
    // A progress line per database on stderr, the summary on stdout.
    for db in &dbs {
        assert!(
            out.stderr.contains(&format!("] {}: ", db.name)),
            "{}",
            out.text()
        );
    }
    for (i, db) in dbs.iter().enumerate() {
        let has_email: bool = db
            .client
            .query_one(
                "SELECT EXISTS (SELECT FROM information_schema.columns \
                 WHERE table_schema = 'app' AND table_name = 'accounts' AND column_name = 'email')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        let steps: Vec<String> = db
            .client
            .query(
                "SELECT ordinal || ' ' || description || ' ' || outcome FROM zdm.steps ORDER BY 1",
                &[],
            )
            .await
            .map(|rows| rows.iter().map(|r| r.get(0)).collect())
            .unwrap_or_default();
        assert_eq!(has_email, i != CONFLICT, "database {i}: {steps:?}");
    }
    let before = finished_steps(&dbs[LOCKED]).await;
    assert!(!before.is_empty(), "the locked database finished no step");
    assert!((before.len() as u64) < steps_per_db, "{before:?}");

    holder.batch_execute("ROLLBACK").await.unwrap();
    let (out, rows) = run(APPLY, &file, schema.path(), &["--parallel", "4"]).await;
    assert_eq!(out.code, 2, "the conflict is still there\n{}", out.text());
    assert_eq!(results(&rows)[CONFLICT], "failed");
    for i in (0..20).filter(|&i| i != CONFLICT) {
        assert_eq!(rows[i]["result"], "ok", "{}", rows[i]);
        let expected = if i == LOCKED {
            steps_per_db - before.len() as u64
        } else {
            0
        };
        assert_eq!(rows[i]["steps"].as_u64().unwrap(), expected, "{}", rows[i]);
    }
    // Every step ran to its end exactly once on the database that failed mid-phase.
    let after = finished_steps(&dbs[LOCKED]).await;
    assert_eq!(after.len() as u64, steps_per_db, "{after:?}");
    assert!(after.iter().all(|(_, n)| *n == 1), "{after:?}");

    let (out, rows) = run(&["status"], &file, schema.path(), &[]).await;
    assert_eq!(out.code, 2, "{}", out.text());
    assert_eq!(results(&rows)[CONFLICT], "failed");
    for i in (0..20).filter(|&i| i != CONFLICT) {
        assert_eq!(rows[i]["phase"], "expand done", "{}", rows[i]);
    }
    for db in dbs {
        db.drop().await;
    }
}

#[tokio::test]
async fn a_failed_canary_or_the_failure_limit_stops_the_rollout() {
    let dbs = fleet(5, &[0, 2]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = fleet_file(&dbs, dir.path());
    let schema = schema_dir(DESIRED);

    let (out, rows) = run(APPLY, &file, schema.path(), &["--canary", "1"]).await;
    assert_eq!(out.code, 2, "{}", out.text());
    assert_eq!(
        results(&rows),
        [
            "failed",
            "not-started",
            "not-started",
            "not-started",
            "not-started"
        ]
    );

    let (out, rows) = run(
        APPLY,
        &file,
        schema.path(),
        &["--parallel", "1", "--max-failures", "2"],
    )
    .await;
    assert_eq!(out.code, 2, "{}", out.text());
    assert_eq!(
        results(&rows),
        ["failed", "ok", "failed", "not-started", "not-started"]
    );
    for db in dbs {
        db.drop().await;
    }
}

#[tokio::test]
async fn a_bad_fleet_file_line_is_named_and_its_password_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.txt");
    std::fs::write(
        &path,
        format!("# one good, one bad\ndbname=a password={PASSWORD}\n  host=h password={PASSWORD} bogus\n"),
    )
    .unwrap();
    let out = zdm(&["plan", "--fleet", &path.display().to_string()]).await;
    assert_eq!(out.code, 2, "{}", out.text());
    assert!(out.stderr.contains("fleet.txt:3:3"), "{}", out.text());
    assert!(!out.stderr.contains(PASSWORD), "{}", out.text());
}

#[tokio::test]
async fn a_fleet_query_on_db_lists_databases_by_name() {
    let dbs = fleet(2, &[]).await;
    let schema = schema_dir(DESIRED);
    let query = format!(
        "SELECT datname FROM pg_database WHERE datname IN ('{}', '{}') ORDER BY datname",
        dbs[0].name, dbs[1].name
    );
    let out = zdm(&[
        "status",
        "--fleet-query",
        &query,
        "--db",
        &common::server_conninfo("postgres"),
        "--schema",
        &schema.path().display().to_string(),
        "--dev-url",
        &dev_url(),
        "--format",
        "json",
    ])
    .await;
    assert_eq!(out.code, 1, "pending steps on both\n{}", out.text());
    let document: Value = serde_json::from_str(&out.stdout).unwrap();
    let mut names: Vec<&str> = document["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["phase"], "expand pending", "{r}");
            r["database"].as_str().unwrap()
        })
        .collect();
    names.sort();
    let mut expected = [dbs[0].name.as_str(), dbs[1].name.as_str()];
    expected.sort();
    assert_eq!(names, expected);
    for db in dbs {
        db.drop().await;
    }
}
