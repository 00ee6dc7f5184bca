//! `zdm dump` end to end: a database dumped into files diffs clean against them, in every
//! layout; dumping again changes nothing; a re-dump after a change touches only the files of
//! the objects that changed.

mod cli_support;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cli_support::{dev_url, example_schema_dir, zdm, zdm_on};

/// Every kind a dump writes, with what hangs off each: comments, grants, partitions, a
/// foreign-key cycle, a constraint not validated yet, a serial and a free sequence.
const RICH_SCHEMA: &str = r#"
CREATE SCHEMA app;
COMMENT ON SCHEMA app IS 'the application';
CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;
CREATE TYPE app.status AS ENUM ('new', 'paid', 'shipped');
CREATE DOMAIN app.positive AS integer CHECK (VALUE > 0);
CREATE SEQUENCE app.invoice_numbers START WITH 1000 INCREMENT BY 10;
CREATE TABLE app.customers (
    id serial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    favourite_order bigint
);
CREATE TABLE app.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES app.customers (id),
    status app.status NOT NULL DEFAULT 'new',
    quantity app.positive,
    note text
);
ALTER TABLE app.customers ADD CONSTRAINT customers_favourite_fkey
    FOREIGN KEY (favourite_order) REFERENCES app.orders (id);
ALTER TABLE app.orders ADD CONSTRAINT orders_note_short CHECK (length(note) < 500) NOT VALID;
CREATE INDEX orders_customer ON app.orders (customer_id) WHERE note IS NOT NULL;
COMMENT ON TABLE app.orders IS 'one per checkout';
COMMENT ON COLUMN app.orders.note IS 'free text';
CREATE TABLE app.events (at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_at ON app.events (at);
CREATE VIEW app.open_orders AS SELECT id, customer_id FROM app.orders WHERE status <> 'shipped';
CREATE MATERIALIZED VIEW app.order_counts AS
    SELECT customer_id, count(*) AS n FROM app.orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_counts_customer ON app.order_counts (customer_id);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.note := coalesce(NEW.note, ''); RETURN NEW; END $$;
CREATE FUNCTION app.double(x integer) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
CREATE FUNCTION app.double(x bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
CREATE TRIGGER orders_touch BEFORE INSERT ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_orders ON app.orders FOR SELECT TO dump_reader USING (customer_id > 0);
GRANT USAGE ON SCHEMA app TO dump_reader;
GRANT SELECT ON app.open_orders TO dump_reader;
GRANT SELECT (id, email) ON app.customers TO dump_reader;
REVOKE EXECUTE ON FUNCTION app.double(integer) FROM PUBLIC;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO dump_reader;
"#;

async fn rich_db() -> common::TestDb {
    let db = common::test_db().await;
    // Roles are cluster-wide and other tests share the cluster.
    db.exec(
        "DO $$ BEGIN CREATE ROLE dump_reader NOLOGIN;
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$;",
    )
    .await;
    db.exec(RICH_SCHEMA).await;
    db
}

async fn dump(db: &str, out: &Path, extra: &[&str]) -> cli_support::Run {
    let mut args = vec![
        "dump".to_string(),
        "--db".to_string(),
        db.to_string(),
        "--out".to_string(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    zdm(&args).await
}

/// Every file under `dir`, relative path to contents.
fn read_tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap();
                files.insert(path.strip_prefix(dir).unwrap().to_path_buf(), text);
            }
        }
    }
    files
}

async fn assert_diffs_clean(db: &str, schema: &Path) {
    let diff = zdm_on(&["diff"], db, schema, &[]).await;
    let files = read_tree(schema);
    assert_eq!(
        diff.code,
        0,
        "the dump differs from its database:\n{}\n{files:#?}",
        diff.text()
    );
}

