//! Application traffic for the online tests: workers, one connection each, running the
//! statements a closure gives them in a loop until stopped, recording failures and the
//! slowest statement. (apply_traffic.rs and view_traffic.rs predate it and keep their own.)
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What worker `worker` runs as its `i`th statement: a label and the SQL.
pub type Statements = fn(worker: i64, i: i64) -> (&'static str, String);

#[derive(Default)]
struct Stats {
    statements: AtomicU64,
    failures: Mutex<Vec<String>>,
    worst: Mutex<(u64, String)>,
}

pub struct Traffic {
    stop: Arc<AtomicBool>,
    stats: Arc<Stats>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// What the traffic saw.
#[derive(Debug)]
pub struct Run {
    pub statements: u64,
    pub failures: Vec<String>,
    pub worst_ms: u64,
    pub worst_what: String,
}

impl Traffic {
    pub fn start(conninfo: &str, workers: i64, statements: Statements) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let handles = (0..workers)
            .map(|w| {
                let (conninfo, stop, stats) = (conninfo.to_string(), stop.clone(), stats.clone());
                tokio::spawn(async move {
                    let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                        .await
                        .unwrap();
                    tokio::spawn(conn);
                    client
                        .batch_execute("SET application_name = 'app'")
                        .await
                        .unwrap();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let (what, sql) = statements(w, i);
                        let started = Instant::now();
                        let result = client.simple_query(&sql).await;
                        let ms = started.elapsed().as_millis() as u64;
                        stats.statements.fetch_add(1, Ordering::Relaxed);
                        if let Err(e) = result {
                            stats
                                .failures
                                .lock()
                                .unwrap()
                                .push(format!("{what}: {}", zdm::apply::server_message(&e)));
                        }
                        let mut worst = stats.worst.lock().unwrap();
                        if ms > worst.0 {
                            *worst = (ms, what.to_string());
                        }
                    }
                })
            })
            .collect();
        Traffic {
            stop,
            stats,
            workers: handles,
        }
    }

    pub async fn stop(self) -> Run {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.await.unwrap();
        }
        let worst = self.stats.worst.lock().unwrap().clone();
        let failures = self.stats.failures.lock().unwrap().clone();
        Run {
            statements: self.stats.statements.load(Ordering::Relaxed),
            failures,
            worst_ms: worst.0,
            worst_what: worst.1,
        }
    }
}

/// A transaction that takes ROW EXCLUSIVE on `table` (as a writer does, without row locks) and
/// keeps it until zdm's session has waited behind it (a trigger's SHARE ROW EXCLUSIVE, a swap's
/// ACCESS EXCLUSIVE), and two seconds more: a run with it proves zdm gives up and retries on
/// its lock timeout instead of queueing the application behind it.
pub async fn start_blocker(conninfo: &str, table: &str) -> tokio::task::JoinHandle<()> {
    let (client, conn) = tokio_postgres::connect(conninfo, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!(
            "SET application_name = 'blocker'; BEGIN; LOCK TABLE {table} IN ROW EXCLUSIVE MODE"
        ))
        .await
        .unwrap();
    let watcher = conninfo.to_string();
    tokio::spawn(async move {
        let (w, conn) = tokio_postgres::connect(&watcher, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            let waiting: i64 = w
                .query_one(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'
                       AND datname = current_database() AND application_name = 'zdm'",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            if waiting > 0 {
                tokio::time::sleep(Duration::from_secs(2)).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        client.batch_execute("COMMIT").await.unwrap();
    })
}

impl Run {
    /// What a zero-downtime run under a lock blocker must show: zdm met the blocker (`log`,
    /// the apply output, says `lock not available`), the application ran more than
    /// `min_statements`, none failed, and none waited more than `bound_ms`.
    pub fn assert_unharmed(&self, log: &str, min_statements: u64, bound_ms: u64) {
        assert!(
            log.contains("lock not available"),
            "the blocker never got in zdm's way, so this run proves nothing about waits:\n{log}"
        );
        assert!(
            self.statements > min_statements,
            "too little traffic: {self:?}"
        );
        assert!(
            self.failures.is_empty(),
            "{} application statement(s) failed, e.g. {:?}\n{log}",
            self.failures.len(),
            &self.failures[..self.failures.len().min(5)]
        );
        assert!(
            self.worst_ms <= bound_ms,
            "an application statement ({}) waited {} ms, more than {bound_ms} ms\n{log}",
            self.worst_what,
            self.worst_ms
        );
    }
}
