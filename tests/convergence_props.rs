//! Property: for a random pair of schemas (tables with typed, defaulted, NOT NULL and identity
//! columns, CHECK / UNIQUE / FOREIGN KEY constraints, partial and expression indexes,
//! comments, hostile identifiers), zdm's plan applied phase by phase converges — the diff is
//! clean and a second plan is empty — and no step holds ACCESS EXCLUSIVE while it scans or
//! rewrites a table unless a hazard says so. Every table is treated as holding rows, so the
//! online recipes are the ones exercised. A fixed seed keeps CI repeatable.
//!
//! The second property adds the layer above the tables (`objects` below): views over the
//! tables' columns (whose types change under them), a view chain, a function a view calls,
//! a trigger and its function, with definitions that differ between the two sides.
//!
//! The third property covers the kinds beside the tables' columns (`kinds` below):
//! partitioned tables and their partitions (attached, detached, added, dropped, re-keyed),
//! sequences, enums, stored generated columns and domains.

mod common;
#[path = "convergence_props/kinds.rs"]
mod kinds;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use zdm::apply::{run_steps, ApplyOptions};
use zdm::catalog::introspect;
use zdm::diff::diff;
use zdm::model::Model;
use zdm::plan::{plan, HazardKind, LockMode, PlanOptions, TableWork};
use zdm::shadow::{ShadowDatabase, ShadowSource};

#[derive(Debug, Clone)]
struct Column {
    name: String,
    ty: &'static str,
    not_null: bool,
    default: Option<&'static str>,
    identity: bool,
}

#[derive(Debug, Clone)]
struct TableSpec {
    name: String,
    columns: Vec<Column>,
    check: bool,
    unique: bool,
    index: Option<u8>,
    comment: Option<&'static str>,
    references_first: bool,
}

/// Column names, each with the two types it may have (a change between them is one
/// PostgreSQL can cast) and a default that fits both.
const COLUMNS: &[(&str, [&str; 2], &str)] = &[
    ("a", ["integer", "bigint"], "0"),
    ("b", ["text", "character varying(40)"], "'x'"),
    (
        "Mixed Case",
        ["character varying(20)", "character varying(40)"],
        "'y'",
    ),
    ("select", ["numeric(10,2)", "numeric(12,2)"], "1.5"),
    ("quote\"d", ["boolean", "boolean"], "true"),
    (
        "ünï",
        ["timestamp with time zone", "timestamp with time zone"],
        "now()",
    ),
    ("c_3", ["jsonb", "jsonb"], "'{}'::jsonb"),
    ("n", ["bigint", "bigint"], "7"),
];

fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn column() -> impl Strategy<Value = Column> {
    (
        0..COLUMNS.len(),
        0..2usize,
        any::<bool>(),
        any::<bool>(),
        0u8..4,
    )
        .prop_map(|(n, t, not_null, with_default, identity)| {
            let (name, types, default) = COLUMNS[n];
            Column {
                name: name.to_string(),
                ty: types[t],
                not_null,
                default: with_default.then_some(default),
                identity: identity == 0 && name == "n",
            }
        })
}

fn table(index: usize) -> impl Strategy<Value = TableSpec> {
    (
        prop::collection::vec(column(), 1..5),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(0u8..3),
        prop::option::of(prop::sample::select(vec!["it's a table", "Ünïcode"])),
        any::<bool>(),
    )
        .prop_map(move |(mut columns, check, unique, idx, comment, refs)| {
            let mut seen = std::collections::BTreeSet::new();
            columns.retain(|c| seen.insert(c.name.clone()));
            TableSpec {
                name: format!("t{index} {}", ["x", "Y\"z"][index % 2]),
                columns,
                check,
                unique,
                index: idx,
                comment,
                references_first: refs && index > 0,
            }
        })
}

fn schema() -> impl Strategy<Value = Vec<TableSpec>> {
    (table(0), table(1), prop::option::of(table(2))).prop_map(|(a, b, c)| {
        let mut out = vec![a, b];
        out.extend(c);
        out
    })
}

/// The objects above the tables, each present or not and in one of a few variants, so that a
/// pair of sides creates, drops, replaces and re-creates them around the tables' changes.
#[derive(Debug, Clone)]
struct ObjectsSpec {
    /// A view over `id` and every column of the first table, so that the tables' type
    /// changes and drops happen under it (variant: its filter).
    view: Option<u8>,
    /// A second view reading the first (only with `view`).
    chain: bool,
    /// A SQL function over the second table (variant: its body / its language).
    function: Option<u8>,
    /// A view that calls the function (only with `function`).
    calls_function: bool,
    /// A row trigger on the second table and its PL/pgSQL function (variant: events / WHEN /
    /// the function's body).
    trigger: Option<u8>,
}

