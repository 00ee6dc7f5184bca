//! Crash points for the online recipes that carry data across a change: a rewriting retype
//! (`-- zdm:using`), a table rename (`-- zdm:renamed-from` on a table) and, on PostgreSQL 18,
//! a NOT NULL added `NOT VALID` and validated, and a partitioned table's new primary key
//! whose partitions are detached and attached again. `zdm apply` is
//! killed (as by `kill -9`) after every step, before and after the ledger records it, then
//! run again: every rerun converges (the diff is clean and the catalog picture equals a
//! database built from the desired schema) and a checksum of the data is unchanged.

mod apply_support;
mod common;

use apply_support::*;
use common::catalog_dump::catalog_dump;

use common::APPLY_ALL;

struct Scenario {
    name: &'static str,
    /// The live side, with rows.
    from: &'static str,
    /// The desired schema file.
    to: &'static str,
    /// A digest of the rows, before the migration and after it (the table's name may change).
    checksum_before: &'static str,
    checksum_after: &'static str,
    /// The oldest major the scenario means something on (older ones skip it).
    since: i32,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "retype",
        from: "CREATE TABLE items (id bigint PRIMARY KEY, price integer NOT NULL CHECK (price >= 0), note text);
               CREATE INDEX items_price ON items (price);
               INSERT INTO items SELECT g, g % 1000, 'n' || g FROM generate_series(1, 300) g;",
        to: "CREATE TABLE items (
               id bigint PRIMARY KEY,
               price numeric(12,2) NOT NULL CHECK (price >= 0), -- zdm:using price::numeric(12,2)
               note text
             );
             CREATE INDEX items_price ON items (price);\n",
        checksum_before: "SELECT md5(string_agg(id || ':' || price::numeric(12,2) || ':' || note, ',' ORDER BY id)) FROM items",
        checksum_after: "SELECT md5(string_agg(id || ':' || price::numeric(12,2) || ':' || note, ',' ORDER BY id)) FROM items",
        since: 13,
    },
    Scenario {
        name: "table rename",
        from: "CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL);
               CREATE TABLE invoices (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers);
               INSERT INTO customers (name) SELECT 'c' || g FROM generate_series(1, 300) g;
               INSERT INTO invoices (customer_id) SELECT 1 + g % 300 FROM generate_series(1, 300) g;",
        to: "-- zdm:renamed-from customers
             CREATE TABLE clients (id bigserial PRIMARY KEY, name text NOT NULL);
             CREATE TABLE invoices (id bigserial PRIMARY KEY, customer_id bigint REFERENCES clients);\n",
        checksum_before: "SELECT md5(string_agg(c.id || ':' || c.name || ':' || i.id, ',' ORDER BY i.id)) FROM customers c JOIN invoices i ON i.customer_id = c.id",
        checksum_after: "SELECT md5(string_agg(c.id || ':' || c.name || ':' || i.id, ',' ORDER BY i.id)) FROM clients c JOIN invoices i ON i.customer_id = c.id",
        since: 13,
    },
    Scenario {
        // 18's NOT NULL steps (the constraint added NOT VALID, then validated) on two columns,
        // and an index built after them.
        name: "not null",
        from: "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, name text);
               INSERT INTO accounts SELECT g, 'e' || g, 'n' || g FROM generate_series(1, 300) g;",
        to: "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL);
             CREATE INDEX accounts_email ON accounts (email);\n",
        checksum_before: "SELECT md5(string_agg(id || ':' || email || ':' || name, ',' ORDER BY id)) FROM accounts",
        checksum_after: "SELECT md5(string_agg(id || ':' || email || ':' || name, ',' ORDER BY id)) FROM accounts",
        since: 18,
    },
    Scenario {
        // A primary key added over a partitioned table's partitions, which 18 then has detached
        // and attached again (so that their NOT NULL constraints are inherited only).
        name: "partitioned primary key",
        from: "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, note text) PARTITION BY RANGE (at);
               CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
               CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
               INSERT INTO events SELECT g, date '2024-01-01' + g, 'n' || g FROM generate_series(1, 600) g;",
        to: "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, note text, PRIMARY KEY (id, at))
               PARTITION BY RANGE (at);
             CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
             CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\n",
        checksum_before: "SELECT md5(string_agg(id || ':' || at || ':' || note, ',' ORDER BY id)) FROM events",
        checksum_after: "SELECT md5(string_agg(id || ':' || at || ':' || note, ',' ORDER BY id)) FROM events",
        since: 18,
    },
];

async fn digest(db: &common::TestDb, sql: &str) -> String {
    db.client.query_one(sql, &[]).await.unwrap().get(0)
}

