//! `zdm plan` and `zdm apply` gating through the real binary, on the bundled example.

mod cli_support;
mod common;

use cli_support::{
    apply_all, column_exists, example_schema_dir, filters, gating_schema, v1_db, zdm_on, Run,
};
use serde_json::Value;

async fn plan(db: &common::TestDb, extra: &[&str]) -> Run {
    zdm_on(&["plan"], &db.conninfo, &example_schema_dir(), extra).await
}

fn steps(plan: &Value) -> Vec<(String, String, bool, Vec<String>)> {
    plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["phase"].as_str().unwrap().to_string(),
                s["sql"].as_str().unwrap().to_string(),
                s["transactional"].as_bool().unwrap(),
                s["hazards"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|h| h["kind"].as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect()
}

#[tokio::test]
async fn plan_of_the_bundled_example() {
    let db = v1_db().await;
    let human = plan(&db, &[]).await;
    let sql = plan(&db, &["--format", "sql"]).await;
    let json = plan(&db, &["--format", "json"]).await;
    check_example_plan("live", &human, &sql, &json);
}

/// `zdm plan --from examples/shop/v1 --to schema`: no live database, the tables are assumed
/// to hold rows.
#[tokio::test]
async fn offline_plan_of_the_bundled_example() {
    let from = cli_support::repo_path("examples/shop/v1")
        .display()
        .to_string();
    let to = example_schema_dir().display().to_string();
    let run = |format: &'static str| {
        let (from, to) = (from.clone(), to.clone());
        async move {
            cli_support::zdm(&[
                "plan",
                "--from",
                &from,
                "--to",
                &to,
                "--dev-url",
                &cli_support::dev_url(),
                "--format",
                format,
            ])
            .await
        }
    };
    let (human, sql, json) = (run("human").await, run("sql").await, run("json").await);
    check_example_plan("offline", &human, &sql, &json);
    // deterministic: the same again, byte for byte
    for (format, first) in [("human", &human), ("sql", &sql), ("json", &json)] {
        assert_eq!(run(format).await.stdout, first.stdout, "{format}");
    }
}

