//! Every schema in the conformance corpus that loads on this server must introspect without
//! error, deterministically, and survive a JSON round trip of the model.

mod common;

use std::path::{Path, PathBuf};

use zdm::catalog::{introspect, Reader};
use zdm::model::Model;

const CORPUS: &str = "/work/shared/conformance";

/// `(case, status)` from `cases.tsv`: `ok`, `from-fails`, `to-fails`.
fn cases() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("cases.tsv")).expect("cases.tsv");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split('\t');
            Some((fields.next()?.to_string(), fields.next()?.to_string()))
        })
        .collect()
}

/// The model without what is not schema (and so not serialised): statistics, the server version.
fn without_stats(mut model: Model) -> Model {
    for table in model.tables.values_mut() {
        table.stats = Default::default();
    }
    model.server_version = 0;
    model
}

/// Load `setup.sql` (if any) + `side` into a fresh database and introspect it.
async fn check(dir: &Path, side: &str) -> Result<Model, String> {
    let db = common::test_db().await;
    let result = check_in(&db, dir, side).await;
    db.drop().await;
    result
}

async fn check_in(db: &common::TestDb, dir: &Path, side: &str) -> Result<Model, String> {
    db.exec("SET check_function_bodies = off").await;
    let mut sql = String::new();
    for file in ["setup.sql", side] {
        if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            sql.push_str(&text);
            sql.push('\n');
        }
    }
    db.client.batch_execute(&sql).await.map_err(|e| {
        format!(
            "LOAD: {}",
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or(e.to_string())
        )
    })?;
    // The second read reuses the first one's prepared queries, as rehearsal does.
    let reader = Reader::new(&db.client);
    let model = reader.introspect().await.map_err(|e| e.to_string())?;
    let again = reader.introspect().await.map_err(|e| e.to_string())?;
    if without_stats(model.clone()) != without_stats(again) {
        return Err("two introspections differ".into());
    }
    let json = serde_json::to_string(&model).map_err(|e| e.to_string())?;
    let back: Model = serde_json::from_str(&json).map_err(|e| format!("deserialize: {e}"))?;
    if back != without_stats(model.clone()) {
        return Err("JSON round trip differs".into());
    }
    Ok(model)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn corpus_introspects() {
    use futures_util::stream::{self, StreamExt};

    // The corpus names the role `postgres` (the peers' superuser) without creating it.
    common::test_db()
        .await
        .exec("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgres') THEN CREATE ROLE postgres SUPERUSER; END IF; END $$")
        .await;

    let mut jobs = Vec::new();
    let mut skipped = Vec::new();
    for (case, status) in cases() {
        for side in ["from.sql", "to.sql"] {
            let known_bad = (side == "from.sql" && status == "from-fails")
                || (side == "to.sql" && status == "to-fails");
            if known_bad {
                skipped.push(format!("{case}/{side}"));
            } else {
                jobs.push((case.clone(), status.clone(), side));
            }
        }
    }
    let results: Vec<_> = stream::iter(jobs)
        .map(|(case, status, side)| async move {
            let dir: PathBuf = Path::new(CORPUS).join(&case);
            let mut result = check(&dir, side).await;
            if matches!(&result, Err(e) if e.starts_with("LOAD:")) {
                // Setup files create cluster-wide roles; a concurrent twin may have raced us.
                result = check(&dir, side).await;
            }
            (case, status, side, result)
        })
        .buffer_unordered(8)
        .collect()
        .await;

    let mut loaded = 0;
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    let mut load_failures = Vec::new();
    for (case, status, side, result) in results {
        match result {
            Ok(model) => {
                loaded += 1;
                for object in model.unmanaged {
                    *kinds.entry(object.kind).or_default() += 1;
                }
            }
            // A case marked as failing on this server (cases.tsv) may fail on both sides.
            Err(e) if e.starts_with("LOAD:") && status != "ok" => {
                skipped.push(format!("{case}/{side}"))
            }
            Err(e) if e.starts_with("LOAD:") => load_failures.push(format!("{case}/{side}: {e}")),
            Err(e) => failures.push(format!("{case}/{side}: {e}")),
        }
    }
    println!(
        "conformance corpus: {loaded} schemas introspected, {} failed, {} did not load, {} skipped",
        failures.len(),
        load_failures.len(),
        skipped.len()
    );
    println!("unmanaged objects seen: {kinds:?}");
    failures.sort();
    load_failures.sort();
    assert!(
        failures.is_empty(),
        "introspection failures:\n{}",
        failures.join("\n")
    );
    assert!(
        load_failures.is_empty(),
        "cases that should load did not:\n{}",
        load_failures.join("\n")
    );
}

/// Debugging aid: `ZDM_CASE=migra/everything ZDM_SIDE=to.sql cargo test --test
/// catalog_conformance dump_case -- --ignored --nocapture` prints the model as JSON.
#[tokio::test]
#[ignore]
async fn dump_case() {
    let case = std::env::var("ZDM_CASE").expect("ZDM_CASE=<dir under the corpus>");
    let side = std::env::var("ZDM_SIDE").unwrap_or_else(|_| "to.sql".into());
    let dir = Path::new(CORPUS).join(case);
    let db = common::test_db().await;
    db.exec("SET check_function_bodies = off").await;
    for file in ["setup.sql", side.as_str()] {
        if let Ok(text) = std::fs::read_to_string(dir.join(file)) {
            db.exec(&text).await;
        }
    }
    let model = introspect(&db.client).await.expect("introspect");
    println!("{}", serde_json::to_string_pretty(&model).expect("json"));
}
