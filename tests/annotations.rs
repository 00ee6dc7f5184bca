//! `-- zdm:` annotations end to end, through the real binary: column renames, table renames
//! and online type changes on tables with rows, with the old and the new application both
//! writing between expand and contract; the bundled example; annotation errors at
//! file:line:col; snapshots of each plan.

mod common;

use std::path::Path;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn zdm(args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zdm"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("zdm runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A schema directory holding one `schema.sql`.
fn schema_dir(sql: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("schema.sql"), sql).expect("write schema");
    dir
}

fn dev_url() -> String {
    common::server_conninfo("postgres")
}

async fn plan(db: &common::TestDb, schema: &Path) -> Run {
    zdm(&[
        "plan",
        "--db",
        &db.conninfo,
        "--schema",
        &schema.display().to_string(),
        "--dev-url",
        &dev_url(),
    ])
    .await
}

async fn apply(db: &common::TestDb, schema: &Path, phase: &str) {
    let run = zdm(&[
        "apply",
        "--phase",
        phase,
        "--yes",
        "--skip-rollback-window",
        "--allow-hazards",
        "all",
        "--db",
        &db.conninfo,
        "--schema",
        &schema.display().to_string(),
        "--dev-url",
        &dev_url(),
    ])
    .await;
    assert_eq!(
        run.code, 0,
        "apply --phase {phase} failed:\n{}\n{}",
        run.stdout, run.stderr
    );
}

/// After a phase, the re-plan contains no step of that phase or an earlier one.
async fn assert_nothing_before(db: &common::TestDb, schema: &Path, phase: &str) {
    let run = plan(db, schema).await;
    let order = ["expand", "backfill", "validate", "contract"];
    let done = order.iter().position(|p| *p == phase).unwrap();
    for earlier in &order[..=done] {
        assert!(
            !run.stdout.contains(&format!("== {earlier} ==")),
            "after {phase}, the plan still has {earlier} steps:\n{}",
            run.stdout
        );
    }
}

async fn query_string(client: &tokio_postgres::Client, sql: &str) -> String {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

async fn query_i64(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .get(0)
}

/// A second connection: "the other application".
async fn app(db: &common::TestDb) -> tokio_postgres::Client {
    common::cluster()
        .target(&db.name)
        .connect()
        .await
        .expect("app connects")
}

async fn exec(client: &tokio_postgres::Client, sql: &str) {
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {}", zdm::shadow::db_message(&e)));
}

#[tokio::test]
async fn rename_column_keeps_both_applications_working() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, note text);
         CREATE INDEX customers_email_idx ON customers (email);
         INSERT INTO customers (email, note)
             SELECT 'c' || g || '@example.com', CASE WHEN g % 2 = 0 THEN 'n' || g END FROM generate_series(1, 500) g;",
    )
    .await;
    let schema = schema_dir(
        "CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    -- zdm:renamed-from email
    mail text NOT NULL,
    remark text -- zdm:renamed-from note
);
CREATE INDEX customers_mail_idx ON customers (mail);
",
    );
    let first = plan(&db, schema.path()).await;
    assert_eq!(first.code, 1, "{}", first.stderr);
    insta::with_settings!({ snapshot_suffix => common::suffix_of_18() }, {
        insta::assert_snapshot!("rename_column_plan", first.stdout);
    });

    apply(&db, schema.path(), "expand").await;
    assert_nothing_before(&db, schema.path(), "expand").await;
    apply(&db, schema.path(), "backfill").await;
    assert_nothing_before(&db, schema.path(), "backfill").await;

    // Both versions, interleaved: the old one knows only `email`, the new one only `mail`.
    let (old_app, new_app) = (app(&db).await, app(&db).await);
    for i in 0..30 {
        exec(
            &old_app,
            &format!("INSERT INTO customers (email, note) VALUES ('old{i}@example.com', 'old')"),
        )
        .await;
        exec(
            &new_app,
            &format!("INSERT INTO customers (mail, remark) VALUES ('new{i}@example.com', 'new')"),
        )
        .await;
        exec(
            &old_app,
            &format!(
                "UPDATE customers SET email = 'old-upd{i}@example.com' WHERE id = {}",
                i + 1
            ),
        )
        .await;
        exec(
            &new_app,
            &format!(
                "UPDATE customers SET mail = 'new-upd{i}@example.com' WHERE id = {}",
                i + 100
            ),
        )
        .await;
        // Each reads what the other wrote.
        let seen_by_new = query_string(
            &new_app,
            &format!("SELECT mail FROM customers WHERE id = {}", i + 1),
        )
        .await;
        assert_eq!(seen_by_new, format!("old-upd{i}@example.com"));
        let seen_by_old = query_string(
            &old_app,
            &format!("SELECT email FROM customers WHERE id = {}", i + 100),
        )
        .await;
        assert_eq!(seen_by_old, format!("new-upd{i}@example.com"));
    }
    let differing = query_i64(
        &db.client,
        "SELECT count(*) FROM customers WHERE email IS DISTINCT FROM mail OR note IS DISTINCT FROM remark",
    )
    .await;
    assert_eq!(differing, 0, "every row reads the same through both names");
    let checksum = "SELECT md5(string_agg(id || ':' || mail || ':' || coalesce(remark, '-'), ',' ORDER BY id)) FROM customers";
    let before = query_string(&db.client, checksum).await;

    apply(&db, schema.path(), "validate").await;
    assert_nothing_before(&db, schema.path(), "validate").await;
    apply(&db, schema.path(), "contract").await;
    assert_eq!(query_string(&db.client, checksum).await, before);
    assert_eq!(
        query_i64(&db.client, "SELECT count(*) FROM customers").await,
        560
    );
    let last = plan(&db, schema.path()).await;
    assert_eq!(last.code, 0, "plan after contract:\n{}", last.stdout);
}

