//! `zdm dump` over the conformance corpus: every case's desired schema (`to.sql`), and every
//! whole real-world schema, is built in a database, dumped, and the dump must (1) diff clean
//! against that database and (2) come out byte-identical from a second dump.

mod common;
#[allow(dead_code)]
mod conformance;

use std::path::Path;

use common::drop_database;
use conformance::{dev_url_args, tail, zdm};

async fn check(case: &conformance::Case) -> (Result<(), String>, bool) {
    let db = common::test_db().await;
    let managed_only_before = std::cell::Cell::new(false);
    let result = async {
        db.client
            .batch_execute(&case.sql("to.sql"))
            .await
            .map_err(|e| format!("to.sql does not load: {}", zdm::apply::server_message(&e)))?;
        managed_only_before.set(conformance::managed_only(&db.client).await);
        round_trip(&db.conninfo).await
    }
    .await;
    drop_database(&db.name).await;
    (result, managed_only_before.get())
}

async fn round_trip(conninfo: &str) -> Result<(), String> {
    let out = tempfile::tempdir().map_err(|e| e.to_string())?;
    let dir = out.path().display().to_string();
    let dump_args = ["dump", "--db", conninfo, "--out", &dir].map(String::from);
    let first = zdm(&dump_args).await;
    if first.code != 0 {
        return Err(format!(
            "dump failed (exit {}):\n{}",
            first.code,
            tail(&first)
        ));
    }
    let written = read_tree(out.path());
    if written.is_empty() {
        // Nothing to dump. A schema directory must hold a file (an empty one is refused as a
        // likely mistake), so the round trip is against one empty file.
        let note = "-- nothing but what every new database has\n";
        std::fs::write(out.path().join("empty.sql"), note).map_err(|e| e.to_string())?;
    }
    let mut diff_args = vec![
        "diff".to_string(),
        "--db".to_string(),
        conninfo.to_string(),
        "--schema".to_string(),
        dir.clone(),
    ];
    diff_args.extend(dev_url_args());
    let diff = zdm(&diff_args).await;
    if diff.code != 0 {
        return Err(format!(
            "the dump does not diff clean (exit {}):\n{}\n--- the dump ---\n{}",
            diff.code,
            tail(&diff),
            written
        ));
    }
    let second = zdm(&dump_args).await;
    let again = read_tree(out.path());
    if second.code != 0 || (again != written && !written.is_empty()) {
        return Err(format!("a second dump differs:\n{}", tail(&second)));
    }
    Ok(())
}

/// Every file of a dump, concatenated under its path, for comparison and for messages.
fn read_tree(dir: &Path) -> String {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            format!("==> {}\n{text}", p.strip_prefix(dir).unwrap_or(p).display())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_cases_dump_round_trip() {
    conformance::run_corpus("dump-cases", "cases.tsv", "known_failures_dump.tsv", check).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_schemas_dump_round_trip() {
    conformance::run_corpus(
        "dump-schemas",
        "schemas.tsv",
        "known_failures_dump.tsv",
        check,
    )
    .await;
}
