//! The CI and monitoring formats through the real binary: `--format github` and `markdown`
//! for diff and plan, versioned JSON (checked against `docs/*.schema.json`), and
//! `zdm status --format json`.

mod cli_support;
mod common;

use cli_support::schema::{assert_valid_diff, assert_valid_plan, errors};
use cli_support::{example_schema_dir, filters, gating_schema, schema_dir, v1_db, zdm_on, Run};
use serde_json::{json, Value};

async fn example(verb: &str, db: &common::TestDb, format: &str) -> Run {
    zdm_on(
        &[verb],
        &db.conninfo,
        &example_schema_dir(),
        &["--format", format],
    )
    .await
}

/// The line of `schema/<file>` where `needle` starts (1-based).
fn line_of(file: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(example_schema_dir().join(file)).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

/// A database holding the desired schema itself: nothing to do.
async fn converged_db() -> common::TestDb {
    let db = common::test_db().await;
    for file in ["orgs.sql", "users.sql", "orders.sql"] {
        db.exec(&std::fs::read_to_string(example_schema_dir().join(file)).unwrap())
            .await;
    }
    db
}

/// The bundled example's validate steps and step count: 18 sets display_name NOT NULL in two
/// steps (its own NOT VALID constraint, validated) where 13-17 take four (a helper check).
fn example_counts() -> (usize, usize) {
    match common::suffix_of_18() {
        "pg18" => (4, 15),
        _ => (6, 17),
    }
}

/// The summary line of the bundled example's plan.
fn example_summary() -> String {
    let (validate, steps) = example_counts();
    format!("::notice title=zdm plan::{steps} step(s): 6 expand, 1 backfill, {validate} validate, 4 contract; 5 hazard(s)")
}

#[tokio::test]
async fn plan_as_github_annotations() {
    let db = v1_db().await;
    let run = example("plan", &db, "github").await;
    assert_eq!(run.code, 1, "{}", run.text());
    let lines: Vec<&str> = run.stdout.lines().collect();
    // One warning per hazard of the JSON plan, in plan order, with its kind in the title.
    let plan: Value = serde_json::from_str(&example("plan", &db, "json").await.stdout).unwrap();
    let kinds: Vec<String> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["hazards"].as_array().unwrap().clone())
        .map(|h| h["kind"].as_str().unwrap().to_string())
        .collect();
    let warnings: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(warnings.len(), kinds.len(), "{}", run.text());
    for (warning, kind) in warnings.iter().zip(&kinds) {
        assert!(
            warning.contains(&format!(",title=zdm hazard {kind}::")),
            "{warning}"
        );
    }
    // A dropped column points at its table's CREATE TABLE in the desired files.
    let users = line_of("users.sql", "CREATE TABLE users");
    // `:` is escaped in the properties only: the message keeps its own.
    let drop = format!(
        "::warning file=schema/users.sql,line={users},title=zdm hazard data-loss::drop column legacy_field from public.users: column public.users.legacy_field is dropped: its values are deleted"
    );
    assert!(
        lines.contains(&drop.as_str()),
        "want {drop}\n{}",
        run.text()
    );
    let orders = line_of("orders.sql", "CREATE TABLE orders");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "::warning file=schema/orders.sql,line={orders},title=zdm hazard may-fail::validate constraint chk_amount_positive"
        ))),
        "{}",
        run.text()
    );
    assert_eq!(
        lines.last().copied(),
        Some(example_summary().as_str()),
        "{}",
        run.text()
    );
    assert_eq!(lines.len(), kinds.len() + 1, "{}", run.text());
}

