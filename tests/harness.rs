//! The test harness itself, the embedded cluster's cleanup, and connection errors.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{cluster, server_conninfo, test_db};
use zdm::connect::{server_version_num, ConnectError, ConnectionTarget};
use zdm::shadow::cluster::{ClusterOptions, EmbeddedCluster};

#[tokio::test]
async fn test_dbs_are_distinct_and_isolated() {
    let a = test_db().await;
    let b = test_db().await;
    assert_ne!(a.name, b.name);
    a.exec("CREATE TABLE only_in_a (id int PRIMARY KEY); INSERT INTO only_in_a VALUES (1);")
        .await;
    let current: String = a
        .client
        .query_one("SELECT current_database()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(current, a.name);
    let seen: i64 = b
        .client
        .query_one(
            "SELECT count(*) FROM pg_class WHERE relname = 'only_in_a'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 0, "b must not see a's table");
    // conninfo is usable as a connection string
    let again = ConnectionTarget::parse(Some(&a.conninfo))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let n: i64 = again
        .query_one("SELECT count(*) FROM only_in_a", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    assert!(server_conninfo("postgres").contains("dbname=postgres"));
    assert!(server_version_num(&a.client).await.unwrap() >= 130000);
}

#[tokio::test]
async fn many_test_dbs_in_parallel() {
    let dbs = futures_util::future::join_all((0..8).map(|_| test_db())).await;
    let mut names: Vec<&str> = dbs.iter().map(|d| d.name.as_str()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8);
}

#[tokio::test]
#[should_panic(expected = "syntax error")]
async fn exec_panics_with_the_server_message() {
    let db = test_db().await;
    db.exec("CREATE TABLE x (id int);\nCREAT TABLE y (id int);")
        .await;
}

// ---- cleanup ---------------------------------------------------------------------------------

/// Gone, or a zombie nobody reaped yet.
fn process_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    cond()
}

#[test]
fn drop_stops_the_server_and_removes_the_dir() {
    let c = EmbeddedCluster::start(ClusterOptions {
        preferred_major: Some(99),
        ..ClusterOptions::default()
    })
    .unwrap();
    assert!(
        c.warnings.iter().any(|w| w.contains("PostgreSQL 99")),
        "{:?}",
        c.warnings
    );
    assert!(c.major_version() >= 13);
    let pid = c.postmaster_pid().unwrap();
    let dir = c.root_dir().to_path_buf();
    assert!(dir.join("data/PG_VERSION").exists());
    assert!(c.socket_dir().join(".s.PGSQL.5432").exists());
    drop(c);
    assert!(process_gone(pid), "postmaster {pid} still running");
    assert!(!dir.exists(), "{} still exists", dir.display());
}

const CHILD_ENV: &str = "ZDM_TEST_WATCHDOG_CHILD";

/// Not a test on its own: the body of the child process of
/// `killed_process_leaves_nothing_behind`.
#[test]
fn watchdog_child_helper() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let c = EmbeddedCluster::start(ClusterOptions::default()).unwrap();
    println!(
        "ZDM-CHILD pid={} dir={}",
        c.postmaster_pid().unwrap(),
        c.root_dir().display()
    );
    std::thread::sleep(Duration::from_secs(120));
    drop(c);
}

#[test]
fn killed_process_leaves_nothing_behind() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "watchdog_child_helper",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut found = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        // libtest prints "test watchdog_child_helper ... " before it on the same line
        if let Some((_, rest)) = line.split_once("ZDM-CHILD pid=") {
            let (pid, dir) = rest.split_once(" dir=").unwrap();
            found = Some((pid.parse::<u32>().unwrap(), PathBuf::from(dir)));
            break;
        }
    }
    let (pid, dir) = found.expect("child did not report its cluster");
    assert!(!process_gone(pid));
    assert!(dir.exists());

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    child.wait().unwrap();

    assert!(
        wait_until(Duration::from_secs(10), || process_gone(pid)),
        "postmaster {pid} survived its parent"
    );
    assert!(
        wait_until(Duration::from_secs(10), || !dir.exists()),
        "{} was not removed",
        dir.display()
    );
}

// ---- connection errors -----------------------------------------------------------------------

