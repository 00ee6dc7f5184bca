//! Table-layer classes (issue 15), one module per class, each a table of cases: the live
//! schema, the desired schema, the hazards the plan must carry. Every case applies all phases
//! to a real database, then `zdm diff` is clean, a second plan is empty and the normalised
//! `pg_dump --schema-only` equals that of a database built from the desired schema.

#[path = "../cli_support/mod.rs"]
mod cli_support;
#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../conformance/mod.rs"]
mod conformance;

mod identity;
mod not_valid;
mod partitioned;
mod replica_identity;
mod schemas;
mod types;

use std::collections::BTreeSet;

use cli_support::{apply_all, schema_dir, zdm_on};

/// One case: `old` is loaded into the live database, `new` is the desired schema.
pub struct Case {
    pub name: &'static str,
    pub old: &'static str,
    pub new: &'static str,
    /// Hazard kinds (`data-loss`, `table-rewrite`, ...) the plan carries, in any order.
    pub hazards: &'static [&'static str],
}

/// Run every case, then fail with all the cases that did not converge.
pub async fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        if let Err(e) = converge(case).await {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} case(s) failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

async fn converge(case: &Case) -> Result<(), String> {
    let live = common::test_db().await;
    let built = common::test_db().await;
    live.exec(case.old).await;
    built.exec(case.new).await;
    let desired = schema_dir(case.new);

    let plan = zdm_on(
        &["plan", "--format", "json"],
        &live.conninfo,
        desired.path(),
        &[],
    )
    .await;
    if plan.code != 1 {
        return Err(format!("the first plan should have steps\n{}", plan.text()));
    }
    let hazards = plan_hazards(&plan.stdout)?;
    let expected: BTreeSet<String> = case.hazards.iter().map(|h| h.to_string()).collect();
    if hazards != expected {
        return Err(format!(
            "hazards {hazards:?}, expected {expected:?}\n{}",
            plan.stdout
        ));
    }
    let apply = apply_all(&live.conninfo, desired.path()).await;
    if apply.code != 0 {
        return Err(format!("apply failed\n{}", apply.text()));
    }
    let diff = zdm_on(&["diff"], &live.conninfo, desired.path(), &[]).await;
    if diff.code != 0 {
        return Err(format!("diff not clean\n{}", diff.text()));
    }
    let again = zdm_on(&["plan"], &live.conninfo, desired.path(), &[]).await;
    if again.code != 0 {
        return Err(format!("second plan not empty\n{}", again.text()));
    }
    let (migrated, expected) = (
        conformance::normalized_dump(&live.conninfo).await,
        conformance::normalized_dump(&built.conninfo).await,
    );
    if migrated != expected {
        let diff = similar::TextDiff::from_lines(&migrated, &expected)
            .unified_diff()
            .context_radius(1)
            .header("migrated", "built from new")
            .to_string();
        return Err(format!("pg_dump differs:\n{diff}"));
    }
    Ok(())
}

fn plan_hazards(json: &str) -> Result<BTreeSet<String>, String> {
    let plan: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("plan JSON: {e}\n{json}"))?;
    let steps = plan["steps"].as_array().ok_or("plan JSON has no steps")?;
    Ok(steps
        .iter()
        .flat_map(|s| s["hazards"].as_array().cloned().unwrap_or_default())
        .filter_map(|h| h["kind"].as_str().map(str::to_string))
        .collect())
}
