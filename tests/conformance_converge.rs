//! Two oracles over the corpus, judged from one build of each case's two databases (A from
//! `from.sql`, B from `to.sql`; building them is most of a case's cost):
//!
//! - convergence (the corpus README's oracle): plan and apply every phase on A, then `zdm
//!   diff` is clean, a second plan is empty, and the normalised `pg_dump --schema-only` of A
//!   equals B's;
//! - no spurious differences: before anything is applied, B diffs clean against the desired
//!   files, and A differs from them exactly when A and B differ in what zdm manages.

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

/// The two sides of a case, loaded.
struct Sides {
    a: common::TestDb,
    b: common::TestDb,
}

async fn load(case: &conformance::Case) -> Result<Sides, String> {
    let a = common::test_db().await;
    let b = common::test_db().await;
    let loaded = async {
        a.client
            .batch_execute(&case.sql("from.sql"))
            .await
            .map_err(|e| format!("from.sql does not load: {}", zdm::apply::server_message(&e)))?;
        b.client
            .batch_execute(&case.sql("to.sql"))
            .await
            .map_err(|e| format!("to.sql does not load: {}", zdm::apply::server_message(&e)))
    }
    .await;
    match loaded {
        Ok(_) => Ok(Sides { a, b }),
        Err(e) => {
            drop_database(&a.name).await;
            drop_database(&b.name).await;
            Err(e)
        }
    }
}

/// Convergence, then no spurious differences; and whether the case is managed-only.
async fn check(case: &conformance::Case) -> (Vec<Result<(), String>>, bool) {
    let sides = match load(case).await {
        Ok(sides) => sides,
        Err(e) => return (vec![Err(e.clone()), Err(e)], false),
    };
    let models = async {
        let a = zdm::catalog::introspect(&sides.a.client).await?;
        let b = zdm::catalog::introspect(&sides.b.client).await?;
        Ok::<_, zdm::catalog::CatalogError>((a, b))
    }
    .await;
    let (results, managed_only) = match models {
        Ok((a, b)) => {
            let managed_only = a.unmanaged.is_empty() && b.unmanaged.is_empty();
            let differs = !zdm::diff::diff(&a, &b).is_empty();
            // Diff first: B's diff loads the desired files into the shadow (the cold path this
            // oracle is about); the commands after it read them from zdm's cache.
            let no_spurious = no_spurious_differences(&sides, differs, case).await;
            let converges = converges(&sides, case).await;
            (vec![converges, no_spurious], managed_only)
        }
        Err(e) => {
            let e = format!("introspection fails: {e}");
            (vec![Err(e.clone()), Err(e)], false)
        }
    };
    drop_database(&sides.a.name).await;
    drop_database(&sides.b.name).await;
    (results, managed_only)
}

async fn no_spurious_differences(
    sides: &Sides,
    differs: bool,
    case: &conformance::Case,
) -> Result<(), String> {
    let run = zdm(&command(&["diff"], &sides.b.conninfo, case)).await;
    if run.code != 0 {
        return Err(format!(
            "spurious differences (exit {}):\n{}",
            run.code,
            tail(&run)
        ));
    }
    let expected = i32::from(differs);
    let run = zdm(&command(&["diff"], &sides.a.conninfo, case)).await;
    if run.code != expected {
        return Err(format!(
            "from.sql vs desired: expected exit {expected}, got {}:\n{}",
            run.code,
            tail(&run)
        ));
    }
    Ok(())
}

async fn converges(sides: &Sides, case: &conformance::Case) -> Result<(), String> {
    let (a, b) = (&sides.a, &sides.b);
    let apply = zdm(&command(common::APPLY_ALL, &a.conninfo, case)).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_converges() {
    conformance::run_corpus_judged(
        "cases.tsv",
        &[
            conformance::Verdicts {
                label: "conformance-converge",
                known_failures_file: "known_failures_converge.tsv",
            },
            conformance::Verdicts {
                label: "conformance-diff",
                known_failures_file: "known_failures_diff.tsv",
            },
        ],
        check,
    )
    .await;
}

/// The whole real-world schemas (`schemas.tsv`), built from an empty database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_schemas_converge() {
    conformance::run_corpus_judged(
        "schemas.tsv",
        &[
            conformance::Verdicts {
                label: "schemas-converge",
                known_failures_file: "known_failures_schemas.tsv",
            },
            conformance::Verdicts {
                label: "schemas-diff",
                known_failures_file: "known_failures_schemas_diff.tsv",
            },
        ],
        check,
    )
    .await;
}