const RIGHT_PW: &str = "right-horse-battery";
const WRONG_PW: &str = "wrong-pass-xyzzy";

/// A role that must authenticate with a password (the harness cluster trusts everyone else).
async fn password_role() -> &'static str {
    let role = "zdm_pw_user";
    let db = test_db().await;
    // scram explicitly: PostgreSQL 13 still hashes passwords with md5 by default.
    db.exec(&format!(
        "SET password_encryption = 'scram-sha-256'; CREATE ROLE {role} LOGIN PASSWORD '{RIGHT_PW}'; GRANT CONNECT ON DATABASE postgres TO {role};"
    ))
    .await;
    let hba = cluster().data_dir().join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(&hba, format!("local all {role} scram-sha-256\n{old}")).unwrap();
    db.exec("SELECT pg_reload_conf()").await;
    role
}

fn target_for(user: &str, password: &str) -> ConnectionTarget {
    let spec = format!(
        "host='{}' port=5432 user={user} password='{password}' dbname=postgres",
        cluster().socket_dir().display()
    );
    ConnectionTarget::parse(Some(&spec)).unwrap()
}

fn assert_clean(err: &ConnectError, secret: &str) {
    let text = err.to_string();
    assert!(!text.contains(secret), "password leaked: {text}");
    assert!(
        !format!("{err:?}").contains(secret),
        "password leaked: {err:?}"
    );
    assert!(!text.contains('\n'), "not one line: {text}");
}

#[tokio::test]
async fn wrong_password_is_an_auth_error_without_the_password() {
    let role = password_role().await;
    // the reload is asynchronous: wait until the password is actually checked
    let mut last = None;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match target_for(role, WRONG_PW).connect().await {
            Err(e @ ConnectError::AuthFailed { .. }) => {
                last = Some(e);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let err = last.expect("wrong password was never rejected");
    assert_clean(&err, WRONG_PW);
    assert!(
        err.to_string().contains("password authentication failed"),
        "{err}"
    );

    // the same through a URL carrying the password
    let url = format!(
        "postgresql://{role}:{WRONG_PW}@/postgres?host={}&port=5432",
        cluster().socket_dir().display()
    );
    let target = ConnectionTarget::parse(Some(&url)).unwrap();
    assert!(!target.to_string().contains(WRONG_PW));
    let err = target.connect().await.unwrap_err();
    assert!(matches!(err, ConnectError::AuthFailed { .. }), "{err}");
    assert_clean(&err, WRONG_PW);

    // and the right password works
    let client = target_for(role, RIGHT_PW).connect().await.unwrap();
    let me: String = client
        .query_one("SELECT current_user", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(me, role);
}

#[tokio::test]
async fn unreachable_socket_names_the_socket() {
    let secret = "hunter2-secret";
    for spec in [
        format!("host=/nonexistent/zdm port=5432 user=u password={secret} dbname=d"),
        format!("postgres://u:{secret}@/d?host=/nonexistent/zdm"),
    ] {
        let err = ConnectionTarget::parse(Some(&spec))
            .unwrap()
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
        assert!(
            err.to_string().contains("/nonexistent/zdm/.s.PGSQL.5432"),
            "{err}"
        );
        assert_clean(&err, secret);
    }
}

#[tokio::test]
async fn unreachable_tcp_port() {
    let err = ConnectionTarget::parse(Some(
        "host=127.0.0.1 port=1 user=u password=pw-tcp-secret sslmode=require",
    ))
    .unwrap()
    .connect()
    .await
    .unwrap_err();
    assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    assert_clean(&err, "pw-tcp-secret");
}

#[tokio::test]
async fn missing_database() {
    let err = cluster().target("no_such_db").connect().await.unwrap_err();
    assert!(
        matches!(&err, ConnectError::DatabaseMissing { dbname, .. } if dbname == "no_such_db"),
        "{err}"
    );
}

#[tokio::test]
async fn verify_full_over_a_unix_socket_connects_without_tls() {
    // libpq does not use TLS on unix sockets, whatever sslmode says.
    let spec = format!("{} sslmode=verify-full", server_conninfo("postgres"));
    let client = ConnectionTarget::parse(Some(&spec))
        .unwrap()
        .connect()
        .await
        .unwrap();
    client.simple_query("SELECT 1").await.unwrap();
}