fn objects() -> impl Strategy<Value = ObjectsSpec> {
    (
        prop::option::of(0u8..2),
        any::<bool>(),
        prop::option::of(0u8..3),
        any::<bool>(),
        prop::option::of(0u8..4),
    )
        .prop_map(
            |(view, chain, function, calls_function, trigger)| ObjectsSpec {
                view,
                chain: chain && view.is_some(),
                function,
                calls_function: calls_function && function.is_some(),
                trigger,
            },
        )
}

fn objects_ddl(tables: &[TableSpec], spec: &ObjectsSpec) -> String {
    let mut out = String::new();
    let (first, second) = (ident(&tables[0].name), ident(&tables[1].name));
    let columns: Vec<String> = tables[0].columns.iter().map(|c| ident(&c.name)).collect();
    let columns = columns.join(", ");
    if let Some(variant) = spec.view {
        let filter = ["id > 0", "id > 10 OR id < 0"][variant as usize];
        out.push_str(&format!(
            "CREATE VIEW \"v ü\" AS SELECT id, {columns} FROM {first} WHERE {filter};\n"
        ));
        out.push_str("COMMENT ON VIEW \"v ü\" IS 'reads the first table';\n");
    }
    if spec.chain {
        out.push_str("CREATE VIEW v_chain AS SELECT id FROM \"v ü\" WHERE id <> 3;\n");
    }
    if let Some(variant) = spec.function {
        let (language, body) = [
            ("sql", format!("SELECT count(*) + $1 FROM {second}")),
            ("sql", format!("SELECT count(*) * $1 FROM {second}")),
            (
                "plpgsql",
                format!("BEGIN RETURN (SELECT count(*) FROM {second}) + $1; END"),
            ),
        ][variant as usize]
            .clone();
        out.push_str(&format!(
            "CREATE FUNCTION \"count It\"(integer) RETURNS bigint LANGUAGE {language} STABLE \
             AS $f${body}$f$;\n"
        ));
    }
    if spec.calls_function {
        out.push_str("CREATE VIEW v_calls AS SELECT \"count It\"(1) AS n;\n");
    }
    if let Some(variant) = spec.trigger {
        let body = ["NEW.id := NEW.id; RETURN NEW;", "RETURN NEW;"][(variant % 2) as usize];
        out.push_str(&format!(
            "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$BEGIN {body} END$f$;\n"
        ));
        let timing = [
            "BEFORE INSERT OR UPDATE",
            "BEFORE INSERT",
            "BEFORE UPDATE OF id",
            "BEFORE INSERT OR UPDATE",
        ][variant as usize];
        let when = if variant == 3 {
            " WHEN (NEW.id > 0)"
        } else {
            ""
        };
        out.push_str(&format!(
            "CREATE TRIGGER \"tr Ü\" {timing} ON {second} FOR EACH ROW{when} \
             EXECUTE FUNCTION touch();\n"
        ));
    }
    out
}

fn ddl(tables: &[TableSpec]) -> String {
    let mut out = String::new();
    for t in tables {
        let name = ident(&t.name);
        let mut items = vec!["id bigint PRIMARY KEY".to_string()];
        for c in &t.columns {
            let mut item = format!("{} {}", ident(&c.name), c.ty);
            if c.identity {
                item.push_str(" GENERATED BY DEFAULT AS IDENTITY");
            } else if let Some(d) = c.default {
                item.push_str(&format!(" DEFAULT {d}"));
            }
            if c.not_null {
                item.push_str(" NOT NULL");
            }
            items.push(item);
        }
        if t.references_first {
            items.push(format!(
                "parent_id bigint REFERENCES {} (id)",
                ident(&tables[0].name)
            ));
        }
        let first = ident(&t.columns[0].name);
        if t.check {
            items.push(format!(
                "CONSTRAINT {} CHECK ({first} IS NOT NULL OR id > 0)",
                ident(&format!("{} chk", t.name))
            ));
        }
        if t.unique {
            items.push(format!("UNIQUE ({first})"));
        }
        out.push_str(&format!(
            "CREATE TABLE {name} (\n  {}\n);\n",
            items.join(",\n  ")
        ));
        match t.index {
            Some(0) => out.push_str(&format!("CREATE INDEX ON {name} ({first});\n")),
            Some(1) => out.push_str(&format!(
                "CREATE INDEX ON {name} (id) WHERE {first} IS NOT NULL;\n"
            )),
            Some(_) => out.push_str(&format!(
                "CREATE INDEX ON {name} ((id + 1), {first} DESC);\n"
            )),
            None => {}
        }
        if let Some(comment) = t.comment {
            out.push_str(&format!(
                "COMMENT ON TABLE {name} IS '{}';\n",
                comment.replace('\'', "''")
            ));
        }
    }
    out
}

