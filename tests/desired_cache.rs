//! The cached desired schema (`src/workspace/cached.rs`) through the real binary: a second
//! command with unchanged files loads no shadow, anything that decides the model (a file, the
//! server, a corrupt entry) is a miss, `--no-cache` bypasses, and parallel writers leave
//! readable entries.
//!
//! "Loads no shadow" is shown two ways: the cache's own report on stderr (`ZDM_CACHE_LOG`),
//! and a dev server role that loses CREATEDB after the first run, so any shadow database the
//! second run tried to create would fail it.

mod common;

use std::path::Path;

use zdm::workspace::cached::{self, Cache};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn text(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    fn logged(&self, line: &str) -> bool {
        self.stderr
            .lines()
            .any(|l| l.starts_with(&format!("zdm cache: {line}")))
    }
}

async fn zdm(args: &[&str], cache_dir: &Path) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_zdm"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("ZDM_CACHE_DIR", cache_dir)
        .env("ZDM_CACHE_LOG", "1")
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .expect("zdm runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A live database with one table, a schema directory that adds a column to it, and a
/// login role with CREATEDB on the harness cluster for `--dev-url`.
struct Setup {
    db: common::TestDb,
    schema: tempfile::TempDir,
    cache: tempfile::TempDir,
    role: String,
    dev_url: String,
}

async fn setup(role_hint: &str) -> Setup {
    let db = common::test_db().await;
    db.exec("CREATE TABLE t (id int PRIMARY KEY)").await;
    let schema = tempfile::tempdir().unwrap();
    std::fs::write(
        schema.path().join("schema.sql"),
        "CREATE TABLE t (id int PRIMARY KEY, name text);\n",
    )
    .unwrap();
    let role = format!("{role_hint}_{:08x}", rand::random::<u32>());
    // A member of the live tables' owner: the rehearsal's copy of the live schema gives them
    // to it.
    admin(&format!(
        "CREATE ROLE {role} LOGIN CREATEDB; \
         DO $$ BEGIN EXECUTE format('GRANT %I TO {role}', current_user); END $$"
    ))
    .await;
    let cluster = common::cluster();
    let dev_url = format!(
        "host={} port={} user={role} dbname=postgres",
        cluster.socket_dir().display(),
        cluster.port()
    );
    Setup {
        db,
        schema,
        cache: tempfile::tempdir().unwrap(),
        role,
        dev_url,
    }
}

async fn admin(sql: &str) {
    let client = common::cluster()
        .target("postgres")
        .connect()
        .await
        .unwrap();
    client.batch_execute(sql).await.unwrap();
}

impl Setup {
    async fn run(&self, verb: &str, extra: &[&str]) -> Run {
        let schema = self.schema.path().display().to_string();
        let mut args = vec![
            verb,
            "--db",
            &self.db.conninfo,
            "--schema",
            &schema,
            "--dev-url",
            &self.dev_url,
        ];
        args.extend(extra);
        zdm(&args, self.cache.path()).await
    }
}

#[tokio::test]
async fn a_second_plan_with_unchanged_files_loads_no_shadow() {
    let s = setup("cache_hit").await;
    let first = s.run("plan", &[]).await;
    assert_eq!(first.code, 1, "{}", first.text());
    assert!(first.stdout.contains("ADD COLUMN"), "{}", first.text());
    assert!(first.logged("desired miss"), "{}", first.text());
    assert!(first.logged("desired stored"), "{}", first.text());
    assert!(first.logged("rehearsal stored"), "{}", first.text());

    // From now on a shadow database cannot be created on the dev server.
    admin(&format!("ALTER ROLE {} NOCREATEDB", s.role)).await;
    let second = s.run("plan", &[]).await;
    assert_eq!(second.code, 1, "{}", second.text());
    assert_eq!(second.stdout, first.stdout, "{}", second.text());
    assert!(second.logged("desired hit"), "{}", second.text());
    assert!(second.logged("rehearsal hit"), "{}", second.text());
    assert!(!second.stderr.contains("stored"), "{}", second.text());

    // diff and status read the same cached model.
    for verb in ["diff", "status"] {
        let run = s.run(verb, &[]).await;
        assert!(run.code == 0 || run.code == 1, "{verb}: {}", run.text());
        assert!(run.logged("desired hit"), "{verb}: {}", run.text());
    }

    // --no-cache loads the files, which the role can no longer do: proof that the runs above
    // did not.
    let bypass = s.run("plan", &["--no-cache"]).await;
    assert_eq!(bypass.code, 2, "{}", bypass.text());
    assert!(
        bypass
            .stderr
            .contains("permission denied to create database"),
        "{}",
        bypass.text()
    );
    assert!(!bypass.stderr.contains("zdm cache:"), "{}", bypass.text());
    admin(&format!("DROP ROLE {}", s.role)).await;
    s.db.drop().await;
}

#[tokio::test]
async fn a_changed_file_is_a_miss() {
    let s = setup("cache_file").await;
    let first = s.run("plan", &["--format", "sql"]).await;
    assert!(first.logged("desired stored"), "{}", first.text());
    std::fs::write(
        s.schema.path().join("schema.sql"),
        "CREATE TABLE t (id int PRIMARY KEY, label text);\n",
    )
    .unwrap();
    let second = s.run("plan", &["--format", "sql"]).await;
    assert_eq!(second.code, 1, "{}", second.text());
    assert!(second.logged("desired miss"), "{}", second.text());
    assert!(second.stdout.contains("label"), "{}", second.text());
    assert!(!second.stdout.contains("COLUMN name"), "{}", second.text());
    // A new file in the directory changes the key too.
    std::fs::write(
        s.schema.path().join("more.sql"),
        "CREATE TABLE u (id int);\n",
    )
    .unwrap();
    let third = s.run("plan", &["--format", "sql"]).await;
    assert!(third.logged("desired miss"), "{}", third.text());
    assert!(third.stdout.contains("CREATE TABLE"), "{}", third.text());
    admin(&format!("DROP ROLE {}", s.role)).await;
    s.db.drop().await;
}

#[tokio::test]
async fn a_corrupt_or_deleted_entry_is_a_miss_not_an_error() {
    let s = setup("cache_corrupt").await;
    let first = s.run("plan", &[]).await;
    assert_eq!(first.code, 1, "{}", first.text());
    let entries: Vec<_> = std::fs::read_dir(s.cache.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!entries.is_empty());
    for (i, path) in entries.iter().enumerate() {
        // Truncated, garbage, empty: whatever a crash or a disk might leave.
        let bytes = std::fs::read(path).unwrap();
        let damaged: &[u8] = match i % 3 {
            0 => &bytes[..bytes.len() / 2],
            1 => b"\x00\xffnot json",
            _ => b"",
        };
        std::fs::write(path, damaged).unwrap();
    }
    let second = s.run("plan", &[]).await;
    assert_eq!(second.code, 1, "{}", second.text());
    assert_eq!(second.stdout, first.stdout);
    assert!(second.logged("desired miss"), "{}", second.text());
    assert!(second.logged("desired stored"), "{}", second.text());

    std::fs::remove_dir_all(s.cache.path()).unwrap();
    let third = s.run("plan", &[]).await;
    assert_eq!(third.code, 1, "{}", third.text());
    assert!(third.logged("desired miss"), "{}", third.text());
    let fourth = s.run("plan", &[]).await;
    assert!(fourth.logged("desired hit"), "{}", fourth.text());
    admin(&format!("DROP ROLE {}", s.role)).await;
    s.db.drop().await;
}

#[tokio::test]
async fn parallel_writers_leave_whole_entries() {
    let s = setup("cache_parallel").await;
    let runs = futures_util::future::join_all((0..6).map(|_| s.run("plan", &[]))).await;
    for run in &runs {
        assert_eq!(run.code, 1, "{}", run.text());
        assert_eq!(run.stdout, runs[0].stdout, "{}", run.text());
    }
    let names: Vec<String> = std::fs::read_dir(s.cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.starts_with(".tmp-")),
        "temporary files left: {names:?}"
    );
    admin(&format!("ALTER ROLE {} NOCREATEDB", s.role)).await;
    let after = s.run("plan", &[]).await;
    assert_eq!(after.code, 1, "{}", after.text());
    assert!(after.logged("desired hit"), "{}", after.text());
    assert!(after.logged("rehearsal hit"), "{}", after.text());
    admin(&format!("DROP ROLE {}", s.role)).await;
    s.db.drop().await;
}

