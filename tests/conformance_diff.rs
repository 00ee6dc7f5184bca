//! No spurious differences: a database built from the desired files diffs clean against
//! them, and one built from the other side of a case differs exactly when the two sides
//! differ in what zdm manages.

mod common;
#[allow(dead_code)]
mod conformance;

use common::drop_database;
use conformance::{dev_url_args, tail, zdm};

async fn check(case: &conformance::Case) -> (Result<(), String>, bool) {
    let mut managed_only = false;
    let result = run_case(case, &mut managed_only).await;
    (result, managed_only)
}

async fn run_case(case: &conformance::Case, managed_only: &mut bool) -> Result<(), String> {
    let to_db = common::test_db().await;
    to_db
        .client
        .batch_execute(&case.sql("to.sql"))
        .await
        .map_err(|e| format!("to.sql does not load: {}", zdm::apply::server_message(&e)))?;
    let mut args = vec![
        "diff".to_string(),
        "--db".to_string(),
        to_db.conninfo.clone(),
    ];
    args.extend(case.desired_schema_args());
    args.extend(dev_url_args());
    let run = zdm(&args).await;
    if run.code != 0 {
        drop_database(&to_db.name).await;
        return Err(format!(
            "spurious differences (exit {}):\n{}",
            run.code,
            tail(&run)
        ));
    }

    let from_db = common::test_db().await;
    from_db
        .client
        .batch_execute(&case.sql("from.sql"))
        .await
        .map_err(|e| format!("from.sql does not load: {}", zdm::apply::server_message(&e)))?;
    // Whether the two sides differ in managed objects, read straight from both databases
    // (no shadow database, no files).
    let from_model = zdm::catalog::introspect(&from_db.client)
        .await
        .map_err(|e| e.to_string())?;
    let to_model = zdm::catalog::introspect(&to_db.client)
        .await
        .map_err(|e| e.to_string())?;
    *managed_only = from_model.unmanaged.is_empty() && to_model.unmanaged.is_empty();
    let expected = if zdm::diff::diff(&from_model, &to_model).is_empty() {
        0
    } else {
        1
    };
    let mut args = vec![
        "diff".to_string(),
        "--db".to_string(),
        from_db.conninfo.clone(),
    ];
    args.extend(case.desired_schema_args());
    args.extend(dev_url_args());
    let run = zdm(&args).await;
    drop_database(&to_db.name).await;
    drop_database(&from_db.name).await;
    if run.code != expected {
        return Err(format!(
            "from.sql vs desired: expected exit {expected}, got {}:\n{}",
            run.code,
            tail(&run)
        ));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_no_spurious_differences() {
    conformance::run_corpus(
        "conformance-diff",
        "cases.tsv",
        "known_failures_diff.tsv",
        check,
    )
    .await;
}
