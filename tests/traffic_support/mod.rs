//! Application traffic for the online tests: workers, one connection each, running the
//! statements a closure gives them in a loop until stopped, recording failures and the
//! slowest statement. (apply_traffic.rs and view_traffic.rs predate it and keep their own.)
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

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