/// The server is part of the key: the same files cached for one major are a miss for
/// another. (One major is installed here, so the two servers are told apart by the identity
/// string `Cache` keys by, which for an embedded shadow is "embedded <major> <bin dir>".)
#[tokio::test]
async fn another_server_major_is_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    let schema = tempfile::tempdir().unwrap();
    std::fs::write(schema.path().join("s.sql"), "CREATE TABLE v (id int);\n").unwrap();
    let paths = [schema.path().to_path_buf()];
    let shadow = zdm::shadow::ShadowSource::DevServer(common::cluster().target("postgres"));
    let store = || zdm::cache::Store::at(dir.path());
    let on_15 = Cache::with_store(store(), "embedded 15 /usr/lib/postgresql/15/bin".into());
    let on_16 = Cache::with_store(store(), "embedded 16 /usr/lib/postgresql/16/bin".into());

    let first = cached::open(&paths, &shadow, Some(&on_15)).await.unwrap();
    assert!(first.database.is_some(), "loaded the first time");
    let again = cached::open(&paths, &shadow, Some(&on_15)).await.unwrap();
    assert!(again.database.is_none(), "served from the cache");
    assert_eq!(again.side.model, first.side.model);
    let other = cached::open(&paths, &shadow, Some(&on_16)).await.unwrap();
    assert!(other.database.is_some(), "another major loads the files");
    for opened in [first, other] {
        opened.database.unwrap().close().await.unwrap();
    }
}
