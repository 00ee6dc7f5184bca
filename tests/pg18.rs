//! What PostgreSQL 18 adds, table-driven: NOT NULL constraints by name, NOT NULL added
//! `NOT VALID` and validated, virtual generated columns, temporal (`WITHOUT OVERLAPS`) keys
//! and `PERIOD` foreign keys. Each case: the live schema with rows, the desired schema, the
//! hazards the plan carries, text the plan's SQL must (or, with `!`, must not) hold on 18 and
//! before; then every phase applied, `zdm diff` clean, a second plan empty, the rows the same
//! and the normalised schema equal to one built from the desired schema.
//!
//! A case that needs 18 is run on 18 and newer only; on an older server it is reported as
//! skipped (each test prints what it ran and what it skipped), never counted as passed. The
//! cases whose old path exists before 18 (the helper-check NOT NULL) run on every major.

#[path = "cli_support/mod.rs"]
mod cli_support;
#[path = "common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "conformance/mod.rs"]
mod conformance;

use std::collections::BTreeSet;

use cli_support::{apply_all, schema_dir, zdm_on};

struct Case {
    name: &'static str,
    /// The oldest major the case's SQL loads on (18 for 18's syntax).
    since: u32,
    old: &'static str,
    /// Rows put into the live tables after `old` is loaded.
    setup: &'static str,
    new: &'static str,
    /// Hazard kinds the plan carries (on every major the case runs on).
    hazards: &'static [&'static str],
    /// What the plan's SQL must hold on 18 and newer (`!text`: must not).
    plan_18: &'static [&'static str],
    /// The same before 18.
    plan_before_18: &'static [&'static str],
    /// A query whose result must be the same before the plan and after it (empty: none).
    rows: &'static str,
}

const NOT_NULL: &[Case] = &[
    Case {
        name: "set not null on a filled column",
        since: 13,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, v text);",
        setup: "INSERT INTO public.t SELECT g, 'x' || g FROM generate_series(1, 50) g;",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, v text NOT NULL);",
        hazards: &["may-fail"],
        plan_18: &[
            "ADD CONSTRAINT t_v_not_null NOT NULL v NOT VALID",
            "VALIDATE CONSTRAINT t_v_not_null",
            "!zdm_nn",
            "!SET NOT NULL",
        ],
        plan_before_18: &["CHECK (v IS NOT NULL) NOT VALID", "SET NOT NULL"],
        rows: "SELECT id, v FROM public.t ORDER BY id",
    },
    Case {
        name: "new NOT NULL column with a backfill",
        since: 13,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, first text);",
        setup: "INSERT INTO public.t SELECT g, 'n' || g FROM generate_series(1, 20) g;",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, first text,
              -- zdm:backfill upper(first)
              shout text NOT NULL);",
        hazards: &[],
        plan_18: &[
            "ADD CONSTRAINT t_shout_not_null NOT NULL shout NOT VALID",
            "!zdm_nn",
        ],
        plan_before_18: &["CHECK (shout IS NOT NULL) NOT VALID"],
        rows: "SELECT id, first FROM public.t ORDER BY id",
    },
    Case {
        name: "NOT NULL with a name of its own",
        since: 13,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, v int);",
        setup: "INSERT INTO public.t VALUES (1, 1), (2, 2);",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, v int CONSTRAINT v_present NOT NULL);",
        hazards: &["may-fail"],
        plan_18: &["ADD CONSTRAINT v_present NOT NULL v NOT VALID"],
        plan_before_18: &["SET NOT NULL"],
        rows: "SELECT id, v FROM public.t ORDER BY id",
    },
];

