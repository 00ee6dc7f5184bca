//! zdm's own objects: the sync trigger functions it installs compute the same whatever others
//! put on the search path, and its ledger is not writable by other roles.

mod cli_support;
mod common;

use cli_support::{example_schema_dir, v1_db, zdm_on};

#[tokio::test]
async fn a_hostile_function_on_the_path_does_not_change_what_a_sync_trigger_computes() {
    let db = v1_db().await;
    let schema = example_schema_dir();
    let run = zdm_on(
        &["apply", "--phase", "expand", "--yes"],
        &db.conninfo,
        &schema,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());

    // Someone who may create functions in public shadows concat for exactly these types.
    db.exec(
        "CREATE FUNCTION public.concat(varchar, text, varchar) RETURNS text LANGUAGE sql
           AS $$ SELECT 'pwned' $$;
         CREATE FUNCTION public.concat(text, text, text) RETURNS text LANGUAGE sql
           AS $$ SELECT 'pwned' $$;",
    )
    .await;
    // it does win for a session on the default path, so the test can tell
    let shadowed: String = db
        .client
        .query_one("SELECT concat('a'::text, ' ', 'b'::text)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(shadowed, "pwned");

    // the old application writes: the trigger fills display_name
    db.exec("INSERT INTO users (first_name, last_name) VALUES ('Ada', 'Lovelace')")
        .await;
    let run = zdm_on(
        &["apply", "--phase", "backfill", "--yes"],
        &db.conninfo,
        &schema,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());
    let wrong: Vec<String> = db
        .client
        .query(
            "SELECT format('%s: %s', id, display_name) FROM users
              WHERE display_name IS DISTINCT FROM first_name || ' ' || last_name ORDER BY id LIMIT 5",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(
        wrong.is_empty(),
        "rows filled by the shadowing function: {wrong:?}"
    );
}

#[tokio::test]
async fn another_role_cannot_touch_the_ledger() {
    let db = v1_db().await;
    // default privileges that would hand every new table to everyone
    db.exec("ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO PUBLIC")
        .await;
    let run = zdm_on(
        &["apply", "--phase", "expand", "--yes"],
        &db.conninfo,
        &example_schema_dir(),
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.text());

    let role = format!("intruder_{}", std::process::id());
    db.exec(&format!(
        "DO $$ BEGIN CREATE ROLE {role} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
         GRANT ALL ON SCHEMA public TO {role};"
    ))
    .await;
    let (intruder, conn) = tokio_postgres::connect(
        &format!("{} user={role}", db.conninfo),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    for attack in [
        "DELETE FROM zdm.phases",
        "UPDATE zdm.plans SET source_fingerprint = 'x'",
        "INSERT INTO zdm.phases (target_fingerprint, phase) VALUES ('x', 'expand')",
        "CREATE TABLE zdm.planted (x int)",
        "CREATE FUNCTION zdm.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    ] {
        let error = intruder
            .batch_execute(attack)
            .await
            .expect_err(&format!("{attack} must be refused"));
        assert_eq!(
            error.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{attack}: {error}"
        );
    }
}