async fn model_of(sql: &str) -> Result<Model, String> {
    let shadow = ShadowDatabase::create(ShadowSource::DevServer(
        zdm::connect::ConnectionTarget::parse(Some(&common::server_conninfo("postgres"))).unwrap(),
    ))
    .await
    .map_err(|e| e.to_string())?;
    let loaded = shadow.client().batch_execute(sql).await;
    let model = match loaded {
        Ok(()) => introspect(shadow.client()).await.map_err(|e| e.to_string()),
        Err(e) => Err(format!("does not load: {}", zdm::apply::server_message(&e))),
    };
    let _ = shadow.close().await;
    model
}

/// Plan from `from` to `to` on a fresh database, apply every phase, and check the property.
async fn converges(from: &str, to: &str) -> Result<(), String> {
    let desired = model_of(to).await?;
    let db = common::test_db().await;
    db.client
        .batch_execute(from)
        .await
        .map_err(|e| format!("from does not load: {}", zdm::apply::server_message(&e)))?;
    let mut live = introspect(&db.client).await.map_err(|e| e.to_string())?;
    for table in live.tables.values_mut() {
        table.stats.has_rows = true;
    }
    let made = plan(&live, &desired, &PlanOptions::default()).map_err(|e| e.to_string())?;
    for step in &made.steps {
        let flagged = step
            .hazards
            .iter()
            .any(|h| matches!(h.kind, HazardKind::TableRewrite | HazardKind::LongLock));
        if step.lock == LockMode::AccessExclusive && step.table_work != TableWork::None && !flagged
        {
            return Err(format!(
                "{} holds ACCESS EXCLUSIVE while it scans or rewrites, with no hazard",
                step.description
            ));
        }
    }
    run_steps(
        &db.client,
        &made.steps,
        1,
        &ApplyOptions::default(),
        None,
        &mut |_| {},
    )
    .await
    .map_err(|e| format!("apply failed: {e}"))?;
    let after = introspect(&db.client).await.map_err(|e| e.to_string())?;
    let left: Vec<String> = diff(&after, &desired)
        .iter()
        .map(|c| format!("{}: {}", c.object(), c.summary()))
        .collect();
    if !left.is_empty() {
        return Err(format!("still different: {left:?}"));
    }
    let again = plan(&after, &desired, &PlanOptions::default()).map_err(|e| e.to_string())?;
    if !again.is_empty() {
        let steps: Vec<&str> = again.steps.iter().map(|s| s.description.as_str()).collect();
        return Err(format!("a second plan is not empty: {steps:?}"));
    }
    Ok(())
}

/// A runner with a fixed seed; `ZDM_PROPTEST_CASES` sets the number of cases for a longer
/// hunt (each case costs two databases and a shadow), and `ZDM_PROPTEST_SEED` (a number)
/// moves every property to other seeds (each property's own seed plus that number), so a
/// hunt can cover other cases than CI's while a failure stays repeatable.
fn runner(default_cases: u32, seed: u64) -> TestRunner {
    let env = |name: &str| std::env::var(name).ok().and_then(|n| n.parse::<u64>().ok());
    TestRunner::new(Config {
        cases: env("ZDM_PROPTEST_CASES").map_or(default_cases, |n| n as u32),
        rng_seed: RngSeed::Fixed(seed.wrapping_add(env("ZDM_PROPTEST_SEED").unwrap_or(0))),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    })
}

fn check_pair(
    runtime: &tokio::runtime::Runtime,
    from: String,
    to: String,
) -> Result<(), TestCaseError> {
    runtime
        .block_on(converges(&from, &to))
        .map_err(|e| TestCaseError::fail(format!("{e}\n--- from ---\n{from}\n--- to ---\n{to}")))
}

#[test]
fn random_schema_pairs_converge() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let result = runner(100, 0x7a646d).run(&(schema(), schema()), |(from, to)| {
        check_pair(&runtime, ddl(&from), ddl(&to))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn random_schema_pairs_with_views_functions_triggers_converge() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let side = || (schema(), objects());
    let result = runner(80, 0x766674).run(&(side(), side()), |((from, a), (to, b))| {
        let from = ddl(&from) + &objects_ddl(&from, &a);
        let to = ddl(&to) + &objects_ddl(&to, &b);
        check_pair(&runtime, from, to)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn random_schema_pairs_with_partitions_sequences_enums_generated_domains_converge() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let result = runner(60, 0x6b6e64).run(&(kinds::kinds(), kinds::kinds()), |(from, to)| {
        check_pair(&runtime, kinds::kinds_ddl(&from), kinds::kinds_ddl(&to))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Shrunk counterexamples the third property found, kept as fixed pairs (each was a plan
/// that did not converge before its fix).
#[test]
fn known_counterexamples_of_the_kinds_property_converge() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut failures = Vec::new();
    for (name, from, to) in kinds::known_counterexamples() {
        let (from, to) = (kinds::kinds_ddl(&from), kinds::kinds_ddl(&to));
        if let Err(e) = runtime.block_on(converges(&from, &to)) {
            failures.push(format!(
                "{name}: {e}\n--- from ---\n{from}\n--- to ---\n{to}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