#[tokio::test]
async fn plan_as_a_markdown_comment() {
    let db = v1_db().await;
    // statistics for the row estimates
    db.exec("ANALYZE").await;
    let run = example("plan", &db, "markdown").await;
    assert_eq!(run.code, 1, "{}", run.text());
    let md = &run.stdout;
    let (validate, last) = example_counts();
    for fact in [
        "## zdm plan\n",
        &format!("| Phase | Steps | Hazards |\n|---|---:|---:|\n| expand | 6 | 0 |\n| backfill | 1 | 0 |\n| validate | {validate} | 2 |\n| contract | 4 | 3 |\n"),
        "\n### Phase: contract\n",
        &format!("#### {last}. drop column legacy\\_field from public.users\n\n- **Lock:** ACCESS EXCLUSIVE on `public.users`\n- **Table:** catalog only\n- **Runs:** in a transaction\n\n> [!WARNING]\n> **data-loss:** column public.users.legacy\\_field is dropped: its values are deleted\n\n```sql\nALTER TABLE public.users DROP COLUMN legacy_field;\n```\n"),
        // the concurrent build: a scan, outside a transaction, with the live row estimate
        "- **Table:** scans the table\n- **Runs:** outside a transaction\n- **Rows:** about 500 (live statistics, `pg_class.reltuples`)\n",
        "- **Runs:** in batches, each committed on its own\n- **Rows:** about 500",
    ] {
        assert!(md.contains(fact), "missing {fact:?}:\n{md}");
    }
    insta::with_settings!({ filters => filters(), snapshot_suffix => common::suffix_of_18() }, {
        insta::assert_snapshot!("plan_example_markdown", md);
    });
}

#[tokio::test]
async fn nothing_to_do_is_one_line() {
    let db = converged_db().await;
    let cases = [
        (
            "plan",
            "markdown",
            "**zdm plan:** no changes, the database matches the desired schema.\n",
        ),
        (
            "plan",
            "github",
            "::notice title=zdm plan::nothing to do: the database matches the desired schema\n",
        ),
        (
            "diff",
            "markdown",
            "**zdm diff:** no changes, the database matches the desired schema.\n",
        ),
        (
            "diff",
            "github",
            "::notice title=zdm diff::no differences\n",
        ),
    ];
    for (verb, format, want) in cases {
        let run = example(verb, &db, format).await;
        assert_eq!(run.code, 0, "{verb} {format}: {}", run.text());
        assert_eq!(run.stdout, want, "{verb} {format}");
    }
}

#[tokio::test]
async fn diff_as_github_annotations_and_markdown() {
    let db = v1_db().await;
    let run = example("diff", &db, "github").await;
    assert_eq!(run.code, 1, "{}", run.text());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.text());
    let orders = line_of("orders.sql", "CREATE TABLE orders");
    assert!(
        lines[0].starts_with(&format!(
            "::notice file=schema/orders.sql,line={orders},title=zdm diff alter::alter table public.orders: "
        )) && lines[0].contains("idx_orders_customer_date"),
        "{}",
        run.text()
    );
    let users = line_of("users.sql", "CREATE TABLE users");
    assert!(
        lines[1].starts_with(&format!(
            "::notice file=schema/users.sql,line={users},title=zdm diff alter::alter table public.users: "
        )) && lines[1].contains("legacy_field"),
        "{}",
        run.text()
    );
    assert_eq!(
        lines[2],
        "::notice title=zdm diff::2 object(s) differ: 0 to create, 2 to alter, 0 to drop"
    );

    let run = example("diff", &db, "markdown").await;
    assert_eq!(run.code, 1, "{}", run.text());
    let md = &run.stdout;
    for fact in [
        "## zdm diff\n\n2 object(s) differ: 0 to create, 2 to alter, 0 to drop.\n",
        "- **alter** table `public.orders`\n",
        "- **alter** table `public.users`\n",
        "  ```diff\n  --- live\n  +++ desired\n",
        "\n  +CREATE INDEX idx_orders_customer_date ON public.orders USING btree (customer_id, created_at DESC);\n",
        "\n  -    legacy_field text,\n",
    ] {
        assert!(md.contains(fact), "missing {fact:?}:\n{md}");
    }
    assert_eq!(md.matches("```diff").count(), 2, "{md}");

    let json: Value = serde_json::from_str(&example("diff", &db, "json").await.stdout).unwrap();
    assert_valid_diff(&json);
}