#[tokio::test]
async fn rename_table_keeps_both_applications_working() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL, price numeric);
         CREATE INDEX items_name_idx ON items (name);
         CREATE TABLE orders (id serial PRIMARY KEY, item_id int REFERENCES items (id));
         INSERT INTO items (name, price) SELECT 'item' || g, g FROM generate_series(1, 300) g;
         INSERT INTO orders (item_id) SELECT g FROM generate_series(1, 300) g;",
    )
    .await;
    let schema = schema_dir(
        "-- zdm:renamed-from items
CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, price numeric);
CREATE INDEX products_name_idx ON products (name);
CREATE TABLE orders (id serial PRIMARY KEY, item_id int REFERENCES products (id));
",
    );
    let first = plan(&db, schema.path()).await;
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        !first.stdout.contains("data-loss"),
        "a rename loses nothing:\n{}",
        first.stdout
    );
    insta::with_settings!({ snapshot_suffix => common::suffix_of_18() }, {
        insta::assert_snapshot!("rename_table_plan", first.stdout);
    });

    apply(&db, schema.path(), "expand").await;
    assert_nothing_before(&db, schema.path(), "validate").await;

    let (old_app, new_app) = (app(&db).await, app(&db).await);
    for i in 0..30 {
        exec(
            &old_app,
            &format!("INSERT INTO items (name, price) VALUES ('old{i}', {i})"),
        )
        .await;
        exec(
            &new_app,
            &format!("INSERT INTO products (name, price) VALUES ('new{i}', {i})"),
        )
        .await;
        exec(
            &old_app,
            &format!("UPDATE items SET price = price + 1000 WHERE id = {}", i + 1),
        )
        .await;
        exec(
            &new_app,
            &format!(
                "UPDATE products SET name = 'renamed{i}' WHERE id = {}",
                i + 100
            ),
        )
        .await;
        exec(
            &old_app,
            "INSERT INTO orders (item_id) SELECT max(id) FROM items",
        )
        .await;
    }
    let through = |t: &str| {
        format!("SELECT md5(string_agg(id || ':' || name || ':' || coalesce(price::text, ''), ',' ORDER BY id)) FROM {t}")
    };
    let old_view = query_string(&old_app, &through("items")).await;
    let new_view = query_string(&new_app, &through("products")).await;
    assert_eq!(old_view, new_view, "both names read the same rows");
    assert_eq!(
        query_i64(&db.client, "SELECT count(*) FROM products").await,
        360
    );

    apply(&db, schema.path(), "contract").await;
    assert_eq!(
        query_string(&db.client, &through("products")).await,
        new_view
    );
    let items_left = query_i64(
        &db.client,
        "SELECT count(*) FROM pg_class WHERE relname = 'items'",
    )
    .await;
    assert_eq!(items_left, 0, "the compatibility view is gone");
    let last = plan(&db, schema.path()).await;
    assert_eq!(last.code, 0, "plan after contract:\n{}", last.stdout);
}