fn check_example_plan(label: &str, human: &Run, sql: &Run, json: &Run) {
    for run in [human, sql, json] {
        assert_eq!(run.code, 1, "{}", run.text());
        // The rehearsal copies the live side exactly: no note that the copy differs.
        assert!(!run.stderr.contains("rehearsal"), "{}", run.text());
    }
    // 18 sets display_name NOT NULL by its own NOT VALID constraint (two steps, no helper).
    insta::with_settings!({ filters => filters(), snapshot_suffix => common::suffix_of_18() }, {
        insta::assert_snapshot!(format!("plan_example_{label}_human"), human.stdout);
        insta::assert_snapshot!(format!("plan_example_{label}_sql"), sql.stdout);
        insta::assert_snapshot!(format!("plan_example_{label}_json"), json.stdout);
    });

    // The seed's migration, fact by fact (issue 3).
    let value: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["format_version"], 1, "{}", json.stdout);
    cli_support::schema::assert_valid_plan(&value);
    let steps = steps(&value);
    let find = |phase: &str, needle: &str| {
        steps
            .iter()
            .position(|(p, s, _, _)| p == phase && s.contains(needle))
            .unwrap_or_else(|| panic!("no {phase} step with {needle:?}:\n{}", human.stdout))
    };
    // expand: display_name nullable, org_id, the index concurrently, CHECK and FK NOT VALID
    let add_display = find("expand", "ADD COLUMN display_name character varying(200)");
    assert!(
        !steps[add_display].1.contains("NOT NULL"),
        "{}",
        steps[add_display].1
    );
    find("expand", "ADD COLUMN org_id uuid");
    let index = find(
        "expand",
        "CREATE INDEX CONCURRENTLY idx_orders_customer_date ON public.orders",
    );
    assert!(
        !steps[index].2,
        "a concurrent build runs outside a transaction"
    );
    find(
        "expand",
        "ADD CONSTRAINT chk_amount_positive CHECK (amount > 0) NOT VALID",
    );
    find(
        "expand",
        "ADD CONSTRAINT orders_org_id_fkey FOREIGN KEY (org_id) REFERENCES public.orgs(id) NOT VALID",
    );
    // validate: both validated; NOT NULL via a validated CHECK, in that order (on 18 via its
    // own NOT NULL constraint, added NOT VALID and validated: no SET NOT NULL)
    find("validate", "VALIDATE CONSTRAINT chk_amount_positive");
    find("validate", "VALIDATE CONSTRAINT orders_org_id_fkey");
    if common::suffix_of_18() == "pg18" {
        let add = find(
            "validate",
            "ADD CONSTRAINT users_display_name_not_null NOT NULL display_name NOT VALID",
        );
        let validate = find(
            "validate",
            "VALIDATE CONSTRAINT users_display_name_not_null",
        );
        assert!(add < validate);
        assert!(!steps.iter().any(|(_, s, ..)| s.contains("SET NOT NULL")));
    } else {
        let check = find("validate", "CHECK (display_name IS NOT NULL) NOT VALID");
        let validate = find("validate", "VALIDATE CONSTRAINT zdm_nn_display_name");
        let set_not_null = find("validate", "ALTER COLUMN display_name SET NOT NULL");
        assert!(check < validate && validate < set_not_null);
    }
    // contract: the old columns go, with a data-loss hazard each
    for column in ["first_name", "last_name", "legacy_field"] {
        let drop = find("contract", &format!("DROP COLUMN {column}"));
        assert_eq!(steps[drop].3, ["data-loss"]);
    }
    // phases in order, and none of the dangerous forms anywhere
    let order = ["expand", "backfill", "validate", "contract"];
    let ranks: Vec<usize> = steps
        .iter()
        .map(|(p, ..)| order.iter().position(|o| o == p).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    for (phase, sql, ..) in &steps {
        assert!(!sql.contains("CREATE INDEX idx"), "{phase}: {sql}");
        let adds_constraint = sql.contains("ADD CONSTRAINT") && !sql.contains("USING INDEX");
        assert!(
            !adds_constraint || sql.contains("NOT VALID"),
            "{phase}: {sql}"
        );
    }
    // the script a person would run: lock_timeout, CONCURRENTLY outside BEGIN/COMMIT
    assert!(sql.stdout.contains("SET LOCAL lock_timeout = '100ms';"));
    assert!(sql.stdout.contains("-- ===== phase: validate ====="));
    let concurrently = sql.stdout.find("CREATE INDEX CONCURRENTLY").unwrap();
    let before = &sql.stdout[..concurrently];
    assert!(
        before.rfind("BEGIN;").unwrap() < before.rfind("COMMIT;").unwrap(),
        "CREATE INDEX CONCURRENTLY inside a transaction:\n{}",
        sql.stdout
    );
}

#[tokio::test]
async fn plans_are_deterministic() {
    // two databases built alike, planned twice each: byte-identical, whatever the db name
    let a = v1_db().await;
    let b = v1_db().await;
    for format in ["human", "sql", "json"] {
        let first = plan(&a, &["--format", format]).await;
        assert_eq!(first.code, 1, "{}", first.text());
        for (db, label) in [(&a, "again"), (&b, "other database")] {
            let again = plan(db, &["--format", format]).await;
            assert_eq!(first.stdout, again.stdout, "{format}, {label}");
        }
    }
}

#[tokio::test]
async fn a_later_phase_waits_for_an_earlier_one() {
    let db = v1_db().await;
    let run = zdm_on(
        &[
            "apply",
            "--phase",
            "validate",
            "--yes",
            "--allow-hazards",
            "all",
        ],
        &db.conninfo,
        gating_schema().path(),
        &[],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.contains("cannot run validate"), "{}", run.text());
    assert!(run.stderr.contains("--phase expand"), "{}", run.text());
    assert!(!column_exists(&db, "orders", "org_id").await);
    assert!(!column_exists(&db, "users", "display_name").await);
}