/// A plan with many kinds of steps and hazards matches the published schema.
#[tokio::test]
async fn a_varied_plan_matches_the_json_schema() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, name text, score integer, note text);
         INSERT INTO accounts SELECT i, 'n' || i, i, 'x' FROM generate_series(1, 50) i;
         CREATE TABLE old_stuff (id int); INSERT INTO old_stuff VALUES (1);
         CREATE FUNCTION old_f() RETURNS int LANGUAGE sql AS 'SELECT 1';
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();",
    )
    .await;
    let dir = schema_dir(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL, score integer CHECK (score >= 0), email text);
         ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
         CREATE POLICY own ON accounts USING (name = current_user);
         CREATE INDEX accounts_name ON accounts (name);
         CREATE FUNCTION new_f() RETURNS int LANGUAGE sql AS 'SELECT 2';
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
         CREATE TRIGGER accounts_touch BEFORE INSERT OR UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();",
    );
    let run = zdm_on(&["plan"], &db.conninfo, dir.path(), &["--format", "json"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let plan: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_valid_plan(&plan);
    let steps = plan["steps"].as_array().unwrap();
    let mut kinds: Vec<&str> = steps
        .iter()
        .flat_map(|s| s["hazards"].as_array().unwrap())
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    kinds.dedup();
    for kind in ["data-loss", "may-fail", "access-change"] {
        assert!(
            kinds.contains(&kind),
            "no {kind} hazard: {kinds:?}\n{}",
            run.stdout
        );
    }
    let phases: std::collections::BTreeSet<&str> =
        steps.iter().map(|s| s["phase"].as_str().unwrap()).collect();
    assert!(phases.len() >= 3, "{phases:?}");
    assert!(
        steps.iter().any(|s| s["transactional"] == false),
        "no concurrent step:\n{}",
        run.stdout
    );
}

/// One way to spoil a valid document.
type Breaks = fn(&mut Value);

/// The schemas are strict: a document of the wrong shape fails.
#[test]
fn broken_documents_fail_the_schemas() {
    let fingerprint = "0".repeat(64);
    let step = json!({
        "phase": "contract", "description": "drop column x from public.t",
        "sql": "ALTER TABLE public.t DROP COLUMN x;", "lock": "access_exclusive",
        "lock_target": "public.t", "table_work": "none", "transactional": true,
        "hazards": [{"kind": "data-loss", "message": "gone"}], "backfill": null,
        "drops": [{"column": ["public.t", "x"]}], "uses": ["default_privileges"]
    });
    let good = json!({
        "format_version": 1, "source_fingerprint": fingerprint,
        "target_fingerprint": fingerprint, "steps": [step]
    });
    assert_eq!(errors("docs/plan.schema.json", &good), Vec::<String>::new());
    let broken: [(&str, Breaks); 7] = [
        ("no version", |d| {
            d.as_object_mut().unwrap().remove("format_version");
        }),
        ("newer version", |d| d["format_version"] = json!(2)),
        ("unknown field", |d| d["extra"] = json!(true)),
        ("step without sql", |d| {
            d["steps"][0].as_object_mut().unwrap().remove("sql");
        }),
        ("unknown hazard", |d| {
            d["steps"][0]["hazards"][0]["kind"] = json!("scary")
        }),
        ("wrong phase", |d| d["steps"][0]["phase"] = json!("later")),
        ("resource of two kinds", |d| {
            d["steps"][0]["drops"][0]["relation"] = json!("public.t");
        }),
    ];
    for (what, breaks) in broken {
        let mut document = good.clone();
        breaks(&mut document);
        assert!(
            !errors("docs/plan.schema.json", &document).is_empty(),
            "{what}: accepted {document}"
        );
    }
    // a bare array of changes (the old diff output) is no longer the diff document
    let diff =
        json!({"format_version": 1, "changes": [{"change": "drop_table", "table": "public.t"}]});
    assert_eq!(errors("docs/diff.schema.json", &diff), Vec::<String>::new());
    for document in [
        json!([{"change": "drop_table", "table": "public.t"}]),
        json!({"format_version": 1, "changes": [{"change": "explode", "table": "public.t"}]}),
    ] {
        assert!(
            !errors("docs/diff.schema.json", &document).is_empty(),
            "{document}"
        );
    }
}

/// `--out` writes the versioned document; apply reads it back, and refuses a newer version.
#[tokio::test]
async fn saved_plans_carry_the_format_version() {
    let db = v1_db().await;
    let dir = gating_schema();
    let saved = tempfile::tempdir().unwrap();
    let file = saved.path().join("plan.json");
    let file_arg = file.display().to_string();
    let run = zdm_on(&["plan"], &db.conninfo, dir.path(), &["--out", &file_arg]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let document: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(document["format_version"], 1);
    assert_valid_plan(&document);

    let mut newer = document.clone();
    newer["format_version"] = json!(99);
    let newer_file = saved.path().join("newer.json");
    std::fs::write(&newer_file, newer.to_string()).unwrap();
    let apply = |path: String| {
        let schema = dir.path().to_path_buf();
        let conninfo = db.conninfo.clone();
        async move {
            zdm_on(
                &[
                    "apply",
                    "--phase",
                    "expand",
                    "--yes",
                    "--allow-hazards",
                    "all",
                ],
                &conninfo,
                &schema,
                &["--plan", &path],
            )
            .await
        }
    };
    let run = apply(newer_file.display().to_string()).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("plan format version 99"),
        "{}",
        run.text()
    );
    let run = apply(file_arg).await;
    assert_eq!(run.code, 0, "{}", run.text());
}

async fn status_json(db: &common::TestDb, schema: &std::path::Path) -> (Run, Value) {
    let run = zdm_on(&["status"], &db.conninfo, schema, &["--format", "json"]).await;
    let value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.text()));
    (run, value)
}

