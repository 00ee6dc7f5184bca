//! Helpers shared by the `apply_*` tests: running the real `zdm` binary against a harness
//! database, seeding the bundled example, checksums.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::common::{self, TestDb};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `zdm <args> --db <db> --dev-url <harness> --config <none>` (the repo's schema by default).
pub fn zdm_command(db: &TestDb, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zdm"));
    cmd.args(args)
        .arg("--db")
        .arg(&db.conninfo)
        .arg("--dev-url")
        .arg(common::server_conninfo("postgres"))
        .arg("--config")
        .arg(repo().join("tests/apply_support/none.toml"));
    if !args.contains(&"--schema") {
        cmd.arg("--schema").arg(repo().join("schema"));
    }
    cmd.stdin(Stdio::null());
    cmd
}

pub fn zdm(db: &TestDb, args: &[&str]) -> Output {
    zdm_command(db, args).output().expect("run zdm")
}

pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `zdm apply --phase PHASE --yes --lock-timeout MS --schema SCHEMA --skip-rollback-window`
/// plus `extra`, off the async workers (a traffic test's clients keep running), insisting on
/// exit 0: the timed suites' one way to run a phase.
pub async fn apply_phase(
    db: &TestDb,
    phase: &str,
    schema: &str,
    lock_timeout_ms: u64,
    extra: &[&str],
) -> Output {
    let timeout = lock_timeout_ms.to_string();
    let mut args = vec![
        "apply",
        "--phase",
        phase,
        "--yes",
        "--lock-timeout",
        &timeout,
        "--schema",
        schema,
        "--skip-rollback-window",
    ];
    args.extend(extra);
    let mut cmd = zdm_command(db, &args);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "zdm apply --phase {phase}:\n{}",
        text(&out)
    );
    out
}

/// Run zdm and insist on exit 0.
pub fn zdm_ok(db: &TestDb, args: &[&str]) -> Output {
    let out = zdm(db, args);
    assert!(out.status.success(), "zdm {args:?} failed:\n{}", text(&out));
    out
}

/// The bundled example's v1 schema with `users` users and `orders` orders.
pub async fn seed_example(db: &TestDb, users: i64, orders: i64) {
    let v1 = std::fs::read_to_string(repo().join("examples/shop/v1/schema.sql")).unwrap();
    db.exec(&v1).await;
    db.exec(&format!(
        "INSERT INTO users (first_name, last_name, legacy_field) \
           SELECT 'first' || g, 'last' || g, 'legacy' || g FROM generate_series(1, {users}) g;
         INSERT INTO orders (customer_id, amount, created_at) \
           SELECT 1 + g % {users}, 1 + g % 500, now() - g * interval '1 minute' FROM generate_series(1, {orders}) g;
         ANALYZE users; ANALYZE orders;"
    ))
    .await;
}

/// A digest of the columns that survive the migration, to prove no row was lost or changed.
pub async fn checksum(db: &TestDb) -> (String, String) {
    let users: String = db
        .client
        .query_one(
            "SELECT md5(string_agg(id || ':' || coalesce(first_name, '') || ':' || coalesce(last_name, '') \
             || ':' || coalesce(legacy_field, ''), ',' ORDER BY id)) FROM users",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let orders: String = db
        .client
        .query_one(
            "SELECT md5(string_agg(id || ':' || customer_id || ':' || coalesce(amount::text, '') \
             || ':' || coalesce(created_at::text, ''), ',' ORDER BY id)) FROM orders",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (users, orders)
}

pub async fn count(db: &TestDb, sql: &str) -> i64 {
    db.client.query_one(sql, &[]).await.unwrap().get(0)
}
