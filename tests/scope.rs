//! The scope (`schemas`, `ignore` in zdm.toml, `--only-schemas` / `--ignore`): objects out of
//! it are never compared, so a plan neither drops what a library created for itself nor
//! creates what the files declare for it.

mod cli_support;
mod common;

use cli_support::{apply_all, schema_dir, zdm_on};

/// What a job-queue library and another team leave in the database, next to the app's table.
const LIVE: &str = "
    CREATE TABLE orders (id bigint PRIMARY KEY, amount int);
    CREATE TABLE hangfire_job (id serial PRIMARY KEY, payload text);
    CREATE TABLE hangfire_state (job_id int REFERENCES hangfire_job, name text);
    CREATE FUNCTION hangfire_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TRIGGER touch BEFORE UPDATE ON hangfire_job FOR EACH ROW EXECUTE FUNCTION hangfire_touch();
    CREATE VIEW hangfire_jobs AS SELECT id FROM hangfire_job;
    GRANT SELECT ON hangfire_job TO PUBLIC;
    CREATE SCHEMA reporting;
    CREATE TABLE reporting.daily (day date PRIMARY KEY);
    INSERT INTO hangfire_job (payload) VALUES ('keep me');
";

/// The app's schema files: only `orders`, plus one object of the ignored family.
const FILES: &str = "
    CREATE TABLE orders (id bigint PRIMARY KEY, amount int, note text);
    CREATE TABLE hangfire_extra (id int);
";

async fn live_db() -> common::TestDb {
    let db = common::test_db().await;
    db.exec(LIVE).await;
    db
}

#[tokio::test]
async fn ignored_objects_are_neither_dropped_nor_created() {
    let db = live_db().await;
    let files = schema_dir(FILES);
    let scope = [
        "--ignore",
        "public.hangfire_*",
        "--ignore",
        "schema:reporting",
    ];

    // Without the scope, the plan drops the library's tables (and the other team's schema).
    let unscoped = zdm_on(&["plan"], &db.conninfo, files.path(), &[]).await;
    assert_eq!(unscoped.code, 1, "{}", unscoped.text());
    assert!(
        unscoped.stdout.contains("drop table public.hangfire_job"),
        "{}",
        unscoped.text()
    );

    let plan = zdm_on(&["plan"], &db.conninfo, files.path(), &scope).await;
    assert_eq!(plan.code, 1, "{}", plan.text());
    assert!(
        plan.stdout.contains("add column note to public.orders"),
        "{}",
        plan.text()
    );
    for absent in ["hangfire", "reporting"] {
        assert!(
            !plan.stdout.contains(absent),
            "{absent} in the plan:\n{}",
            plan.text()
        );
    }
    assert!(
        plan.stderr.contains("left alone by the scope")
            && plan.stderr.contains("table public.hangfire_extra")
            && plan.stderr.contains("table public.hangfire_job"),
        "{}",
        plan.text()
    );

    let mut args = vec!["--phase", "all", "--skip-rollback-window", "--yes"];
    args.extend(scope);
    let apply = zdm_on(&["apply"], &db.conninfo, files.path(), &args).await;
    assert_eq!(apply.code, 0, "{}", apply.text());
    let diff = zdm_on(&["diff"], &db.conninfo, files.path(), &scope).await;
    assert_eq!(diff.code, 0, "{}", diff.text());
    let kept: String = db
        .client
        .query_one("SELECT payload FROM hangfire_job", &[])
        .await
        .expect("the ignored table is still there")
        .get(0);
    assert_eq!(kept, "keep me");
    let extra = db
        .client
        .query_one("SELECT to_regclass('public.hangfire_extra') IS NULL", &[])
        .await
        .unwrap();
    assert!(
        extra.get::<_, bool>(0),
        "the ignored table of the files was created"
    );
}

#[tokio::test]
async fn the_configuration_sets_the_scope_and_a_flag_wins() {
    let db = live_db().await;
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join("schema")).unwrap();
    std::fs::write(
        repo.path().join("schema/orders.sql"),
        "CREATE TABLE orders (id bigint PRIMARY KEY, amount int);",
    )
    .unwrap();
    std::fs::write(
        repo.path().join("zdm.toml"),
        "schema = [\"schema\"]\nschemas = [\"public\"]\nignore = [\"public.hangfire_*\"]\n",
    )
    .unwrap();
    let config = repo.path().join("zdm.toml").display().to_string();
    let schema = repo.path().join("schema");

    let diff = zdm_on(&["diff"], &db.conninfo, &schema, &["--config", &config]).await;
    assert_eq!(diff.code, 0, "{}", diff.text());

    // The flag replaces the configuration's list: now `reporting` is managed, and the files
    // do not declare it.
    let flag = zdm_on(
        &["diff"],
        &db.conninfo,
        &schema,
        &["--config", &config, "--only-schemas", "public,reporting"],
    )
    .await;
    assert_eq!(flag.code, 1, "{}", flag.text());
    assert!(flag.stdout.contains("reporting"), "{}", flag.text());
    assert!(!flag.stdout.contains("hangfire"), "{}", flag.text());
}

#[tokio::test]
async fn a_bad_pattern_is_an_error_and_changes_nothing() {
    let db = live_db().await;
    let files = schema_dir(FILES);
    let run = apply_all_with(&db.conninfo, files.path(), &["--ignore", "hangfire_*"]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(
        run.stderr
            .contains("ignore pattern `hangfire_*`: no schema"),
        "{}",
        run.text()
    );
    let untouched = db
        .client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(untouched.get::<_, i64>(0), 2);
    // Sanity: the same apply without the bad pattern does change the database.
    assert_eq!(apply_all(&db.conninfo, files.path()).await.code, 0);
}

async fn apply_all_with(db: &str, schema: &std::path::Path, extra: &[&str]) -> cli_support::Run {
    let mut args = vec![
        "--phase",
        "all",
        "--skip-rollback-window",
        "--allow-hazards",
        "all",
        "--yes",
    ];
    args.extend(extra);
    zdm_on(&["apply"], db, schema, &args).await
}
