//! The catalog oracle (`common::catalog_dump`) against the pg_dump oracle, over the whole
//! conformance corpus, on a server the installed pg_dump can read. For every case the
//! databases built from `from.sql` and from `to.sql` are compared by both oracles:
//!
//! - what pg_dump finds different, the catalog picture must find different too (otherwise
//!   the catalog oracle would pass migrations on newer servers that pg_dump would fail);
//! - a database built twice from the same file is equal to itself by both (no OIDs, no
//!   order of creation leaks into either picture);
//! - where only the catalog picture sees a difference, the case is printed with the lines
//!   that differ, so the report says where the two disagree and why.

mod common;
#[allow(dead_code)]
mod conformance;

use common::catalog_dump::catalog_dump;
use conformance::{pg_dump_major, pg_dump_normalized, server_major, Case};
use futures_util::stream::{self, StreamExt};

/// What the two oracles said of one case.
struct Verdict {
    name: String,
    /// pg_dump and the catalog picture: does from.sql's database differ from to.sql's?
    pg_dump_differs: bool,
    catalog_differs: bool,
    /// The catalog picture's differing lines, when only it sees a difference.
    catalog_only: Vec<String>,
    /// Either oracle finds a database unequal to a second build of the same file.
    unstable: Option<String>,
}

struct Pictures {
    pg_dump: String,
    catalog: String,
}

async fn pictures_of(sql: &str) -> Result<Pictures, String> {
    let db = common::test_db().await;
    let result = async {
        db.client
            .batch_execute(sql)
            .await
            .map_err(|e| zdm::apply::server_message(&e))?;
        let catalog = catalog_dump(&db.client)
            .await
            .unwrap_or_else(|e| panic!("the catalog picture fails: {e}"));
        Ok(Pictures {
            pg_dump: pg_dump_normalized(&db.conninfo).await,
            catalog,
        })
    }
    .await;
    db.drop().await;
    result
}

fn changed_lines(a: &str, b: &str) -> Vec<String> {
    similar::TextDiff::from_lines(a, b)
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .map(|c| format!("{}{}", c.tag(), c.value().trim_end()))
        .collect()
}

/// None when a side does not load (the convergence test reports those).
async fn judge(case: &Case) -> Option<Verdict> {
    let from = pictures_of(&case.sql("from.sql")).await.ok()?;
    let to = pictures_of(&case.sql("to.sql")).await.ok()?;
    let again = pictures_of(&case.sql("to.sql")).await.ok()?;
    let unstable = [
        ("pg_dump", &to.pg_dump, &again.pg_dump),
        ("catalog", &to.catalog, &again.catalog),
    ]
    .iter()
    .find(|(_, a, b)| a != b)
    .map(|(oracle, a, b)| format!("{oracle}: {:?}", changed_lines(a, b)));
    let pg_dump_differs = from.pg_dump != to.pg_dump;
    let catalog_differs = from.catalog != to.catalog;
    Some(Verdict {
        name: case.name.clone(),
        pg_dump_differs,
        catalog_differs,
        catalog_only: if catalog_differs && !pg_dump_differs {
            changed_lines(&from.catalog, &to.catalog)
        } else {
            Vec::new()
        },
        unstable,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_oracle_sees_what_pg_dump_sees() {
    let probe = common::test_db().await;
    let server = server_major(&probe.client).await;
    probe.drop().await;
    if server > pg_dump_major() {
        eprintln!(
            "skipped: pg_dump {} cannot read server {server}",
            pg_dump_major()
        );
        return;
    }
    conformance::create_shared_roles().await;
    let mut cases = conformance::cases("cases.tsv");
    cases.extend(conformance::cases("schemas.tsv"));
    let cases: &'static [Case] = Box::leak(cases.into_boxed_slice());
    let verdicts: Vec<Verdict> = stream::iter(cases.iter().filter(|c| c.skip.is_none()))
        .map(judge)
        .buffer_unordered(3)
        .filter_map(|v| async move { v })
        .collect()
        .await;

    let missed: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.pg_dump_differs && !v.catalog_differs)
        .map(|v| v.name.as_str())
        .collect();
    let unstable: Vec<String> = verdicts
        .iter()
        .filter_map(|v| v.unstable.as_ref().map(|u| format!("{}: {u}", v.name)))
        .collect();
    for v in verdicts.iter().filter(|v| !v.catalog_only.is_empty()) {
        eprintln!(
            "only the catalog oracle sees a difference in {}:\n  {}",
            v.name,
            v.catalog_only.join("\n  ")
        );
    }
    let both = verdicts
        .iter()
        .filter(|v| v.pg_dump_differs && v.catalog_differs)
        .count();
    let neither = verdicts
        .iter()
        .filter(|v| !v.pg_dump_differs && !v.catalog_differs)
        .count();
    let catalog_only = verdicts
        .iter()
        .filter(|v| !v.catalog_only.is_empty())
        .count();
    println!(
        "oracle agreement over {} cases: {both} different by both, {neither} equal by both, \
         {catalog_only} different by the catalog only, {} different by pg_dump only, {} unstable",
        verdicts.len(),
        missed.len(),
        unstable.len()
    );
    assert!(
        missed.is_empty(),
        "pg_dump sees a difference the catalog oracle misses: {missed:?}"
    );
    assert!(
        unstable.is_empty(),
        "a picture differs between two builds of one file:\n{}",
        unstable.join("\n")
    );
    assert!(both > 0, "no case differed at all: the corpus did not run");
}
