//! Drift: `zdm status` tells the changes made outside zdm since its last run (kept in the
//! ledger as the schema that run left) from the changes zdm made.

mod cli_support;
mod common;

use cli_support::{apply_all, example_schema_dir, schema_dir, v1_db, zdm_on};

async fn status_json(conninfo: &str, schema: &std::path::Path) -> serde_json::Value {
    let run = zdm_on(&["status", "--format", "json"], conninfo, schema, &[]).await;
    assert!(run.code == 0 || run.code == 1, "{}", run.text());
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.text()))
}

fn drifted_objects(status: &serde_json::Value) -> Vec<String> {
    status["drift"]["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no drift report: {status:#}"))
        .iter()
        .map(|c| c.to_string())
        .collect()
}

#[tokio::test]
async fn status_names_what_changed_outside_zdm_since_its_last_run() {
    let db = v1_db().await;
    let schema = example_schema_dir();
    // Before zdm ever ran there is nothing to compare with.
    let before = status_json(&db.conninfo, &schema).await;
    assert!(before["drift"].is_null(), "{before:#}");

    let run = apply_all(&db.conninfo, &schema).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let after = status_json(&db.conninfo, &schema).await;
    assert_eq!(drifted_objects(&after), Vec::<String>::new(), "{after:#}");
    let human = zdm_on(&["status"], &db.conninfo, &schema, &[]).await;
    assert!(human.stdout.contains("no drift"), "{}", human.text());

    // By hand: a column added and an index dropped.
    db.exec(
        "ALTER TABLE users ADD COLUMN nickname text;
         DROP INDEX idx_orders_customer_date;",
    )
    .await;
    let drifted = status_json(&db.conninfo, &schema).await;
    let changes = drifted_objects(&drifted);
    assert_eq!(changes.len(), 2, "{drifted:#}");
    assert!(
        changes.iter().any(|c| c.contains("nickname")),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.contains("idx_orders_customer_date")),
        "{changes:?}"
    );
    let human = zdm_on(&["status"], &db.conninfo, &schema, &[]).await;
    assert!(
        human.stdout.contains("drift: 2 change(s) made outside zdm"),
        "{}",
        human.text()
    );
    assert!(human.stdout.contains("public.users"), "{}", human.text());

    // What zdm itself changes next is not drift: a run toward a schema that keeps the hand
    // made column leaves nothing unexplained.
    let mut files = String::new();
    for entry in std::fs::read_dir(&schema).unwrap() {
        files.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
        files.push('\n');
    }
    let files = files.replace(
        "CREATE TABLE users (",
        "CREATE TABLE users (\n    nickname text,",
    );
    let next = schema_dir(&files);
    let run = apply_all(&db.conninfo, next.path()).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let settled = status_json(&db.conninfo, next.path()).await;
    assert_eq!(
        drifted_objects(&settled),
        Vec::<String>::new(),
        "{settled:#}"
    );
}
