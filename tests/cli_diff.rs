//! `zdm diff` end to end through the real binary: output snapshots, exit codes, bad input,
//! and proof that diff never writes to the live database.

mod cli_support;
mod common;

use std::time::Duration;

use cli_support::{
    example_schema_dir, example_v1_sql, filters, fingerprint_db, schema_dir, write_counters, zdm,
    zdm_on,
};

/// The bundled example's starting point, with a few rows.
async fn v1_db() -> common::TestDb {
    let db = common::test_db().await;
    db.exec(&example_v1_sql()).await;
    db.exec(
        "INSERT INTO orgs VALUES ('00000000-0000-0000-0000-000000000001');
         INSERT INTO users (first_name, last_name, legacy_field)
              SELECT 'first' || i, 'last' || i, 'x' FROM generate_series(1, 100) i;
         INSERT INTO orders (customer_id, amount) SELECT i % 10, i FROM generate_series(1, 100) i;",
    )
    .await;
    db
}

#[tokio::test]
async fn diff_of_the_bundled_example_human_and_json() {
    let db = v1_db().await;
    let schema = example_schema_dir();

    let human = zdm_on(&["diff"], &db.conninfo, &schema, &[]).await;
    assert_eq!(human.code, 1, "{}", human.text());
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!("diff_example_human", human.stdout);
    });
    for fact in [
        "~ alter table public.orders",
        "~ alter table public.users",
        "+    display_name character varying(200) NOT NULL,",
        "-    legacy_field text,",
        "+CREATE INDEX idx_orders_customer_date ON public.orders USING btree (customer_id, created_at DESC);",
        "2 object(s) differ: 0 to create, 2 to alter, 0 to drop",
    ] {
        assert!(human.stdout.contains(fact), "missing {fact:?}:\n{}", human.text());
    }

    let json = zdm_on(&["diff"], &db.conninfo, &schema, &["--format", "json"]).await;
    assert_eq!(json.code, 1, "{}", json.text());
    let value: serde_json::Value = serde_json::from_str(&json.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", json.text()));
    assert_eq!(value["format_version"], 1, "{}", json.stdout);
    cli_support::schema::assert_valid_diff(&value);
    let changes = value["changes"]
        .as_array()
        .expect("a JSON array of changes");
    // org_id, the CHECK, the FK, the index; display_name and three drops
    assert_eq!(changes.len(), 8, "{}", json.stdout);
    // On 18 the JSON model of a column carries its NOT NULL constraint's name.
    insta::with_settings!({ filters => filters(), snapshot_suffix => common::suffix_of_18() }, {
        insta::assert_snapshot!("diff_example_json", json.stdout);
    });
}

#[tokio::test]
async fn no_differences_exit_0() {
    let db = common::test_db().await;
    // the desired schema itself, files in load order
    for file in ["orgs.sql", "users.sql", "orders.sql"] {
        db.exec(&std::fs::read_to_string(example_schema_dir().join(file)).unwrap())
            .await;
    }
    let run = zdm_on(&["diff"], &db.conninfo, &example_schema_dir(), &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(run.stdout, "no differences\n");
    let json = zdm_on(
        &["diff"],
        &db.conninfo,
        &example_schema_dir(),
        &["--format", "json"],
    )
    .await;
    assert_eq!(json.code, 0, "{}", json.text());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"format_version": 1, "changes": []}),
        "{}",
        json.text()
    );
}

#[tokio::test]
async fn offline_diff_of_two_directories() {
    let from = schema_dir(&example_v1_sql());
    let run = zdm(&[
        "diff",
        "--from",
        &from.path().display().to_string(),
        "--to",
        &example_schema_dir().display().to_string(),
        "--dev-url",
        &cli_support::dev_url(),
    ])
    .await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        run.stdout.contains("~ alter table public.users"),
        "{}",
        run.text()
    );
}

/// Nothing at all changes in the live database: schema, data, row counters, no `zdm` schema.
#[tokio::test]
async fn diff_writes_nothing_to_the_live_database() {
    let db = v1_db().await;
    // let the inserts' statistics reach the collector before the first reading
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = fingerprint_db(&db.client).await;
    let counters_before = write_counters(&db.client).await;
    assert!(
        counters_before.contains("public.users ins=100"),
        "{counters_before}"
    );

    for extra in [&[][..], &["--format", "json"][..]] {
        let run = zdm_on(&["diff"], &db.conninfo, &example_schema_dir(), extra).await;
        assert_eq!(run.code, 1, "{}", run.text());
    }
    // zdm's sessions have ended, so their statistics are flushed
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fingerprint_db(&db.client).await, before);
    assert_eq!(write_counters(&db.client).await, counters_before);
    let zdm_schema: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'zdm'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(zdm_schema, 0, "diff created zdm's schema");

    // the check itself can fail: a write is seen
    db.exec("UPDATE users SET legacy_field = 'y' WHERE id = 1")
        .await;
    assert_ne!(fingerprint_db(&db.client).await, before);
}

// ---- bad input: exit 2 and a one-line cause ----------------------------------------------

