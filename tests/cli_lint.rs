//! `zdm lint` through the real binary: exit codes, output formats, lint-ignore, the naive
//! migration of the bundled example, and zdm's own plan linting clean. No database needed.

mod cli_support;
mod common;

use std::path::PathBuf;

use cli_support::{zdm, Run};
use serde_json::Value;

/// A migration file under the target directory, unique to the test that writes it.
fn migration(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli_lint");
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write migration");
    path
}

async fn lint(args: &[&str]) -> Run {
    let mut all = vec!["lint"];
    all.extend_from_slice(args);
    zdm(&all).await
}

fn json_findings(run: &Run) -> Vec<Value> {
    let value: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!("json output: {e}\n{}", run.text());
    });
    value.as_array().expect("an array of findings").clone()
}

const SAFE: &str = "SET lock_timeout = '100ms';\n\
    CREATE INDEX CONCURRENTLY idx_orders_customer ON orders (customer_id);\n";

const UNSAFE: &str = "SET lock_timeout = '100ms';\n\
    CREATE INDEX idx_orders_customer ON orders (customer_id);\n";

#[tokio::test]
async fn clean_file_exits_0() {
    let path = migration("clean.sql", SAFE);
    let run = lint(&[path.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stdout.contains("0 finding(s)"), "{}", run.text());
}

#[tokio::test]
async fn findings_exit_1_at_file_line_col() {
    let path = migration("unsafe.sql", UNSAFE);
    let run = lint(&[path.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let at = format!("{}:2:1:", path.display());
    assert!(run.stdout.contains(&at), "{}", run.text());
    assert!(
        run.stdout.contains("[require-concurrent-index-creation]"),
        "{}",
        run.text()
    );
}

#[tokio::test]
async fn syntax_error_exits_2_at_file_line_col() {
    let path = migration("syntax.sql", "SELECT 1;\nALTER TABLE orders ADD COLUMN;\n");
    let run = lint(&[path.to_str().unwrap()]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    let at = format!("{}:2:", path.display());
    assert!(run.stderr.contains(&at), "{}", run.text());
    assert!(run.stderr.contains("syntax error"), "{}", run.text());
}

#[tokio::test]
async fn missing_file_exits_2() {
    let run = lint(&["tests/no_such_migration.sql"]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("tests/no_such_migration.sql"),
        "{}",
        run.text()
    );
}

#[tokio::test]
async fn json_format_lists_rule_position_and_lock() {
    let path = migration("json.sql", UNSAFE);
    let run = lint(&["--format", "json", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let findings = json_findings(&run);
    assert_eq!(findings.len(), 1, "{}", run.text());
    let f = &findings[0];
    assert_eq!(f["rule"], "require-concurrent-index-creation");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 1);
    assert_eq!(f["lock"], "SHARE");
    assert_eq!(f["file"], path.to_str().unwrap());
}

#[tokio::test]
async fn github_format_is_one_error_annotation_per_finding() {
    let path = migration("github.sql", UNSAFE);
    let run = lint(&["--format", "github", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.text());
    let prefix = format!("::error file={},line=2,col=1,", path.display());
    assert!(lines[0].starts_with(&prefix), "{}", run.text());
    assert!(
        lines[0].contains("require-concurrent-index-creation::"),
        "{}",
        run.text()
    );
}

#[tokio::test]
async fn lint_ignore_silences_the_named_rule() {
    let text = "SET lock_timeout = '100ms';\n\
        -- zdm:lint-ignore require-concurrent-index-creation orders is empty at this point\n\
        CREATE INDEX idx_orders_customer ON orders (customer_id);\n";
    let path = migration("ignored.sql", text);
    let run = lint(&["--format", "json", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let findings = json_findings(&run);
    assert_eq!(findings.len(), 1, "{}", run.text());
    assert_eq!(findings[0]["rule"], "require-concurrent-index-creation");
    let reason = findings[0]["ignored"].as_str().expect("ignored reason");
    assert!(reason.contains("orders is empty"), "{}", run.text());
}

/// The five statements the README's benchmark blames for the naive migration's stall.
#[tokio::test]
async fn naive_migration_gives_the_expected_findings() {
    let path = "examples/shop/naive_migration.sql";
    assert!(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(path)
            .exists(),
        "{path} exists"
    );
    let run = lint(&["--format", "json", path]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let found: Vec<(String, u64)> = json_findings(&run)
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    for (rule, line) in [
        ("constraint-missing-not-valid", 6), // REFERENCES validated as added
        ("constraint-missing-not-valid", 7), // CHECK validated as added
        ("require-concurrent-index-creation", 8), // plain CREATE INDEX
        ("update-whole-table", 10),          // UPDATE of every row
        ("setting-not-null", 11),            // SET NOT NULL scans under ACCESS EXCLUSIVE
    ] {
        assert!(
            found.contains(&(rule.to_string(), line)),
            "{rule} at line {line} expected in {found:?}"
        );
    }
}

/// zdm's own `plan --format sql` for the bundled example (the offline snapshot's body, without
/// its insta header) sets lock_timeout, uses NOT VALID + VALIDATE, batches and builds
/// concurrently: nothing to report.
#[tokio::test]
async fn zdm_plan_sql_lints_clean() {
    let snapshot = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/snapshots/cli_plan__plan_example_offline_sql.snap"),
    )
    .expect("plan sql snapshot");
    let body = snapshot
        .splitn(3, "---\n")
        .nth(2)
        .expect("snapshot body after the insta header");
    assert!(body.contains("-- zdm plan"), "{body}");
    let path = migration("zdm_plan.sql", body);
    let run = lint(&["--format", "json", path.to_str().unwrap()]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(json_findings(&run).is_empty(), "{}", run.text());
}