#[tokio::test]
async fn a_dump_diffs_clean_against_its_database_in_every_layout() {
    let db = rich_db().await;
    for layout in ["per-object", "per-schema", "flat"] {
        let out = tempfile::tempdir().unwrap();
        let run = dump(&db.conninfo, out.path(), &["--layout", layout]).await;
        assert_eq!(run.code, 0, "{layout}: {}", run.text());
        assert_diffs_clean(&db.conninfo, out.path()).await;
    }
}

#[tokio::test]
async fn the_per_object_layout_puts_each_object_in_its_own_file() {
    let db = rich_db().await;
    let out = tempfile::tempdir().unwrap();
    let run = dump(&db.conninfo, out.path(), &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let files = read_tree(out.path());
    let paths: Vec<String> = files.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(
        paths,
        [
            "app/functions/double.sql",
            "app/functions/touch.sql",
            "app/schema.sql",
            "app/sequences/invoice_numbers.sql",
            "app/tables/customers.sql",
            "app/tables/events.sql",
            "app/tables/orders.sql",
            "app/types/positive.sql",
            "app/types/status.sql",
            "app/views/open_orders.sql",
            "app/views/order_counts.sql",
            "default_privileges.sql",
            "extensions.sql",
        ]
    );
    let customers = &files[Path::new("app/tables/customers.sql")];
    let sequence = customers
        .find("CREATE SEQUENCE app.customers_id_seq")
        .unwrap();
    let table = customers.find("CREATE TABLE app.customers").unwrap();
    assert!(
        sequence < table,
        "a serial's sequence comes before its table:\n{customers}"
    );
    assert!(
        customers
            .contains("GRANT SELECT (email), SELECT (id) ON TABLE app.customers TO dump_reader;")
            || customers.contains("GRANT SELECT (id) ON TABLE app.customers TO dump_reader;"),
        "{customers}"
    );
    let events = &files[Path::new("app/tables/events.sql")];
    assert!(events.contains("PARTITION OF app.events"), "{events}");
    let orders = &files[Path::new("app/tables/orders.sql")];
    for fact in [
        "NOT VALID;",
        "CREATE TRIGGER orders_touch",
        "ALTER TABLE app.orders ENABLE ROW LEVEL SECURITY;",
        "CREATE POLICY own_orders",
        "COMMENT ON COLUMN app.orders.note IS 'free text';",
    ] {
        assert!(orders.contains(fact), "missing {fact:?}:\n{orders}");
    }
    let double = &files[Path::new("app/functions/double.sql")];
    assert_eq!(
        double.matches("CREATE OR REPLACE FUNCTION").count(),
        2,
        "{double}"
    );
    assert!(
        double.contains("REVOKE EXECUTE ON FUNCTION app.double(integer) FROM PUBLIC;"),
        "{double}"
    );
    assert!(
        run.stdout
            .contains("13 created, 0 updated, 0 removed, 0 unchanged"),
        "{}",
        run.text()
    );
}

#[tokio::test]
async fn dumping_again_rewrites_only_what_changed() {
    let db = rich_db().await;
    let out = tempfile::tempdir().unwrap();
    assert_eq!(dump(&db.conninfo, out.path(), &[]).await.code, 0);
    let first = read_tree(out.path());

    let again = dump(&db.conninfo, out.path(), &[]).await;
    assert_eq!(again.code, 0, "{}", again.text());
    assert_eq!(
        read_tree(out.path()),
        first,
        "a second dump is byte-identical"
    );
    assert!(
        again
            .stdout
            .contains("0 created, 0 updated, 0 removed, 13 unchanged"),
        "{}",
        again.text()
    );

    std::fs::write(out.path().join("notes.sql"), "-- written by hand\n").unwrap();
    db.exec("ALTER TABLE app.orders ADD COLUMN shipped_at timestamptz; DROP VIEW app.open_orders;")
        .await;
    let after = dump(&db.conninfo, out.path(), &[]).await;
    assert_eq!(after.code, 0, "{}", after.text());
    assert!(
        after
            .stdout
            .contains("0 created, 1 updated, 1 removed, 11 unchanged"),
        "{}",
        after.text()
    );
    assert!(
        after.stdout.contains("~ ") && after.stdout.contains("app/tables/orders.sql"),
        "{}",
        after.text()
    );
    assert!(
        after.stdout.contains("notes.sql left alone"),
        "{}",
        after.text()
    );
    let now = read_tree(out.path());
    assert!(!now.contains_key(Path::new("app/views/open_orders.sql")));
    assert!(now[Path::new("app/tables/orders.sql")].contains("shipped_at timestamp with time zone"));
    assert_eq!(now[Path::new("notes.sql")], "-- written by hand\n");
}

#[tokio::test]
async fn the_bundled_example_round_trips_and_the_scope_limits_a_dump() {
    let db = common::test_db().await;
    let example = example_schema_dir();
    db.exec(&cli_support::example_v1_sql()).await;
    let applied = cli_support::apply_all(&db.conninfo, &example).await;
    assert_eq!(applied.code, 0, "{}", applied.text());
    db.exec(
        "CREATE TABLE public.hangfire_job (id int); CREATE TYPE public.pair AS (a int, b int);",
    )
    .await;

    let out = tempfile::tempdir().unwrap();
    let run = dump(&db.conninfo, out.path(), &["--ignore", "public.hangfire_*"]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let files = read_tree(out.path());
    assert!(
        files.contains_key(Path::new("public/tables/orders.sql")),
        "{files:#?}"
    );
    assert!(
        !files.contains_key(Path::new("public/tables/hangfire_job.sql")),
        "{files:#?}"
    );
    assert!(
        run.stderr.contains("left alone by the scope"),
        "{}",
        run.text()
    );
    let diff = zdm(&[
        "diff",
        "--db",
        &db.conninfo,
        "--schema",
        &out.path().display().to_string(),
        "--dev-url",
        &dev_url(),
        "--ignore",
        "public.hangfire_*",
    ])
    .await;
    assert_eq!(diff.code, 0, "{}", diff.text());
    let users = &files[Path::new("public/tables/users.sql")];
    assert!(
        users.contains("display_name character varying(200) NOT NULL"),
        "{users}"
    );
    assert!(
        !users.contains("zdm:"),
        "annotations are for migrations, not the dump:\n{users}"
    );
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_is_an_error_and_writes_nothing() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("schema");
    let run = dump("postgres://nobody@127.0.0.1:1/none", &target, &[]).await;
    assert_eq!(run.code, 2, "{}", run.text());
    assert!(run.stderr.starts_with("error:"), "{}", run.text());
    assert!(!target.exists(), "nothing written");
}

/// An extension at a version other than its default is dumped with that VERSION, so the
/// files pin what the database has (a database built from them gets the same version); one
/// at its default is dumped without, so the files follow the server's default.
#[tokio::test]
async fn an_extension_off_its_default_version_is_dumped_with_it() {
    let db = common::test_db().await;
    db.client
        .batch_execute(
            "CREATE EXTENSION citext VERSION '1.4' SCHEMA public;
             CREATE EXTENSION pg_trgm SCHEMA public;",
        )
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = dump(&db.conninfo, out.path(), &[]).await;
    assert_eq!(run.code, 0, "{}", run.text());
    let files = read_tree(out.path());
    let extensions = &files[Path::new("extensions.sql")];
    assert!(
        extensions
            .contains("CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public VERSION '1.4';"),
        "{extensions}"
    );
    assert!(
        extensions.contains("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;"),
        "{extensions}"
    );
    assert_diffs_clean(&db.conninfo, out.path()).await;

    let built = common::test_db().await;
    built.client.batch_execute(extensions).await.unwrap();
    let version: String = built
        .client
        .query_one(
            "SELECT extversion FROM pg_extension WHERE extname = 'citext'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, "1.4", "a database built from the dump");
}
