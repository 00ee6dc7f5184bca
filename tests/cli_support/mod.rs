//! Running the real `zdm` binary from tests: the shadow goes to the harness cluster
//! (`--dev-url`), output is captured, and snapshot filters hide what changes between runs.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common;

pub mod schema;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr, for assertion messages.
    pub fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// stderr without `note:` lines (unmanaged objects, warnings).
    pub fn errors(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("note:"))
            .collect()
    }
}

/// Run `zdm` with `args`, in the crate's directory, with no connection settings inherited.
pub async fn zdm<S: AsRef<str>>(args: &[S]) -> Run {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_zdm"));
    command
        .args(args.iter().map(|a| a.as_ref()))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    for var in [
        "DATABASE_URL",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSSLMODE",
        "CLICOLOR_FORCE",
        "FORCE_COLOR",
    ] {
        command.env_remove(var);
    }
    let output = command.output().await.expect("zdm runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `verb... --db DB --schema SCHEMA --dev-url <harness cluster> extra...`
pub async fn zdm_on(verb: &[&str], db: &str, schema: &Path, extra: &[&str]) -> Run {
    let mut args: Vec<String> = verb.iter().map(|s| s.to_string()).collect();
    args.extend([
        "--db".to_string(),
        db.to_string(),
        "--schema".to_string(),
        schema.display().to_string(),
        "--dev-url".to_string(),
        dev_url(),
    ]);
    args.extend(extra.iter().map(|s| s.to_string()));
    zdm(&args).await
}

/// Every phase in one go, all hazards allowed, no questions.
pub async fn apply_all(db: &str, schema: &Path) -> Run {
    zdm_on(crate::common::APPLY_ALL, db, schema, &[]).await
}

/// The shadow database on the harness cluster: a CREATE DATABASE instead of an initdb.
pub fn dev_url() -> String {
    common::server_conninfo("postgres")
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The bundled example: the live side's starting point and the desired schema.
pub fn example_v1_sql() -> String {
    std::fs::read_to_string(repo_path("examples/shop/v1/schema.sql")).unwrap()
}

pub fn example_schema_dir() -> PathBuf {
    repo_path("schema")
}

/// A directory holding one schema file with `sql` in it.
pub fn schema_dir(sql: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("schema.sql"), sql).unwrap();
    dir
}

/// Snapshot filters: temp paths, test database names, fingerprints, timings.
pub fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"/tmp/\.tmp[A-Za-z0-9]+", "[TMP]"),
        (r"\bt\d+_[a-z0-9_]+\b", "[DB]"),
        (r"\b[0-9a-f]{64}\b", "[FINGERPRINT]"),
        (
            r"made against schema [0-9a-f]{16}",
            "made against schema [FINGERPRINT]",
        ),
        (r"in \d+(\.\d+)?(ns|µs|ms|s)\b", "in [DURATION]"),
    ]
}

/// Wait until `cond` holds (for asynchronous server-side effects such as a config reload).
pub async fn eventually<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cond().await
}

/// A stable text picture of a database's schema (catalog rows, no OIDs) and of its data
/// (a digest per table), to prove a command changed nothing.
pub async fn fingerprint_db(client: &tokio_postgres::Client) -> String {
    // (line, FROM ...): one sorted line per catalog row.
    let pictures = [
        // relations and their kinds
        ("format('%s.%s %s %s', n.nspname, c.relname, c.relkind, c.relpersistence)",
         "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"),
        // columns, types, defaults, nullability
        ("format('%s.%s %s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                 a.attnotnull, a.attisdropped, pg_get_expr(d.adbin, d.adrelid))",
         "pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attnum > 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"),
        // constraints (with validation state)
        ("format('%s %s %s %s', conrelid::regclass, conname, convalidated, pg_get_constraintdef(oid))",
         "pg_constraint WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)"),
        // indexes (with validity)
        ("format('%s %s %s', indexrelid::regclass, indisvalid, pg_get_indexdef(indexrelid))",
         "pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"),
        // schemas, types, triggers, functions
        ("nspname::text", "pg_namespace"),
        ("format('%s %s', t.typname, t.typtype)",
         "pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"),
        ("tgname::text", "pg_trigger"),
        ("p.proname::text",
         "pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"),
    ];
    let queries = pictures.map(|(line, from)| {
        format!("SELECT string_agg(l, E'\\n' ORDER BY l) FROM (SELECT {line} AS l FROM {from}) s")
    });
    let mut out = String::new();
    for q in &queries {
        let row = client.query_one(q.as_str(), &[]).await.unwrap_or_else(|e| {
            panic!("{}\n{q}", zdm::shadow::db_message(&e));
        });
        let text: Option<String> = row.get(0);
        out.push_str(&text.unwrap_or_default());
        out.push_str("\n----\n");
    }
    // the data of every user table
    let tables = client
        .query(
            "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    for t in tables {
        let name: String = t.get(0);
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*), md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {name} x"
                ),
                &[],
            )
            .await
            .unwrap();
        let (n, digest): (i64, String) = (row.get(0), row.get(1));
        out.push_str(&format!("{name}: {n} rows, {digest}\n"));
    }
    out
}

/// Row-change counters of the user tables (inserted, updated, deleted), after the other
/// sessions' statistics have been flushed.
pub async fn write_counters(client: &tokio_postgres::Client) -> String {
    client
        .batch_execute("SELECT pg_stat_clear_snapshot()")
        .await
        .unwrap();
    let rows = client
        .query(
            "SELECT format('%s.%s ins=%s upd=%s del=%s', schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del)
               FROM pg_stat_user_tables ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The bundled example's starting point, with rows (so every step is planned the safe way).
pub async fn v1_db() -> common::TestDb {
    let db = common::test_db().await;
    db.exec(&example_v1_sql()).await;
    db.exec(
        "INSERT INTO orgs VALUES ('00000000-0000-0000-0000-000000000001');
         INSERT INTO users (first_name, last_name, legacy_field)
              SELECT 'first' || i, 'last' || i, 'x' FROM generate_series(1, 500) i;
         INSERT INTO orders (customer_id, amount) SELECT i % 10, i FROM generate_series(1, 500) i;",
    )
    .await;
    db
}

/// The bundled example with `display_name` given a constant default instead of the
/// `-- zdm:backfill` annotation, for
/// the gating tests, which are about apply's refusals rather than the example's plan.
pub fn gating_schema() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in ["orgs.sql", "orders.sql"] {
        std::fs::copy(example_schema_dir().join(file), dir.path().join(file)).unwrap();
    }
    std::fs::write(
        dir.path().join("users.sql"),
        "CREATE TABLE users (id bigserial PRIMARY KEY, display_name varchar(200) NOT NULL DEFAULT '');\n",
    )
    .unwrap();
    dir
}

pub async fn column_exists(db: &common::TestDb, table: &str, column: &str) -> bool {
    db.client
        .query_one(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
            &[&table, &column],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 1
}