const NAMES: &[Case] = &[
    Case {
        name: "a NOT NULL renamed in place",
        since: 18,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, v int CONSTRAINT old_name NOT NULL);",
        setup: "INSERT INTO public.t VALUES (1, 1);",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, v int CONSTRAINT new_name NOT NULL);",
        hazards: &[],
        plan_18: &["RENAME CONSTRAINT old_name TO new_name", "!DROP NOT NULL"],
        plan_before_18: &[],
        rows: "SELECT id, v FROM public.t ORDER BY id",
    },
    Case {
        name: "a table created with LIKE keeps its source's NOT NULL names",
        since: 18,
        old: "CREATE TABLE public.base (created timestamptz NOT NULL DEFAULT now());",
        setup: "",
        new: "CREATE TABLE public.base (created timestamptz NOT NULL DEFAULT now());
              CREATE TABLE public.child (id int PRIMARY KEY, LIKE public.base INCLUDING DEFAULTS);",
        hazards: &[],
        plan_18: &["CONSTRAINT base_created_not_null NOT NULL"],
        plan_before_18: &[],
        rows: "",
    },
];

const VIRTUAL: &[Case] = &[
    Case {
        name: "add a virtual generated column (no rewrite)",
        since: 18,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, slug text NOT NULL);",
        setup: "INSERT INTO public.t SELECT g, 's' || g FROM generate_series(1, 30) g;",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, slug text NOT NULL,
              urn text GENERATED ALWAYS AS ('urn:' || slug) VIRTUAL);",
        hazards: &[],
        plan_18: &["GENERATED ALWAYS AS (('urn:'::text || slug)) VIRTUAL"],
        plan_before_18: &[],
        rows: "SELECT id, slug FROM public.t ORDER BY id",
    },
    Case {
        name: "change a virtual column's expression in place",
        since: 18,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, slug text NOT NULL,
              urn text GENERATED ALWAYS AS ('urn:' || slug) VIRTUAL);",
        setup: "INSERT INTO public.t SELECT g, 's' || g FROM generate_series(1, 30) g;",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, slug text NOT NULL,
              urn text GENERATED ALWAYS AS ('urn:x:' || slug) VIRTUAL);",
        hazards: &[],
        plan_18: &["SET EXPRESSION AS", "!DROP COLUMN"],
        plan_before_18: &[],
        rows: "SELECT id, slug FROM public.t ORDER BY id",
    },
    Case {
        name: "a stored generated column becomes virtual",
        since: 18,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, n int NOT NULL,
              twice int GENERATED ALWAYS AS (n * 2) STORED);",
        setup: "INSERT INTO public.t SELECT g, g FROM generate_series(1, 30) g;",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, n int NOT NULL,
              twice int GENERATED ALWAYS AS (n * 2) VIRTUAL);",
        hazards: &[],
        plan_18: &[
            "DROP COLUMN twice, ADD COLUMN twice integer GENERATED ALWAYS AS ((n * 2)) VIRTUAL",
        ],
        plan_before_18: &[],
        rows: "SELECT id, n, twice FROM public.t ORDER BY id",
    },
    Case {
        name: "drop a virtual generated column",
        since: 18,
        old: "CREATE TABLE public.t (id int PRIMARY KEY, n int,
              twice int GENERATED ALWAYS AS (n * 2) VIRTUAL);",
        setup: "INSERT INTO public.t SELECT g, g FROM generate_series(1, 30) g;",
        new: "CREATE TABLE public.t (id int PRIMARY KEY, n int);",
        hazards: &["data-loss"],
        plan_18: &["DROP COLUMN twice"],
        plan_before_18: &[],
        rows: "SELECT id, n FROM public.t ORDER BY id",
    },
];