#[tokio::test]
async fn status_as_json_for_monitors() {
    let db = v1_db().await;
    let dir = gating_schema();
    let (run, before) = status_json(&db, dir.path()).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert_eq!(before["format_version"], 1);
    assert_eq!(before["ledger"], false);
    assert_eq!(before["backfills"], json!([]));
    let fingerprint = |v: &Value| v.as_str().is_some_and(|s| s.len() == 64);
    assert!(fingerprint(&before["desired_fingerprint"]), "{before}");
    assert!(fingerprint(&before["database_fingerprint"]), "{before}");
    let states = |v: &Value| -> Vec<(String, String)> {
        v["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["phase"].as_str().unwrap().to_string(),
                    p["state"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        states(&before),
        pairs(&[
            ("expand", "pending"),
            ("backfill", "nothing-to-do"),
            ("validate", "pending"),
            ("contract", "pending")
        ]),
        "{before}"
    );
    let contract = &before["phases"][3];
    assert!(
        contract["pending_steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(
                |s| s["description"] == "drop column legacy_field from public.users"
                    && s["hazards"] == json!(["data-loss"])
            ),
        "{before}"
    );

    let run = zdm_on(
        &[
            "apply",
            "--phase",
            "expand",
            "--yes",
            "--allow-hazards",
            "all",
        ],
        &db.conninfo,
        dir.path(),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    let (run, after) = status_json(&db, dir.path()).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert_eq!(after["ledger"], true);
    assert_eq!(after["phases"][0]["state"], "done", "{after}");
    assert_eq!(after["phases"][0]["pending_steps"], json!([]));
    let finished = after["phases"][0]["finished_at"]
        .as_str()
        .unwrap_or_default();
    // RFC 3339 in UTC: 2026-12-03T07:13:42Z
    assert!(
        finished.len() == 20 && finished.ends_with('Z') && finished.as_bytes()[10] == b'T',
        "{after}"
    );
    assert_eq!(after["phases"][3]["finished_at"], Value::Null);
    assert_ne!(
        after["database_fingerprint"],
        before["database_fingerprint"]
    );

    // formats status does not print are refused, plainly
    for format in ["sql", "github", "markdown"] {
        let run = zdm_on(&["status"], &db.conninfo, dir.path(), &["--format", format]).await;
        assert_eq!(run.code, 2, "{}", run.text());
        assert!(
            run.stderr
                .contains("zdm status prints --format human or json only"),
            "{}",
            run.text()
        );
    }
}
