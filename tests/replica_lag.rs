//! `--max-replica-lag` against a real streaming standby of the harness cluster
//! (`pg_basebackup -R`, its own socket directory and port): with replay paused on the
//! standby, the backfill issues no batch; once replay resumes it finishes, and the standby's
//! rows equal the primary's.

mod cli_support;
mod common;

use cli_support::{dev_url, schema_dir, zdm};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A hot standby streaming from the harness cluster; killed and removed on drop.
struct Standby {
    dir: tempfile::TempDir,
    port: u16,
    postmaster: Child,
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.postmaster.kill();
        let _ = self.postmaster.wait();
    }
}

/// Run as `nobody` when we are root, as the harness runs its cluster.
fn as_server_user(cmd: &mut Command, dir: &Path) {
    if nix::unistd::geteuid().is_root() {
        let user = nix::unistd::User::from_name("nobody").unwrap().unwrap();
        nix::unistd::chown(dir, Some(user.uid), Some(user.gid)).unwrap();
        cmd.uid(user.uid.as_raw()).gid(user.gid.as_raw());
    }
}

impl Standby {
    fn start() -> Standby {
        let cluster = common::cluster();
        let bin = cluster.bin_dir().to_path_buf();
        let dir = tempfile::tempdir().unwrap();
        let data: PathBuf = dir.path().join("data");
        let primary = cluster.target("postgres");
        let mut base = Command::new(bin.join("pg_basebackup"));
        base.arg("-h")
            .arg(cluster.socket_dir())
            .args(["-p", &cluster.port().to_string()])
            .args([
                "-U",
                primary.user().unwrap(),
                "-X",
                "stream",
                "-R",
                "-c",
                "fast",
                "-D",
            ])
            .arg(&data)
            .stdin(Stdio::null());
        as_server_user(&mut base, dir.path());
        let out = base.output().expect("pg_basebackup runs");
        assert!(
            out.status.success(),
            "pg_basebackup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = cluster.port() + 1;
        let log = std::fs::File::create(dir.path().join("standby.log")).unwrap();
        let mut postgres = Command::new(bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=", "-c", "hot_standby=on"])
            .args([
                "-c",
                "shared_preload_libraries=",
                "-c",
                "max_connections=200",
            ])
            .stdin(Stdio::null())
            .stderr(log)
            .process_group(0);
        as_server_user(&mut postgres, dir.path());
        let postmaster = postgres.spawn().expect("the standby starts");
        Standby {
            dir,
            port,
            postmaster,
        }
    }

    async fn connect(&self, dbname: &str) -> tokio_postgres::Client {
        let target = zdm::connect::ConnectionTarget::unix_socket(
            self.dir.path(),
            self.port,
            common::cluster().target("postgres").user().unwrap(),
            dbname,
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match target.connect().await {
                Ok(c) => return c,
                Err(e) if Instant::now() > deadline => panic!(
                    "standby: {e}\n{}",
                    std::fs::read_to_string(self.dir.path().join("standby.log"))
                        .unwrap_or_default()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// The standby has replayed everything the primary has written so far.
async fn caught_up(primary: &tokio_postgres::Client) -> bool {
    primary
        .query_one(
            "SELECT coalesce(count(*) = 1 AND bool_and(replay_lsn >= pg_current_wal_lsn()), false) \
             FROM pg_stat_replication",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

async fn wait_caught_up(primary: &tokio_postgres::Client) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !caught_up(primary).await {
        assert!(Instant::now() < deadline, "the standby never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const ROWS: i64 = 20_000;

async fn filled(client: &tokio_postgres::Client) -> (i64, i64, Option<i64>) {
    let r = client
        .query_one("SELECT count(*), count(c), sum(c)::bigint FROM app.t", &[])
        .await
        .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

#[tokio::test]
async fn the_backfill_waits_while_the_standby_is_behind_and_ends_equal_to_it() {
    let db = common::test_db().await;
    db.exec(&format!(
        "CREATE SCHEMA app;
         CREATE TABLE app.t (id bigint PRIMARY KEY, a int NOT NULL, b int NOT NULL);
         INSERT INTO app.t SELECT g, g % 97, g % 13 FROM generate_series(1, {ROWS}) g;
         CREATE TABLE app.filler (x text);"
    ))
    .await;
    let schema = schema_dir(
        "CREATE SCHEMA app;
CREATE TABLE app.t (
    id bigint PRIMARY KEY,
    a int NOT NULL,
    b int NOT NULL,
    c int -- zdm:backfill a + b
);
CREATE TABLE app.filler (x text);
",
    );
    let plan_file = schema.path().join("plan.json").display().to_string();
    let apply = |phase: &'static str| {
        let args: Vec<String> = [
            "apply",
            "--phase",
            phase,
            "--yes",
            "--db",
            &db.conninfo,
            "--schema",
            &schema.path().display().to_string(),
            "--dev-url",
            &dev_url(),
            "--max-replica-lag",
            "256kB",
            "--batch-target-ms",
            "20",
            "--plan",
            &plan_file,
        ]
        .map(String::from)
        .to_vec();
        args
    };
    let standby = Standby::start();
    let replica = standby.connect(&db.name).await;
    wait_caught_up(&db.client).await;

    // A saved plan: the phases of one migration, run one at a time.
    let mut plan_args = apply("expand");
    plan_args.splice(0..4, ["plan".to_string()]);
    plan_args.truncate(plan_args.len() - 6);
    plan_args.extend(["--out".to_string(), plan_file.clone()]);
    let plan = zdm(&plan_args).await;
    assert_eq!(plan.code, 1, "{}", plan.text());
    let expand = zdm(&apply("expand")).await;
    assert_eq!(expand.code, 0, "{}", expand.text());
    wait_caught_up(&db.client).await;

    // Stop replay, then write well past the bound.
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    db.exec("INSERT INTO app.filler SELECT repeat('x', 200) FROM generate_series(1, 20000)")
        .await;
    assert!(!caught_up(&db.client).await);

    let backfill = tokio::spawn({
        let args = apply("backfill");
        async move { zdm(&args).await }
    });
    // Long enough for zdm to plan and reach its first batch several times over.
    tokio::time::sleep(Duration::from_secs(6)).await;
    if backfill.is_finished() {
        panic!(
            "the backfill did not wait:\n{}",
            backfill.await.unwrap().text()
        );
    }
    assert_eq!(
        filled(&db.client).await.1,
        0,
        "a batch ran while the standby was behind"
    );

    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    let run = tokio::time::timeout(Duration::from_secs(120), backfill)
        .await
        .expect("the backfill finishes once replay resumes")
        .unwrap();
    assert_eq!(run.code, 0, "{}", run.text());
    assert!(
        run.stderr.contains("waiting for replicas (bound 256.0 kB)")
            && run.stderr.contains("behind"),
        "{}",
        run.text()
    );
    let primary_rows = filled(&db.client).await;
    assert_eq!(primary_rows.0, ROWS);
    assert_eq!(primary_rows.1, ROWS, "every row filled");
    wait_caught_up(&db.client).await;
    assert_eq!(filled(&replica).await, primary_rows);
    drop(replica);
    drop(standby);
    db.drop().await;
}
