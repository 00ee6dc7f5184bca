//! Loading desired schemas into a real database (the harness cluster, one database per test).

mod common;

use std::process::Command;

use common::test_db;
use rand::Rng;
use tokio_postgres::Client;
use zdm::load::{load, LoadError};
use zdm::parse::{parse_desired, DesiredSchema};
use zdm::source::SourceSet;

// Roles are cluster-wide; the harness cluster lives only as long as this test binary, so the
// roles the tests create need no cleanup, only names that do not collide between tests.
fn random_suffix() -> String {
    format!("{:08x}", rand::thread_rng().gen::<u32>())
}

fn desired(files: &[(&str, &str)]) -> DesiredSchema {
    parse_desired(SourceSet::from_texts(files.iter().copied())).unwrap_or_else(|e| panic!("{e}"))
}

async fn relations(client: &Client) -> Vec<String> {
    client
        .query(
            "SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn loads_views_before_tables_and_forward_foreign_keys() {
    let db = test_db().await;
    let schema = desired(&[
        ("01_views.sql", "CREATE VIEW app.active AS SELECT * FROM app.orders WHERE total > 0;"),
        (
            "02_orders.sql",
            "CREATE TABLE app.orders (\n  id bigserial PRIMARY KEY,\n  customer_id int NOT NULL REFERENCES app.customers (id),\n  total numeric CHECK (app.positive(total))\n);\nCREATE INDEX orders_customer ON app.orders (customer_id);",
        ),
        (
            "03_customers.sql",
            "CREATE TABLE app.customers (id int PRIMARY KEY, kind app.kind);\nCREATE TYPE app.kind AS ENUM ('a', 'b');\nCREATE FUNCTION app.positive(n numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT n > 0 $$;",
        ),
        ("04_schema.sql", "CREATE SCHEMA app;"),
    ]);
    let report = load(&db.client, &schema)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.executed, 7);
    assert_eq!(report.retries, 0, "the load order should need no retries");
    assert_eq!(
        relations(&db.client).await,
        [
            "app.active:v",
            "app.customers:r",
            "app.customers_pkey:i",
            "app.orders:r",
            "app.orders_customer:i",
            "app.orders_id_seq:S",
            "app.orders_pkey:i",
        ]
    );
}

#[tokio::test]
async fn retries_what_the_order_cannot_know() {
    // t's foreign key needs u's primary key, which a later ALTER TABLE adds: references say
    // only "t needs u", so t runs first, fails with 42830, and succeeds on the retry.
    let db = test_db().await;
    let schema = desired(&[
        (
            "a.sql",
            "CREATE TABLE t (id int PRIMARY KEY, k int REFERENCES u (id));",
        ),
        ("b.sql", "ALTER TABLE u ADD PRIMARY KEY (id);"),
        ("c.sql", "CREATE TABLE u (id int NOT NULL);"),
    ]);
    let report = load(&db.client, &schema)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.executed, 3);
    assert_eq!(report.retries, 1);
}

#[tokio::test]
async fn session_settings_apply_per_file() {
    let db = test_db().await;
    let schema = desired(&[
        ("a.sql", "CREATE TABLE plain (a int);"),
        (
            "b.sql",
            "SET search_path = app;\nCREATE TABLE inner_t (a int);\nCREATE VIEW inner_v AS SELECT * FROM inner_t;",
        ),
        ("c.sql", "CREATE SCHEMA app;\nCREATE TABLE other (a int);"),
    ]);
    load(&db.client, &schema)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        relations(&db.client).await,
        [
            "app.inner_t:r",
            "app.inner_v:v",
            "public.other:r",
            "public.plain:r"
        ]
    );
}

#[tokio::test]
async fn creates_named_roles_and_runs_do_blocks() {
    let db = test_db().await;
    let (reader, owner, made) = (
        format!("zdm_reader_{}", random_suffix()),
        format!("zdm_owner_{}", random_suffix()),
        format!("zdm_made_{}", random_suffix()),
    );
    let text = format!(
        "CREATE ROLE {owner} LOGIN;\nDO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{made}') THEN CREATE ROLE {made}; END IF; END $$;\nCREATE TABLE t (a int);\nALTER TABLE t OWNER TO {owner};\nGRANT SELECT ON t TO {reader}, {made};\n"
    );
    let schema = desired(&[("r.sql", &text)]);
    let report = load(&db.client, &schema)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        report.roles_created,
        [made.clone(), owner.clone(), reader.clone()]
    );
    assert!(report.notes.iter().any(|n| n.contains("DO block")));
    assert!(report.notes.iter().any(|n| n.contains("CREATE ROLE")));
    let owner_now: String = db
        .client
        .query_one(
            "SELECT tableowner::text FROM pg_tables WHERE tablename = 't'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(owner_now, owner);
}