#[tokio::test]
async fn type_change_keeps_both_applications_working() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE accounts (id bigserial PRIMARY KEY, balance int NOT NULL DEFAULT 0 CONSTRAINT balance_positive CHECK (balance >= 0), note text);
         CREATE INDEX accounts_balance_idx ON accounts (balance);
         INSERT INTO accounts (balance, note) SELECT g, 'n' || g FROM generate_series(1, 500) g;",
    )
    .await;
    let schema = schema_dir(
        "CREATE TABLE accounts (
    id bigserial PRIMARY KEY,
    balance bigint NOT NULL DEFAULT 0 CONSTRAINT balance_positive CHECK (balance >= 0), -- zdm:using balance::bigint
    note text
);
CREATE INDEX accounts_balance_idx ON accounts (balance);
",
    );
    let first = plan(&db, schema.path()).await;
    assert_eq!(first.code, 1, "{}", first.stderr);
    assert!(
        !first.stdout.contains("table-rewrite"),
        "no rewrite:\n{}",
        first.stdout
    );
    insta::with_settings!({ snapshot_suffix => common::suffix_of_18() }, {
        insta::assert_snapshot!("type_change_plan", first.stdout);
    });

    apply(&db, schema.path(), "expand").await;
    assert_nothing_before(&db, schema.path(), "expand").await;
    apply(&db, schema.path(), "backfill").await;
    assert_nothing_before(&db, schema.path(), "backfill").await;

    // Both versions write the column under its one name; the shadow follows.
    let (old_app, new_app) = (app(&db).await, app(&db).await);
    for i in 0..30 {
        exec(
            &old_app,
            &format!("INSERT INTO accounts (balance, note) VALUES ({i}, 'old')"),
        )
        .await;
        exec(&new_app, "INSERT INTO accounts (note) VALUES ('new')").await;
        exec(
            &old_app,
            &format!(
                "UPDATE accounts SET balance = balance + 7 WHERE id = {}",
                i + 1
            ),
        )
        .await;
        exec(
            &new_app,
            &format!(
                "UPDATE accounts SET balance = {} WHERE id = {}",
                i * 3,
                i + 100
            ),
        )
        .await;
    }
    let behind = query_i64(
        &db.client,
        "SELECT count(*) FROM accounts WHERE zdm_new_balance IS DISTINCT FROM balance::bigint",
    )
    .await;
    assert_eq!(behind, 0, "the shadow column follows every write");
    let checksum = "SELECT md5(string_agg(id || ':' || balance || ':' || coalesce(note, ''), ',' ORDER BY id)) FROM accounts";
    let before = query_string(&db.client, checksum).await;

    apply(&db, schema.path(), "validate").await;
    assert_nothing_before(&db, schema.path(), "validate").await;
    apply(&db, schema.path(), "contract").await;
    assert_eq!(query_string(&db.client, checksum).await, before);
    assert_eq!(
        query_string(
            &db.client,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'balance'"
        )
        .await,
        "bigint"
    );
    // Past the old type's range, the default still applies, the constraint still holds.
    exec(
        &new_app,
        "INSERT INTO accounts (balance) VALUES (5000000000); INSERT INTO accounts (note) VALUES ('d')",
    )
    .await;
    assert!(new_app
        .batch_execute("INSERT INTO accounts (balance) VALUES (-1)")
        .await
        .is_err());
    let last = plan(&db, schema.path()).await;
    assert_eq!(last.code, 0, "plan after contract:\n{}", last.stdout);
}

#[tokio::test]
async fn unannotated_rename_is_a_loud_data_loss() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE customers (id bigserial PRIMARY KEY, email text);
         INSERT INTO customers (email) VALUES ('a@example.com');",
    )
    .await;
    let schema = schema_dir("CREATE TABLE customers (id bigserial PRIMARY KEY, mail text);\n");
    let run = plan(&db, schema.path()).await;
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains(
            "column email dropped and mail added: if this is a rename, annotate `-- zdm:renamed-from email`"
        ),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!("unannotated_rename_plan", run.stdout);
}

/// The table-level hint (`plan::hints`): a dropped table and a created one of the same columns.
#[tokio::test]
async fn unannotated_table_rename_is_a_loud_data_loss() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE customers (id bigint PRIMARY KEY, email text);
         INSERT INTO customers VALUES (1, 'a@example.com');",
    )
    .await;
    let schema = schema_dir("CREATE TABLE clients (id bigint PRIMARY KEY, email text);\n");
    let run = plan(&db, schema.path()).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(
            "table public.customers dropped and public.clients created: if this is a rename, annotate `-- zdm:renamed-from customers` on its CREATE TABLE"
        ),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn bundled_example_converges_in_one_command() {
    let db = common::test_db().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    db.exec(&std::fs::read_to_string(root.join("examples/shop/v1/schema.sql")).unwrap())
        .await;
    db.exec(
        "INSERT INTO users (first_name, last_name) SELECT 'first' || g, 'last' || g FROM generate_series(1, 300) g;",
    )
    .await;
    let schema = root.join("schema");
    apply(&db, &schema, "all").await;
    assert_eq!(
        query_i64(
            &db.client,
            "SELECT count(*) FROM users WHERE display_name LIKE 'first% last%'"
        )
        .await,
        300
    );
    let last = plan(&db, &schema).await;
    assert_eq!(last.code, 0, "plan after apply:\n{}", last.stdout);
}

