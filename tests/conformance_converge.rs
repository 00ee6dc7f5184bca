//! Convergence (the corpus README's oracle): plan and apply every phase on the database built
//! from `from.sql`, then `zdm diff` is clean, a second plan is empty, and the normalised
//! `pg_dump --schema-only` equals that of a database built from `to.sql`.

mod common;
#[allow(dead_code)]
mod conformance;

use common::drop_database;
use conformance::{dev_url_args, normalized_dump, tail, zdm};

fn command(verb: &[&str], db: &str, case: &conformance::Case) -> Vec<String> {
    let mut args: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
    args.extend(["--db".to_string(), db.to_string()]);
    args.extend(case.desired_schema_args());
    args.extend(dev_url_args());
    args
}

async fn check(case: &conformance::Case) -> (Result<(), String>, bool) {
    let mut managed_only = false;
    let result = run_case(case, &mut managed_only).await;
    (result, managed_only)
}

async fn run_case(case: &conformance::Case, managed_only: &mut bool) -> Result<(), String> {
    let a = common::test_db().await;
    let b = common::test_db().await;
    let result = async {
        a.client
            .batch_execute(&case.sql("from.sql"))
            .await
            .map_err(|e| format!("from.sql does not load: {}", zdm::apply::server_message(&e)))?;
        b.client
            .batch_execute(&case.sql("to.sql"))
            .await
            .map_err(|e| format!("to.sql does not load: {}", zdm::apply::server_message(&e)))?;
        *managed_only = conformance::managed_only(&a.client).await
            && conformance::managed_only(&b.client).await;
        let apply = zdm(&command(
            &[
                "apply",
                "--phase",
                "all",
                "--skip-rollback-window",
                "--allow-hazards",
                "all",
                "--yes",
            ],
            &a.conninfo,
            case,
        ))
        .await;
        if apply.code != 0 {
            return Err(format!(
                "apply failed (exit {}):\n{}",
                apply.code,
                tail(&apply)
            ));
        }
        let diff = zdm(&command(&["diff"], &a.conninfo, case)).await;
        if diff.code != 0 {
            return Err(format!(
                "not converged, diff exit {}:\n{}",
                diff.code,
                tail(&diff)
            ));
        }
        let plan = zdm(&command(&["plan"], &a.conninfo, case)).await;
        if plan.code != 0 {
            return Err(format!(
                "second plan not empty (exit {}):\n{}",
                plan.code,
                tail(&plan)
            ));
        }
        let (dump_a, dump_b) = (
            normalized_dump(&a.conninfo).await,
            normalized_dump(&b.conninfo).await,
        );
        if dump_a != dump_b {
            let diff = similar::TextDiff::from_lines(&dump_a, &dump_b)
                .unified_diff()
                .context_radius(1)
                .header("migrated", "built from to.sql")
                .to_string();
            let short: Vec<&str> = diff.lines().take(20).collect();
            return Err(format!("pg_dump differs:\n{}", short.join("\n")));
        }
        Ok(())
    }
    .await;
    drop_database(&a.name).await;
    drop_database(&b.name).await;
    result
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_converges() {
    conformance::run_corpus(
        "conformance-converge",
        "cases.tsv",
        "known_failures_converge.tsv",
        check,
    )
    .await;
}

/// The whole real-world schemas (`schemas.tsv`), built from an empty database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_schemas_converge() {
    conformance::run_corpus(
        "schemas-converge",
        "schemas.tsv",
        "known_failures_schemas.tsv",
        check,
    )
    .await;
}
