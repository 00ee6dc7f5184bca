//! Reference data: rows the files `INSERT` into tables marked `-- zdm:data` are managed by
//! primary key (inserted and updated in expand, deleted in contract with a data-loss hazard).

mod cli_support;
mod common;

use cli_support::{apply_all, schema_dir, zdm_on};

const FILES: &str = "
-- zdm:data
CREATE TABLE countries (
    code text PRIMARY KEY,
    name text NOT NULL,
    eu boolean NOT NULL DEFAULT false,
    meta jsonb,
    joined date
);
INSERT INTO countries (code, name, eu, meta, joined) VALUES
    ('fr', 'France', true, '{\"capital\": \"Paris\"}', '1958-01-01'),
    ('de', 'Germany''s', true, NULL, '1958-01-01'),
    ('no', 'Norway', false, NULL, NULL);

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    country text REFERENCES countries (code)
);
-- not marked: skipped with a note
INSERT INTO users (country) VALUES ('fr');
";

async fn rows(db: &common::TestDb) -> Vec<(String, String, bool, Option<String>)> {
    db.client
        .query(
            "SELECT code, name, eu, meta::text FROM countries ORDER BY code",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

async fn expand(db: &common::TestDb, schema: &std::path::Path) -> cli_support::Run {
    zdm_on(
        &["apply", "--phase", "expand", "--yes"],
        &db.conninfo,
        schema,
        &[],
    )
    .await
}

#[tokio::test]
async fn declared_rows_are_inserted_updated_and_deleted_by_primary_key() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL,
             eu boolean NOT NULL DEFAULT false, meta jsonb, joined date);
         INSERT INTO countries VALUES ('fr', 'France', true, '{\"capital\": \"Paris\"}', '1958-01-01'),
             ('de', 'Germany', true, NULL, '1958-01-01'), ('xx', 'Gone', false, NULL, NULL);
         CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             country text REFERENCES countries (code));",
    )
    .await;
    let dir = schema_dir(FILES);

    let diff = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(diff.code, 1, "{}", diff.text());
    assert!(
        diff.stdout
            .contains("rows of public.countries (reference data)"),
        "{}",
        diff.text()
    );
    assert!(
        diff.stdout
            .contains("rows: 1 to insert, 1 to update, 1 to delete"),
        "{}",
        diff.text()
    );
    assert!(
        diff.stderr.contains("INSERT INTO public.users is skipped"),
        "{}",
        diff.text()
    );
    let json = zdm_on(&["diff", "--format", "json"], &db.conninfo, dir.path(), &[]).await;
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        json["rows"],
        serde_json::json!([{"table": "public.countries", "insert": 1, "update": 1, "delete": 1}])
    );

    let plan = zdm_on(&["plan", "--format", "json"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(plan.code, 1, "{}", plan.text());
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let steps = plan["steps"].as_array().unwrap();
    let write = steps
        .iter()
        .find(|s| {
            s["description"]
                .as_str()
                .unwrap()
                .starts_with("write 2 declared row(s)")
        })
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(write["phase"], "expand");
    let delete = steps
        .iter()
        .find(|s| {
            s["description"]
                .as_str()
                .unwrap()
                .starts_with("delete 1 row(s)")
        })
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(delete["phase"], "contract");
    assert_eq!(delete["hazards"][0]["kind"], "data-loss");
    assert!(
        delete["hazards"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(xx)"),
        "{delete:#}"
    );

    // Expand writes the declared rows and deletes nothing.
    let run = expand(&db, dir.path()).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let after_expand = rows(&db).await;
    assert_eq!(after_expand.len(), 4, "{after_expand:?}");
    assert!(after_expand.contains(&("de".into(), "Germany's".into(), true, None)));
    // Contract needs data-loss allowed; then the undeclared row goes.
    let run = apply_all(&db.conninfo, dir.path()).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(
        rows(&db).await,
        vec![
            ("de".into(), "Germany's".into(), true, None),
            (
                "fr".into(),
                "France".into(),
                true,
                Some("{\"capital\": \"Paris\"}".into())
            ),
            ("no".into(), "Norway".into(), false, None),
        ]
    );
    // Converged: rows and schema.
    let diff = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(diff.code, 0, "{}", diff.text());
    let again = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(again.code, 0, "{}", again.text());
    // The unmarked table's INSERT never ran.
    let users: i64 = db
        .client
        .query_one("SELECT count(*) FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 0);
}

#[tokio::test]
async fn a_new_reference_table_is_created_and_filled_in_expand() {
    let db = common::test_db().await;
    let dir = schema_dir(FILES);
    let run = expand(&db, dir.path()).await;
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(rows(&db).await.len(), 3);
    let again = zdm_on(&["diff"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(again.code, 0, "{}", again.text());
}

#[tokio::test]
async fn a_marked_table_needs_a_primary_key() {
    let db = common::test_db().await;
    let dir = schema_dir("CREATE TABLE a (x int);\n-- zdm:data\nCREATE TABLE tags (name text);\nINSERT INTO tags VALUES ('x');\n");
    let run = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.contains("schema.sql:2:1"), "{}", run.text());
    assert!(run.stderr.contains("has no primary key"), "{}", run.text());
    let dir = schema_dir("CREATE TABLE t (\n  -- zdm:data\n  id int PRIMARY KEY\n);\n");
    let run = zdm_on(&["plan"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.contains("applies to a table"), "{}", run.text());
}

#[tokio::test]
async fn dump_data_writes_the_rows_back_as_managed_reference_data() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL, meta jsonb,
             tags text[], joined timestamptz);
         INSERT INTO countries VALUES
             ('fr', 'France''s', '{\"a\": [1, 2]}', '{x,\"y z\"}', '2020-01-02 03:04:05+00'),
             ('de', 'Germany', NULL, NULL, NULL);
         CREATE TABLE users (id int PRIMARY KEY);
         INSERT INTO users VALUES (1);",
    )
    .await;
    let out = tempfile::tempdir().unwrap();
    let out_arg = out.path().to_string_lossy().into_owned();
    let run = cli_support::zdm(&[
        "dump",
        "--db",
        &db.conninfo,
        "--out",
        &out_arg,
        "--data",
        "public.countries",
    ])
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    let file = std::fs::read_to_string(out.path().join("public/tables/countries.sql")).unwrap();
    assert!(
        file.contains("-- zdm:data\nCREATE TABLE public.countries"),
        "{file}"
    );
    assert!(file.contains("INSERT INTO public.countries"), "{file}");
    assert!(file.contains("'France''s'"), "{file}");
    let users = std::fs::read_to_string(out.path().join("public/tables/users.sql")).unwrap();
    assert!(!users.contains("INSERT"), "{users}");

    // The dump, rows included, is what the database holds.
    let diff = zdm_on(&["diff"], &db.conninfo, out.path(), &[]).await;
    assert_eq!(diff.code, 0, "{}", diff.text());
    db.exec("DELETE FROM countries WHERE code = 'de'").await;
    let diff = zdm_on(&["diff"], &db.conninfo, out.path(), &[]).await;
    assert_eq!(diff.code, 1, "{}", diff.text());
    assert!(diff.stdout.contains("rows: 1 to insert"), "{}", diff.text());
}

/// `zdm status` counts what `zdm plan` would do to the rows: pending until applied.
#[tokio::test]
async fn status_counts_pending_reference_rows() {
    let db = common::test_db().await;
    let dir = schema_dir(FILES);
    assert_eq!(expand(&db, dir.path()).await.code, 0);
    db.exec("UPDATE countries SET name = 'Frankreich' WHERE code = 'fr'")
        .await;
    let status = zdm_on(&["status"], &db.conninfo, dir.path(), &["--format", "json"]).await;
    assert_eq!(
        status.code,
        1,
        "rows differ, so steps are pending:\n{}",
        status.text()
    );
    let json: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    let pending: Vec<String> = json["phases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["pending_steps"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["description"].as_str().map(str::to_string))
        .collect();
    assert!(
        pending.iter().any(|d| d.contains("countries")),
        "a pending step for the rows of countries: {pending:?}"
    );
    assert_eq!(expand(&db, dir.path()).await.code, 0);
    let status = zdm_on(&["status"], &db.conninfo, dir.path(), &[]).await;
    assert_eq!(
        status.code,
        0,
        "nothing pending after expand:\n{}",
        status.text()
    );
}