fn assert_one_cause(run: &cli_support::Run, cause: &str) {
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stdout.is_empty(), "{}", run.text());
    let errors = run.errors();
    assert!(
        errors
            .first()
            .is_some_and(|l| l.starts_with("error: ") && l.contains(cause)),
        "first line should be the cause {cause:?}:\n{}",
        run.text()
    );
    assert!(
        !errors.iter().skip(1).any(|l| l.starts_with("error")),
        "more than one error line:\n{}",
        run.text()
    );
}

#[tokio::test]
async fn syntax_error_points_at_file_line_col() {
    let db = v1_db().await;
    // multi-byte text before the error: the column counts characters
    let dir = schema_dir(
        "CREATE TABLE orgs (id uuid PRIMARY KEY);\n-- größe, 名前\nCREATE TABLE \"größe\" (id int,\n  \"名前\" text  ,);\n",
    );
    let run = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    assert_one_cause(&run, "syntax error at or near \")\"");
    let location = format!("{}:4:15", dir.path().join("schema.sql").display());
    assert!(
        run.stderr.contains(&location),
        "want {location}:\n{}",
        run.text()
    );
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!("diff_syntax_error", run.stderr);
    });
}

#[tokio::test]
async fn dml_statement_is_rejected_with_its_location() {
    let db = v1_db().await;
    let dir = schema_dir(
        "CREATE TABLE orgs (id uuid PRIMARY KEY);\n\n    DELETE FROM orgs WHERE id IS NULL;\n",
    );
    let run = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    assert_one_cause(&run, "DELETE");
    let location = format!("{}:3:5", dir.path().join("schema.sql").display());
    assert!(
        run.stderr.contains(&location),
        "want {location}:\n{}",
        run.text()
    );
    insta::with_settings!({ filters => filters() }, {
        insta::assert_snapshot!("diff_dml", run.stderr);
    });
}

#[tokio::test]
async fn missing_schema_directory() {
    let db = v1_db().await;
    let run = zdm_on(
        &["diff"],
        &db.conninfo,
        std::path::Path::new("/nonexistent/zdm-schema"),
        &[],
    )
    .await;
    assert_one_cause(&run, "/nonexistent/zdm-schema");
    assert_eq!(run.errors().len(), 1, "{}", run.text());
}

#[tokio::test]
async fn unreachable_database() {
    let secret = "sekrit-unreachable-pw";
    for db in [
        format!("host=/nonexistent/zdm-sock port=5432 user=u password={secret} dbname=x"),
        format!("postgresql://u:{secret}@/x?host=/nonexistent/zdm-sock"),
    ] {
        let run = zdm_on(&["diff"], &db, &example_schema_dir(), &[]).await;
        assert_one_cause(&run, "/nonexistent/zdm-sock/.s.PGSQL.5432");
        assert_eq!(run.errors().len(), 1, "{}", run.text());
        assert!(
            !run.stderr.contains(secret) && !run.stdout.contains(secret),
            "{}",
            run.text()
        );
    }
}

#[tokio::test]
async fn wrong_password_never_shown() {
    const RIGHT: &str = "right-pw-cli-diff";
    const WRONG: &str = "wrong-pw-cli-diff-xyzzy";
    let role = "zdm_cli_pw_user";
    let db = v1_db().await;
    // scram explicitly: PostgreSQL 13 still hashes passwords with md5 by default.
    db.exec(&format!(
        "SET password_encryption = 'scram-sha-256'; CREATE ROLE {role} LOGIN PASSWORD '{RIGHT}'; GRANT CONNECT ON DATABASE {} TO {role};
         GRANT USAGE ON SCHEMA public TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role};",
        db.name
    ))
    .await;
    // as tests/harness.rs does: this role must authenticate with a password
    let hba = common::cluster().data_dir().join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(&hba, format!("local all {role} scram-sha-256\n{old}")).unwrap();
    db.exec("SELECT pg_reload_conf()").await;

    let socket = common::cluster().socket_dir().display().to_string();
    let spec = |pw: &str| {
        format!(
            "host='{socket}' port=5432 user={role} password='{pw}' dbname={}",
            db.name
        )
    };
    // the reload is asynchronous: wait until the password is checked
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let run = loop {
        let run = zdm_on(&["diff"], &spec(WRONG), &example_schema_dir(), &[]).await;
        let rejected = run.code == 2 && run.stderr.contains("password authentication failed");
        if rejected || std::time::Instant::now() > deadline {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_one_cause(&run, "password authentication failed");
    assert_eq!(run.errors().len(), 1, "{}", run.text());
    assert!(
        !run.stderr.contains(WRONG) && !run.stdout.contains(WRONG),
        "{}",
        run.text()
    );

    // the same through a URL
    let url = format!(
        "postgresql://{role}:{WRONG}@/{}?host={socket}&port=5432",
        db.name
    );
    let run = zdm_on(&["diff"], &url, &example_schema_dir(), &[]).await;
    assert_one_cause(&run, "password authentication failed");
    assert!(
        !run.stderr.contains(WRONG) && !run.stdout.contains(WRONG),
        "{}",
        run.text()
    );

    // and with the right password, diff works (exit 1: the example differs)
    let run = zdm_on(&["diff"], &spec(RIGHT), &example_schema_dir(), &[]).await;
    assert_eq!(run.code, 1, "{}", run.text());
    assert!(
        !run.stderr.contains(RIGHT) && !run.stdout.contains(RIGHT),
        "{}",
        run.text()
    );
}
