//! Shared test harness: one throwaway PostgreSQL cluster per test binary (started lazily,
//! removed by its watchdog when the test process exits), one fresh database per test.
#![allow(dead_code)]

pub mod catalog_dump;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use zdm::shadow::cluster::{ClusterOptions, EmbeddedCluster};

/// `zdm apply` of every phase in one go, all hazards allowed, no rollback window, no
/// questions: how the tests that only care about the end state apply a plan.
pub const APPLY_ALL: &[&str] = &[
    "apply",
    "--phase",
    "all",
    "--skip-rollback-window",
    "--allow-hazards",
    "all",
    "--yes",
];

/// A fresh, empty database for one test.
pub struct TestDb {
    pub name: String,
    /// key=value conninfo, usable as `--db`.
    pub conninfo: String,
    pub client: tokio_postgres::Client,
}

static CLUSTER: LazyLock<EmbeddedCluster> = LazyLock::new(|| {
    // pg_stat_statements lets the tests see contract's check of recent statements.
    EmbeddedCluster::start(ClusterOptions {
        preload_libraries: vec!["pg_stat_statements".into()],
        ..ClusterOptions::default()
    })
    .unwrap_or_else(|e| panic!("test harness: cannot start PostgreSQL: {e}"))
});

const TEMPLATE: &str = "zdm_test_template";
static TEMPLATE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The harness cluster (started on first use).
pub fn cluster() -> &'static EmbeddedCluster {
    &CLUSTER
}

/// The snapshot suffix of an output that differs on PostgreSQL 18 (`pg18` there, none
/// before): 18 adds NOT NULL as a named constraint `NOT VALID` then validated where 13-17
/// need a helper check, and its models carry the NOT NULL constraints' names.
pub fn suffix_of_18() -> &'static str {
    if cluster().major_version() >= 18 {
        "pg18"
    } else {
        ""
    }
}

/// key=value conninfo for any database on the harness cluster.
pub fn server_conninfo(dbname: &str) -> String {
    cluster().target(dbname).to_conninfo()
}

async fn admin() -> tokio_postgres::Client {
    // The first touch starts the cluster; that blocks this test's thread for about a second
    // (each test has its own runtime, so nothing else is held up).
    cluster()
        .target("postgres")
        .connect()
        .await
        .unwrap_or_else(|e| panic!("test harness: {e}"))
}

/// The prepared template: created once per cluster from template0, then closed to
/// connections (ALLOW_CONNECTIONS false). CREATE DATABASE ... TEMPLATE only fails while a
/// session is connected to the template, so concurrent copies are safe without a lock (and
/// `zdm::shadow::create_database` retries on SQLSTATE 55006 anyway).
async fn ensure_template() {
    TEMPLATE_READY
        .get_or_init(|| async {
            let admin = admin().await;
            zdm::shadow::create_database(&admin, TEMPLATE, Some("template0"))
                .await
                .unwrap_or_else(|e| panic!("test harness: creating the template: {e}"));
            admin
                .batch_execute(&format!(
                    "ALTER DATABASE {TEMPLATE} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
                ))
                .await
                .unwrap_or_else(|e| panic!("test harness: {}", zdm::shadow::db_message(&e)));
        })
        .await;
}

/// A database name derived from the test's thread name (handy in server logs), made unique.
fn fresh_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let thread = std::thread::current();
    let hint: String = thread
        .name()
        .unwrap_or("test")
        .rsplit("::")
        .next()
        .unwrap_or("test")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("t{n}_{hint}")
}

/// Drop a database of the harness cluster (best effort: a test that already failed should
/// report its own failure, not this one).
pub async fn drop_database(name: &str) {
    let admin = admin().await;
    let _ = zdm::shadow::drop_database(&admin, name).await;
}

/// A fresh, empty database (a copy of the prepared template) and a client connected to it.
pub async fn test_db() -> TestDb {
    ensure_template().await;
    let name = fresh_name();
    {
        let admin = admin().await;
        zdm::shadow::create_database(&admin, &name, Some(TEMPLATE))
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "test harness: CREATE DATABASE {name}: {}",
                    zdm::shadow::db_message(&e)
                )
            });
    }
    let target = cluster().target(&name);
    let client = target
        .connect()
        .await
        .unwrap_or_else(|e| panic!("test harness: {e}"));
    TestDb {
        conninfo: target.to_conninfo(),
        name,
        client,
    }
}

impl TestDb {
    /// Drop the database (the cluster may live in memory: tests that make hundreds of
    /// databases give theirs back).
    pub async fn drop(self) {
        let TestDb { name, client, .. } = self;
        drop(client);
        drop_database(&name).await;
    }

    /// Run a batch of statements; panics with the server's message (and position) on error.
    pub async fn exec(&self, sql: &str) {
        if let Err(e) = self.client.batch_execute(sql).await {
            let mut msg = zdm::shadow::db_message(&e);
            if let Some(db) = e.as_db_error() {
                if let Some(detail) = db.detail() {
                    msg.push_str(&format!("\nDETAIL: {detail}"));
                }
                if let Some(hint) = db.hint() {
                    msg.push_str(&format!("\nHINT: {hint}"));
                }
                if let Some(tokio_postgres::error::ErrorPosition::Original(pos)) = db.position() {
                    let pos = (*pos as usize).saturating_sub(1);
                    let line = sql
                        .char_indices()
                        .take_while(|(i, _)| *i < pos)
                        .filter(|(_, c)| *c == '\n')
                        .count()
                        + 1;
                    msg.push_str(&format!("\nat line {line} of the SQL"));
                }
            }
            panic!("SQL failed in {}: {msg}\n--- SQL ---\n{sql}", self.name);
        }
    }
}
