//! Table-driven cases for the object kinds beyond tables (in the style of pg-schema-diff's
//! acceptance cases): build the old schema, plan towards the new one, check the hazards the
//! plan names, apply every phase, then `zdm diff` is clean, a second plan is empty and the
//! normalised `pg_dump` equals that of a database built from the new schema.
#![allow(dead_code)]

use crate::cli_support::{apply_all, schema_dir, zdm_on};
use crate::common;
use crate::conformance::normalized_dump;

pub struct Case {
    pub name: &'static str,
    pub old: &'static str,
    pub new: &'static str,
    /// Hazard kinds (`data-loss`, `may-fail`, ...) the plan must name; any other is an error.
    pub hazards: &'static [&'static str],
    /// Text the plan must contain (e.g. `CREATE OR REPLACE VIEW`), or must not (`!DROP VIEW`).
    pub plan_has: &'static [&'static str],
}

/// Run one case; the error says which check failed and shows the plan.
pub async fn run(case: &Case) -> Result<(), String> {
    run_normalized(case, |dump| dump.to_string()).await
}

/// [`run`], with both normalised dumps passed through `normalize` before they are compared:
/// for a state PostgreSQL cannot reach online in the same form as a fresh build (say what it
/// hides and why where it is used).
pub async fn run_normalized(case: &Case, normalize: fn(&str) -> String) -> Result<(), String> {
    let db = common::test_db().await;
    db.client
        .batch_execute(case.old)
        .await
        .map_err(|e| format!("{}: old schema does not load: {e}", case.name))?;
    let dir = schema_dir(case.new);
    let plan = zdm_on(&["plan"], &db.conninfo, dir.path(), &["--format", "json"]).await;
    if plan.code != 1 {
        return Err(format!(
            "{}: plan should list steps:\n{}",
            case.name,
            plan.text()
        ));
    }
    let json: serde_json::Value = serde_json::from_str(&plan.stdout)
        .map_err(|e| format!("{}: plan is not JSON ({e}):\n{}", case.name, plan.text()))?;
    crate::cli_support::schema::assert_valid_plan(&json);
    let mut kinds: Vec<String> = json["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["hazards"].as_array().cloned().unwrap_or_default())
        .filter_map(|h| h["kind"].as_str().map(str::to_string))
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut expected: Vec<String> = case.hazards.iter().map(|s| s.to_string()).collect();
    expected.sort();
    if kinds != expected {
        return Err(format!(
            "{}: hazards {kinds:?}, expected {expected:?}:\n{}",
            case.name, plan.stdout
        ));
    }
    let sql: String = json["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["sql"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for want in case.plan_has {
        let ok = match want.strip_prefix('!') {
            Some(absent) => !sql.contains(absent),
            None => sql.contains(want),
        };
        if !ok {
            return Err(format!("{}: plan SQL and {want:?}:\n{sql}", case.name));
        }
    }
    let apply = apply_all(&db.conninfo, dir.path()).await;
    if apply.code != 0 {
        return Err(format!("{}: apply failed:\n{}", case.name, apply.text()));
    }
    let diff = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    if diff.code != 0 {
        return Err(format!("{}: not converged:\n{}", case.name, diff.text()));
    }
    let again = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    if again.code != 0 {
        return Err(format!(
            "{}: second plan not empty:\n{}",
            case.name,
            again.text()
        ));
    }
    let built = common::test_db().await;
    // Bodies may name what the file creates further down (zdm loads them the same way).
    built
        .client
        .batch_execute(&format!("SET check_function_bodies = off;\n{}", case.new))
        .await
        .map_err(|e| format!("{}: new schema does not load: {e}", case.name))?;
    let (migrated, expected) = (
        normalize(&normalized_dump(&db.conninfo).await),
        normalize(&normalized_dump(&built.conninfo).await),
    );
    if migrated != expected {
        let diff = similar::TextDiff::from_lines(&migrated, &expected)
            .unified_diff()
            .header("migrated", "built from the new schema")
            .to_string();
        return Err(format!("{}: pg_dump differs:\n{diff}", case.name));
    }
    Ok(())
}

/// Run every case (two at a time) and fail with all the failures at once.
pub async fn run_all(cases: &'static [Case]) {
    use futures_util::stream::{self, StreamExt};
    let failures: Vec<String> = stream::iter(cases)
        .map(run)
        .buffer_unordered(2)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    assert!(
        failures.is_empty(),
        "{} of {} case(s) failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