#[tokio::test]
async fn server_errors_point_at_the_statement_and_position() {
    let db = test_db().await;
    let schema = desired(&[(
        "l.sql",
        "COMMENT ON SCHEMA public IS 'ünïcode';\nCREATE TABLE t (\n  née int REFERENCES nowhere(id)\n);\n",
    )]);
    let err = load(&db.client, &schema).await.unwrap_err();
    let LoadError::Statement {
        diagnostic, code, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(code, "42P01");
    assert_eq!(
        err.to_string(),
        "l.sql:3:22: relation \"nowhere\" does not exist"
    );
    assert!(
        diagnostic
            .render()
            .ends_with("3 |   née int REFERENCES nowhere(id)\n  |                      ^"),
        "{}",
        diagnostic.render()
    );

    // Not a dependency problem: fails at once, at the statement's start when no position.
    let db = test_db().await;
    let schema = desired(&[(
        "d.sql",
        "CREATE TABLE a (x int);\n  CREATE TABLE a (y int);\nCREATE TABLE z (x int);",
    )]);
    let err = load(&db.client, &schema).await.unwrap_err();
    assert_eq!(err.to_string(), "d.sql:2:3: relation \"a\" already exists");
}

/// `pg_dump --schema-only` output of a database is a valid desired schema: it parses, loads
/// into an empty database, and dumping that database gives the same text back.
#[tokio::test]
async fn pg_dump_output_round_trips() {
    let source = test_db().await;
    let role = format!("zdm_dump_reader_{}", random_suffix());
    let setup = format!(
        r#"
CREATE ROLE {role};
CREATE SCHEMA shop;
CREATE TYPE shop.mood AS ENUM ('happy', 'sad');
CREATE DOMAIN shop.positive AS numeric CHECK (VALUE > 0);
CREATE TABLE shop.customers (id bigserial PRIMARY KEY, name text NOT NULL, mood shop.mood DEFAULT 'happy');
CREATE TABLE shop.orders (
  id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES shop.customers (id) ON DELETE CASCADE,
  amount shop.positive,
  note text COLLATE "C",
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT amount_small CHECK (amount < 1000000) NOT VALID
);
CREATE INDEX orders_by_customer ON shop.orders (customer_id, created_at DESC) WHERE amount IS NOT NULL;
CREATE TABLE shop.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2024 PARTITION OF shop.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE FUNCTION shop.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.created_at := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON shop.orders FOR EACH ROW EXECUTE FUNCTION shop.touch();
CREATE VIEW shop.big_orders AS SELECT o.id, c.name FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id WHERE o.amount > 100;
CREATE MATERIALIZED VIEW shop.totals AS SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY 1;
CREATE FUNCTION shop.total_for(bigint) RETURNS numeric LANGUAGE sql STABLE RETURN (SELECT total FROM shop.totals WHERE customer_id = $1);
COMMENT ON TABLE shop.orders IS 'Orders — ünïcode comment';
COMMENT ON COLUMN shop.orders.amount IS 'in €';
ALTER TABLE shop.customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON shop.customers TO {role} USING (mood = 'happy');
GRANT USAGE ON SCHEMA shop TO {role};
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO {role};
CREATE SEQUENCE public.standalone START 42;
"#
    );
    source.client.batch_execute(&setup).await.unwrap();
    let dump = pg_dump(&source.conninfo);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.sql");
    std::fs::write(&path, &dump).unwrap();
    let schema = parse_desired(SourceSet::read(&[path]).unwrap())
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(schema.roles.contains(&role));

    let target = test_db().await;
    let report = load(&target.client, &schema)
        .await
        .unwrap_or_else(|e| match e {
            LoadError::Statement { diagnostic, .. } => panic!("{}", diagnostic.render()),
            e => panic!("{e}"),
        });
    assert!(report.executed > 20);
    let again = pg_dump(&target.conninfo);
    assert_eq!(strip_dump(&again), strip_dump(&dump));
}

fn pg_dump(conninfo: &str) -> String {
    let out = Command::new("pg_dump")
        .args(["--schema-only", "-d", conninfo])
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A dump without comments and blank lines (the TOC comments carry object ids) and without the
/// random `\restrict` keys.
fn strip_dump(dump: &str) -> Vec<&str> {
    dump.lines()
        .filter(|l| !l.starts_with("--") && !l.trim().is_empty() && !l.starts_with("\\"))
        .collect()
}

/// Statements go to the server in batches; what a transaction block refuses (a new enum value
/// used at once, `CREATE INDEX CONCURRENTLY`) and a statement ending in a line comment still
/// load, each exactly once.
#[tokio::test]
async fn batches_fall_back_to_one_statement_at_a_time() {
    let db = test_db().await;
    let schema = desired(&[(
        "b.sql",
        "CREATE TYPE mood AS ENUM ('calm');\n\
         ALTER TYPE mood ADD VALUE 'glad';\n\
         CREATE TABLE t (id int PRIMARY KEY, m mood DEFAULT 'glad') -- the new value, at once\n;\n\
         CREATE INDEX CONCURRENTLY t_m ON t (m);\n\
         CREATE SEQUENCE s;\n\
         CREATE TABLE u (id int DEFAULT nextval('s')); -- a comment at the end\n",
    )]);
    let report = load(&db.client, &schema)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.executed, 6);
    assert_eq!(report.retries, 0);
    assert_eq!(
        relations(&db.client).await,
        vec![
            "public.s:S",
            "public.t:r",
            "public.t_m:i",
            "public.t_pkey:i",
            "public.u:r"
        ]
    );
    let labels: Vec<String> = db
        .client
        .query(
            "SELECT enumlabel::text FROM pg_enum ORDER BY enumsortorder",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(labels, ["calm", "glad"]);
}