const TEMPORAL: &[Case] = &[Case {
    name: "add a WITHOUT OVERLAPS primary key and a PERIOD foreign key",
    since: 18,
    old: "CREATE EXTENSION IF NOT EXISTS btree_gist;
              CREATE TABLE public.rooms (id int NOT NULL, valid tsrange NOT NULL);
              CREATE TABLE public.bookings (room int NOT NULL, during tsrange NOT NULL);",
    setup: "INSERT INTO public.rooms VALUES (1, '[2024-01-01,2025-01-01)');
                INSERT INTO public.bookings VALUES (1, '[2024-02-01,2024-02-03)');",
    new: "CREATE EXTENSION IF NOT EXISTS btree_gist;
              CREATE TABLE public.rooms (id int NOT NULL, valid tsrange NOT NULL,
                  CONSTRAINT rooms_pkey PRIMARY KEY (id, valid WITHOUT OVERLAPS));
              CREATE TABLE public.bookings (room int NOT NULL, during tsrange NOT NULL,
                  CONSTRAINT bookings_room_fkey FOREIGN KEY (room, PERIOD during)
                      REFERENCES public.rooms (id, PERIOD valid));",
    hazards: &["long-lock", "may-fail"],
    plan_18: &["WITHOUT OVERLAPS", "PERIOD during", "!CREATE UNIQUE INDEX"],
    plan_before_18: &[],
    rows: "SELECT * FROM public.bookings ORDER BY room",
}];

async fn snapshot(db: &common::TestDb, query: &str) -> Result<String, String> {
    let wrapped = format!("SELECT coalesce(json_agg(q)::text, '[]') FROM ({query}) q");
    let row = db
        .client
        .query_one(wrapped.as_str(), &[])
        .await
        .map_err(|e| format!("{query}: {e}"))?;
    Ok(row.get(0))
}

fn plan_facts(json: &str) -> Result<(BTreeSet<String>, String), String> {
    let plan: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("plan JSON: {e}\n{json}"))?;
    let steps = plan["steps"].as_array().ok_or("plan JSON has no steps")?;
    let hazards = steps
        .iter()
        .flat_map(|s| s["hazards"].as_array().cloned().unwrap_or_default())
        .filter_map(|h| h["kind"].as_str().map(str::to_string))
        .collect();
    let sql = steps
        .iter()
        .filter_map(|s| s["sql"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    Ok((hazards, sql))
}

async fn converge(case: &Case, major: u32) -> Result<(), String> {
    let live = common::test_db().await;
    let built = common::test_db().await;
    live.exec(case.old).await;
    live.exec(case.setup).await;
    built.exec(case.new).await;
    let before = match case.rows {
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
    let (hazards, sql) = plan_facts(&plan.stdout)?;
    let expected: BTreeSet<String> = case.hazards.iter().map(|h| h.to_string()).collect();
    if hazards != expected {
        return Err(format!("hazards {hazards:?}, expected {expected:?}\n{sql}"));
    }
    let wanted = if major >= 18 {
        case.plan_18
    } else {
        case.plan_before_18
    };
    for want in wanted {
        let ok = match want.strip_prefix('!') {
            Some(absent) => !sql.contains(absent),
            None => sql.contains(want),
        };
        if !ok {
            return Err(format!("plan SQL and {want:?}:\n{sql}"));
        }
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
    if let Some(before) = before {
        let after = snapshot(&live, case.rows).await?;
        if after != before {
            return Err(format!("rows changed:\nbefore {before}\nafter  {after}"));
        }
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
        return Err(format!("schema differs:\n{diff}"));
    }
    Ok(())
}

/// Run the cases this server can load; print which ran and which were skipped (and why).
async fn run(label: &str, cases: &[Case]) {
    let admin = common::test_db().await;
    let major = conformance::server_major(&admin.client).await;
    let mut failures = Vec::new();
    let (mut ran, mut skipped) = (0, Vec::new());
    for case in cases {
        if major < case.since {
            skipped.push(format!("{} (needs PostgreSQL {})", case.name, case.since));
            continue;
        }
        ran += 1;
        if let Err(e) = converge(case, major).await {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    println!(
        "{label} on PostgreSQL {major}: {ran} case(s) run, {} skipped{}",
        skipped.len(),
        skipped
            .iter()
            .map(|s| format!("\n  SKIPPED {s}"))
            .collect::<String>()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} case(s) failed on PostgreSQL {major}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_null_recipes() {
    run("NOT NULL", NOT_NULL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_null_names_18() {
    run("NOT NULL names", NAMES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_generated_columns_18() {
    run("virtual generated columns", VIRTUAL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporal_keys_18() {
    run("temporal keys", TEMPORAL).await;
}
