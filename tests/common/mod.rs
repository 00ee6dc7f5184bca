//! TEMPORARY test harness (catalog worktree): connects to the already-running dev server
//! (`/tmp/zdm-dev`, port 5499, user `postgres`) and creates a fresh database per call. The real
//! harness (own throwaway cluster, template database, watchdog) replaces this file with the
//! same API.
#![allow(dead_code)]

use tokio_postgres::{Client, NoTls};

const HOST: &str = "/tmp/zdm-dev";
const PORT: u16 = 5499;
const USER: &str = "postgres";

pub struct TestDb {
    pub name: String,
    pub conninfo: String,
    pub client: Client,
}

/// libpq-style connection string for a database on the test server.
pub fn server_conninfo(dbname: &str) -> String {
    format!("host={HOST} port={PORT} user={USER} dbname={dbname}")
}

async fn connect(conninfo: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(conninfo, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect {conninfo}: {e}"));
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

/// A fresh, empty database with a connected client. Dropped (with `FORCE`) when the value is.
pub async fn test_db() -> TestDb {
    let name = format!("zdm_test_{:016x}", rand::random::<u64>());
    let admin = connect(&server_conninfo("postgres")).await;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    let conninfo = server_conninfo(&name);
    let client = connect(&conninfo).await;
    TestDb {
        name,
        conninfo,
        client,
    }
}

impl TestDb {
    /// Run a batch of SQL; panic with the server's message on error.
    pub async fn exec(&self, sql: &str) {
        if let Err(e) = self.client.batch_execute(sql).await {
            let detail = e
                .as_db_error()
                .map(|db| format!("{}: {}", db.code().code(), db.message()))
                .unwrap_or_else(|| e.to_string());
            panic!("SQL failed in {}: {detail}\n--- SQL ---\n{sql}", self.name);
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a separate thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok((client, connection)) =
                    tokio_postgres::connect(&server_conninfo("postgres"), NoTls).await
                {
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}