/// A derived column that stays nullable: once expand has added it, the column no longer
/// differs, yet a fresh plan still has its backfill (and, after that, only the sync trigger's
/// removal). A row whose expression is NULL leaves nothing to fill.
#[tokio::test]
async fn nullable_derived_column_is_backfilled_by_a_fresh_plan_after_expand() {
    let db = common::test_db().await;
    db.exec(
        "CREATE TABLE people (id bigserial PRIMARY KEY, first text, last text);
         INSERT INTO people (first, last) SELECT 'f' || g, 'l' || g FROM generate_series(1, 250) g;
         INSERT INTO people (first, last) VALUES (NULL, 'no first');",
    )
    .await;
    let schema = schema_dir(
        "CREATE TABLE people (
    id bigserial PRIMARY KEY,
    first text,
    last text,
    full_name text -- zdm:backfill first || ' ' || last
);
",
    );
    apply(&db, schema.path(), "expand").await;
    let after_expand = plan(&db, schema.path()).await;
    assert!(
        after_expand.stdout.contains("== backfill =="),
        "a fresh plan after expand still fills the column:\n{}",
        after_expand.stdout
    );
    apply(&db, schema.path(), "backfill").await;
    assert_eq!(
        query_i64(
            &db.client,
            "SELECT count(*) FROM people WHERE full_name IS DISTINCT FROM first || ' ' || last"
        )
        .await,
        0
    );
    assert_nothing_before(&db, schema.path(), "backfill").await;
    apply(&db, schema.path(), "contract").await;
    let last = plan(&db, schema.path()).await;
    assert_eq!(last.code, 0, "plan after contract:\n{}", last.stdout);
}

/// `zdm plan` exits 2 and names the place.
async fn assert_annotation_error(live: &str, desired: &str, location: &str, message: &str) {
    let db = common::test_db().await;
    db.exec(live).await;
    let schema = schema_dir(desired);
    let run = plan(&db, schema.path()).await;
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!("schema.sql:{location}")),
        "expected schema.sql:{location} in:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(message),
        "expected {message:?} in:\n{}",
        run.stderr
    );
}

#[tokio::test]
async fn renamed_from_a_missing_column_is_an_error() {
    assert_annotation_error(
        "CREATE TABLE t (id int PRIMARY KEY, a int)",
        "CREATE TABLE t (\n    id int PRIMARY KEY,\n    -- zdm:renamed-from nope\n    b int\n);\n",
        "3:25",
        "names column nope, which does not exist in the live table public.t",
    )
    .await;
}

#[tokio::test]
async fn renamed_from_a_missing_table_is_an_error() {
    assert_annotation_error(
        "CREATE TABLE t (id int PRIMARY KEY)",
        "CREATE TABLE t (id int PRIMARY KEY);\n-- zdm:renamed-from ghosts\nCREATE TABLE spirits (id int);\n",
        "2:21",
        "names table public.ghosts, which does not exist",
    )
    .await;
}

#[tokio::test]
async fn backfill_expression_that_does_not_type_check_is_an_error() {
    assert_annotation_error(
        "CREATE TABLE t (id int PRIMARY KEY, a text)",
        "CREATE TABLE t (\n    id int PRIMARY KEY,\n    a text,\n    b text -- zdm:backfill upper(a) || missing\n);\n",
        "4:40",
        "column \"missing\" does not exist",
    )
    .await;
}

#[tokio::test]
async fn using_expression_that_does_not_type_check_is_an_error() {
    assert_annotation_error(
        "CREATE TABLE t (id int PRIMARY KEY, a int)",
        "CREATE TABLE t (\n    id int PRIMARY KEY,\n    a bigint -- zdm:using a + now()\n);\n",
        "3:29",
        "operator does not exist",
    )
    .await;
}

#[tokio::test]
async fn using_on_a_new_column_is_an_error() {
    assert_annotation_error(
        "CREATE TABLE t (id int PRIMARY KEY)",
        "CREATE TABLE t (\n    id int PRIMARY KEY,\n    a bigint -- zdm:using 1\n);\n",
        "3:14",
        "`zdm:using` is on column a, which does not exist in the live table public.t",
    )
    .await;
}

#[tokio::test]
async fn annotation_on_nothing_is_an_error() {
    assert_annotation_error(
        "CREATE TABLE t (id int PRIMARY KEY)",
        "CREATE TABLE t (id int PRIMARY KEY);\n\n-- zdm:renamed-from x\n\nCREATE TABLE u (id int);\n",
        "3:1",
        "not attached",
    )
    .await;
}