fn with_schema<'a>(schema: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--schema", schema]);
    all
}

/// How many steps the scenario's plan has, by `zdm plan --format json` on a fresh copy.
async fn step_count(scenario: &Scenario, schema: &str) -> usize {
    let db = common::test_db().await;
    db.exec(scenario.from).await;
    let out = zdm(&db, &with_schema(schema, &["plan", "--format", "json"]));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{}: plan json: {e}\n{}", scenario.name, text(&out)));
    db.drop().await;
    plan["steps"].as_array().map(Vec::len).unwrap_or(0)
}

/// Crash points whose rerun does not converge yet, with the reason; the test fails on any
/// other failure, and on one of these passing (remove it then).
const KNOWN_BROKEN: &[(&str, usize, &str, &str)] = &[];

async fn crash_and_resume(
    scenario: &Scenario,
    schema: &str,
    expected: &str,
    step: usize,
    at: &str,
) -> Result<(), String> {
    let db = common::test_db().await;
    db.exec(scenario.from).await;
    let before = digest(&db, scenario.checksum_before).await;
    let crashed = zdm_command(&db, &with_schema(schema, APPLY_ALL))
        .env("ZDM_CRASH_AT", format!("{step}:{at}"))
        .output()
        .unwrap();
    let result = if crashed.status.code().is_some() {
        Err(format!(
            "the run was meant to die by a signal:\n{}",
            text(&crashed)
        ))
    } else {
        converged(&db, scenario, schema, expected, &before).await
    };
    db.drop().await;
    result
}

/// The rerun succeeds, the diff is clean, the catalog equals the desired schema's, and the
/// rows are as they were.
async fn converged(
    db: &common::TestDb,
    scenario: &Scenario,
    schema: &str,
    expected: &str,
    before: &str,
) -> Result<(), String> {
    let rerun = zdm(db, &with_schema(schema, APPLY_ALL));
    if !rerun.status.success() {
        return Err(format!("the rerun failed:\n{}", text(&rerun)));
    }
    let diff = zdm(db, &with_schema(schema, &["diff"]));
    if diff.status.code() != Some(0) {
        return Err(format!("not converged:\n{}", text(&diff)));
    }
    if catalog_dump(&db.client).await? != expected {
        return Err("the catalog differs from the desired schema's".into());
    }
    if digest(db, scenario.checksum_after).await != before {
        return Err("rows lost or changed".into());
    }
    Ok(())
}

async fn every_crash_point_converges(scenario: &Scenario) {
    let probe = common::test_db().await;
    let version: String = probe
        .client
        .query_one("SHOW server_version_num", &[])
        .await
        .unwrap()
        .get(0);
    probe.drop().await;
    let major = version.parse::<i32>().unwrap() / 10_000;
    if major < scenario.since {
        eprintln!(
            "{}: skipped on PostgreSQL {major} (needs {}+)",
            scenario.name, scenario.since
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.sql");
    std::fs::write(&path, scenario.to).unwrap();
    let schema = path.display().to_string();
    let built = common::test_db().await;
    built.exec(scenario.to).await;
    let expected = catalog_dump(&built.client).await.unwrap();
    built.drop().await;
    let steps = step_count(scenario, &schema).await;
    assert!(steps >= 2, "{}: only {steps} steps planned", scenario.name);
    let mut wrong = Vec::new();
    for step in 1..=steps {
        for at in ["unrecorded", "recorded"] {
            let result = crash_and_resume(scenario, &schema, &expected, step, at).await;
            let known = KNOWN_BROKEN
                .iter()
                .any(|(s, n, a, _)| *s == scenario.name && *n == step && *a == at);
            match (result, known) {
                (Ok(()), true) => wrong.push(format!(
                    "step {step} ({at}) now converges: remove it from KNOWN_BROKEN"
                )),
                (Err(e), false) => wrong.push(format!("step {step} ({at}): {e}")),
                _ => {}
            }
        }
    }
    eprintln!("{}: {steps} steps, each killed both ways", scenario.name);
    assert!(wrong.is_empty(), "{}:\n{}", scenario.name, wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retype_killed_at_every_step_converges() {
    every_crash_point_converges(&SCENARIOS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_rename_killed_at_every_step_converges() {
    every_crash_point_converges(&SCENARIOS[1]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_null_on_18_killed_at_every_step_converges() {
    every_crash_point_converges(&SCENARIOS[2]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_primary_key_on_18_killed_at_every_step_converges() {
    every_crash_point_converges(&SCENARIOS[3]).await;
}
