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

mod combined;
mod identity;
mod keys;
mod not_valid;
mod partitioned;
mod recreate;
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

/// A case whose live tables hold rows: `setup` fills them after `old` is loaded, and `rows`
/// (a query; empty: none) must return the same result before the plan and after every phase.
pub struct Kept {
    pub case: Case,
    pub setup: &'static str,
    pub rows: &'static str,
}

/// Run every case, then fail with all the cases that did not converge.
pub async fn run(cases: &[Case]) {
    let kept: Vec<Kept> = cases
        .iter()
        .map(|case| Kept {
            case: Case { ..*case },
            setup: "",
            rows: "",
        })
        .collect();
    run_keeping(&kept).await;
}

/// Like [`run`] on servers of major `since` or newer; on older ones the cases are skipped with
/// `why` printed (their DDL uses syntax those servers lack).
pub async fn run_since(since: u32, why: &str, cases: &[Case]) {
    let db = common::test_db().await;
    let major = conformance::server_major(&db.client).await;
    if major < since {
        println!(
            "skipped {} case(s) on PostgreSQL {major}: {why} (needs {since}+)",
            cases.len()
        );
        return;
    }
    run(cases).await;
}

/// Like [`run`], and the rows each case's query reads are the same after as before.
pub async fn run_keeping(cases: &[Kept]) {
    let mut failures = Vec::new();
    for kept in cases {
        if let Err(e) = converge(kept).await {
            failures.push(format!("{}: {e}", kept.case.name));
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

/// The result of `query` as one JSON text (rows in the query's order).
async fn snapshot(db: &common::TestDb, query: &str) -> Result<String, String> {
    let wrapped = format!("SELECT coalesce(json_agg(q)::text, '[]') FROM ({query}) q");
    let row = db
        .client
        .query_one(wrapped.as_str(), &[])
        .await
        .map_err(|e| format!("{query}: {e}"))?;
    Ok(row.get(0))
}

async fn converge(kept: &Kept) -> Result<(), String> {
    let case = &kept.case;
    let live = common::test_db().await;
    let built = common::test_db().await;
    live.exec(case.old).await;
    live.exec(kept.setup).await;
    built.exec(case.new).await;
    let before = match kept.rows {
        "" => None,
        query => Some(snapshot(&live, query).await?),
    };
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
    if let Some(before) = before {
        let after = snapshot(&live, kept.rows).await?;
        if after != before {
            return Err(format!("rows changed:\nbefore {before}\nafter  {after}"));
        }
    }
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