#[tokio::test]
async fn hazards_need_to_be_allowed() {
    let db = v1_db().await;
    let dir = gating_schema();
    let schema = dir.path().to_path_buf();
    for phase in ["expand", "backfill", "validate"] {
        let run = zdm_on(
            &[
                "apply",
                "--phase",
                phase,
                "--yes",
                "--allow-hazards",
                "may-fail",
            ],
            &db.conninfo,
            &schema,
            &[],
        )
        .await;
        assert_eq!(run.code, 0, "{phase}: {}", run.text());
    }
    // contract drops columns: data-loss must be allowed by name (or `all`)
    for allow in [&[][..], &["--allow-hazards", "may-fail,long-lock"][..]] {
        let mut args = vec!["--skip-rollback-window"];
        args.extend_from_slice(allow);
        let run = contract(&db, &schema, &args).await;
        assert_eq!(run.code, 2, "{allow:?}: {}", run.text());
        assert!(run.stderr.contains("data-loss"), "{}", run.text());
        assert!(
            column_exists(&db, "users", "legacy_field").await,
            "dropped anyway"
        );
    }
    let run = contract(
        &db,
        &schema,
        &["--skip-rollback-window", "--allow-hazards", "data-loss"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!column_exists(&db, "users", "legacy_field").await);

    // converged: nothing is left to do
    assert_eq!(zdm_on(&["diff"], &db.conninfo, &schema, &[]).await.code, 0);
    let again = zdm_on(&["plan"], &db.conninfo, &schema, &[]).await;
    assert_eq!(again.code, 0, "{}", again.text());
    // and a second apply has nothing to do
    assert_eq!(apply_all(&db.conninfo, &schema).await.code, 0);
}

/// Expand, backfill and validate of the gating schema, each of which must succeed.
async fn apply_up_to_contract(db: &common::TestDb, schema: &std::path::Path) {
    for phase in ["expand", "backfill", "validate"] {
        let run = zdm_on(
            &["apply", "--phase", phase, "--yes", "--allow-hazards", "all"],
            &db.conninfo,
            schema,
            &[],
        )
        .await;
        assert_eq!(run.code, 0, "{phase}: {}", run.text());
    }
}

async fn contract(db: &common::TestDb, schema: &std::path::Path, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "--phase", "contract", "--yes"];
    args.extend_from_slice(extra);
    zdm_on(&args, &db.conninfo, schema, &[]).await
}

#[tokio::test]
async fn contract_waits_for_the_rollback_window() {
    let db = v1_db().await;
    let dir = gating_schema();
    apply_up_to_contract(&db, dir.path()).await;

    let run = contract(&db, dir.path(), &["--allow-hazards", "all"]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("the rollback window is 24h"),
        "{}",
        run.text()
    );
    assert!(column_exists(&db, "users", "legacy_field").await);

    let run = contract(
        &db,
        dir.path(),
        &["--allow-hazards", "all", "--rollback-window", "1h"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("the rollback window is 1h"),
        "{}",
        run.text()
    );

    // A window that has passed lets contract run.
    let run = contract(
        &db,
        dir.path(),
        &["--allow-hazards", "all", "--rollback-window", "0s"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!column_exists(&db, "users", "legacy_field").await);
}

#[tokio::test]
async fn contract_refuses_while_pg_stat_statements_shows_the_old_code() {
    assert!(
        common::cluster()
            .preloaded()
            .contains(&"pg_stat_statements".to_string()),
        "the PostgreSQL installation under test lacks pg_stat_statements (a contrib module)"
    );
    let db = v1_db().await;
    db.exec("CREATE EXTENSION pg_stat_statements").await;
    let dir = gating_schema();
    apply_up_to_contract(&db, dir.path()).await;
    // The old application still reads a column contract is about to drop.
    for id in 1..=3 {
        db.exec(&format!("SELECT legacy_field FROM users WHERE id = {id}"))
            .await;
    }

    let run = contract(
        &db,
        dir.path(),
        &["--allow-hazards", "all", "--skip-rollback-window"],
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains(
            "column users.legacy_field (3 call(s)): SELECT legacy_field FROM users WHERE id = $1"
        ),
        "{}",
        run.text()
    );
    assert!(column_exists(&db, "users", "legacy_field").await);

    let run = contract(
        &db,
        dir.path(),
        &[
            "--allow-hazards",
            "all",
            "--skip-rollback-window",
            "--force",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(run.stderr.contains("--force"), "{}", run.text());
    assert!(!column_exists(&db, "users", "legacy_field").await);
}

#[tokio::test]
async fn a_view_over_a_dropped_column_is_dropped_first() {
    let db = v1_db().await;
    db.exec("CREATE VIEW user_names AS SELECT id, first_name FROM users;")
        .await;
    let dir = gating_schema();
    let run = zdm_on(&["plan"], &db.conninfo, dir.path(), &["--format", "json"]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    let value: Value = serde_json::from_str(&run.stdout).unwrap();
    cli_support::schema::assert_valid_plan(&value);
    let steps = value["steps"].as_array().unwrap();
    let position = |needle: &str| {
        steps
            .iter()
            .position(|s| s["sql"].as_str().unwrap().contains(needle))
            .unwrap_or_else(|| panic!("no step with {needle}: {}", run.stdout))
    };
    // The view is not in the desired schema: it is dropped before the column it reads (in
    // the column's own step), so the drop no longer runs into it: no may-fail hazard.
    assert!(position("DROP VIEW public.user_names") <= position("DROP COLUMN first_name"));
    let may_fail = steps
        .iter()
        .flat_map(|s| s["hazards"].as_array().unwrap())
        .any(|h| h["kind"] == "may-fail" && h["message"].as_str().unwrap().contains("view"));
    assert!(!may_fail, "{}", run.stdout);

    apply_up_to_contract(&db, dir.path()).await;
    let run = contract(
        &db,
        dir.path(),
        &["--skip-rollback-window", "--allow-hazards", "data-loss"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!column_exists(&db, "users", "first_name").await);
}

#[tokio::test]
async fn zdm_toml_allows_hazards_when_the_flag_is_absent() {
    let db = v1_db().await;
    let dir = gating_schema();
    let schema = dir.path().to_path_buf();
    let config = dir.path().join("zdm.toml");
    let config_arg = config.to_string_lossy().into_owned();
    let run_phase = |phase: &'static str| {
        let (conninfo, schema, config) = (db.conninfo.clone(), schema.clone(), config_arg.clone());
        async move {
            zdm_on(
                &[
                    "apply",
                    "--phase",
                    phase,
                    "--yes",
                    "--skip-rollback-window",
                    "--config",
                    &config,
                ],
                &conninfo,
                &schema,
                &[],
            )
            .await
        }
    };
    std::fs::write(&config, "[apply]\nallow_hazards = [\"mayfail\"]\n").unwrap();
    let run = run_phase("expand").await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.contains("allow_hazards"), "{}", run.text());
    assert!(run.stderr.contains("\"mayfail\""), "{}", run.text());

    std::fs::write(&config, "[apply]\nallow_hazards = []\n").unwrap();
    for phase in ["expand", "backfill", "validate"] {
        let run = run_phase(phase).await;
        assert_eq!(run.code, 0, "{phase}: {}", run.text());
    }
    // contract drops a column: data-loss, allowed neither by a flag nor by the file
    let run = run_phase("contract").await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr.contains("--allow-hazards data-loss"),
        "{}",
        run.text()
    );
    assert!(column_exists(&db, "users", "legacy_field").await);

    std::fs::write(&config, "[apply]\nallow_hazards = [\"data-loss\"]\n").unwrap();
    let run = run_phase("contract").await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(!column_exists(&db, "users", "legacy_field").await);
}
