//! Reads through a view while a column under it is retyped (`-- zdm:using`), phase by phase:
//! the view is re-pointed in the same short transaction as the column swap, so no read ever
//! fails and none waits much beyond zdm's lock timeout. The readers are a role that owns
//! nothing and may only SELECT from the view: the re-created view gets that grant back in
//! the same transaction, or they would be refused until a later step granted it.

mod apply_support;
mod common;

use apply_support::{text, zdm_command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROWS: i64 = 20_000;
const READERS: i64 = 3;
const LOCK_TIMEOUT_MS: u64 = 100;
/// What a read may wait beyond the lock timeout (a loaded 2-core machine, a commit).
const MARGIN_MS: u64 = 400;

/// The readers' role: no rights but SELECT on the view.
const READER: &str = "view_reader";

const OLD: &str = "CREATE TABLE public.orders (id bigint PRIMARY KEY, amount integer NOT NULL);
CREATE VIEW public.order_amounts AS SELECT id, amount FROM public.orders;
GRANT SELECT ON public.order_amounts TO view_reader;";

const NEW: &str = "CREATE TABLE public.orders (
    id bigint PRIMARY KEY,
    amount bigint NOT NULL -- zdm:using amount::bigint
);
CREATE VIEW public.order_amounts AS SELECT id, amount FROM public.orders;
GRANT SELECT ON public.order_amounts TO view_reader;";

#[derive(Default)]
struct Reads {
    done: AtomicU64,
    failures: Mutex<Vec<String>>,
    worst_ms: AtomicU64,
}

/// Readers through the view, and one writer the old application keeps running (its rows
/// must reach the new column through the sync trigger).
fn start_traffic(
    conninfo: &str,
    stop: Arc<AtomicBool>,
    reads: Arc<Reads>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..=READERS)
        .map(|worker| {
            let (conninfo, stop, reads) = (conninfo.to_string(), stop.clone(), reads.clone());
            tokio::spawn(async move {
                let (client, conn) = tokio_postgres::connect(&conninfo, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                if worker != READERS {
                    client
                        .batch_execute(&format!("SET ROLE {READER}"))
                        .await
                        .unwrap();
                }
                let mut i: i64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    let sql = if worker == READERS {
                        format!("UPDATE public.orders SET amount = amount + 1 WHERE id = {}", 1 + i % ROWS)
                    } else {
                        format!(
                            "SELECT sum(amount) FROM public.order_amounts WHERE id BETWEEN {0} AND {0} + 50",
                            1 + (i * 97 + worker * 1000) % ROWS
                        )
                    };
                    let started = Instant::now();
                    let result = client.simple_query(&sql).await;
                    let ms = started.elapsed().as_millis() as u64;
                    reads.done.fetch_add(1, Ordering::Relaxed);
                    reads.worst_ms.fetch_max(ms, Ordering::Relaxed);
                    if let Err(e) = result {
                        reads
                            .failures
                            .lock()
                            .unwrap()
                            .push(format!("{sql}: {}", zdm::apply::server_message(&e)));
                    }
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_through_a_view_never_fail_while_a_column_under_it_is_retyped() {
    let db = common::test_db().await;
    // Roles belong to the cluster: another run of this test may have made it already.
    db.exec(&format!(
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN CREATE ROLE {READER}; END IF; END$$;"
    ))
    .await;
    db.exec(OLD).await;
    db.exec(&format!(
        "INSERT INTO public.orders SELECT g, g % 1000 FROM generate_series(1, {ROWS}) g; ANALYZE public.orders;"
    ))
    .await;
    let schema = tempfile::tempdir().unwrap();
    std::fs::write(schema.path().join("schema.sql"), NEW).unwrap();
    let schema_arg = schema.path().display().to_string();

    assert_grant_comes_with_the_view(&db, &schema_arg);

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(Reads::default());
    let workers = start_traffic(&db.conninfo, stop.clone(), reads.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut log = Vec::new();
    for phase in ["expand", "backfill", "validate", "contract"] {
        let timeout = LOCK_TIMEOUT_MS.to_string();
        let mut args = vec![
            "apply",
            "--phase",
            phase,
            "--yes",
            "--lock-timeout",
            &timeout,
        ];
        args.extend(["--schema", &schema_arg]);
        if phase == "contract" {
            // The test's own readers are what pg_stat_statements would show; the window is
            // the test's to skip.
            args.extend([
                "--skip-rollback-window",
                "--force",
                "--allow-hazards",
                "all",
            ]);
        }
        let mut cmd = zdm_command(&db, &args);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "zdm apply --phase {phase}:\n{}",
            text(&out)
        );
        log.push(text(&out));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let log = log.join("\n");
    assert!(
        log.contains("re-creating view public.order_amounts around it"),
        "the view was not re-pointed by the swap, so this run proves nothing:\n{log}"
    );
    let failures = reads.failures.lock().unwrap().clone();
    assert!(
        failures.is_empty(),
        "{} statement(s) failed, e.g. {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let done = reads.done.load(Ordering::Relaxed);
    assert!(done > 100, "too little traffic: {done}");
    let worst = reads.worst_ms.load(Ordering::Relaxed);
    assert!(
        worst <= LOCK_TIMEOUT_MS + MARGIN_MS,
        "a statement waited {worst} ms, more than lock_timeout + margin\n{log}"
    );
    let column_type: String = db
        .client
        .query_one(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'order_amounts' AND column_name = 'amount'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(column_type, "bigint", "the view reads the new column");
    let lost: i64 = db
        .client
        .query_one(
            "SELECT count(*) FROM public.orders WHERE amount IS NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(lost, 0);
    eprintln!("{done} statements through the view and on its table while retyping, worst {worst} ms, 0 failed");
}

/// The plan's step that creates the view again also grants the readers' SELECT (no step of
/// its own comes after).
fn assert_grant_comes_with_the_view(db: &common::TestDb, schema: &str) {
    let out = zdm_command(db, &["plan", "--format", "json", "--schema", schema])
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("plan is not JSON ({e}):\n{}", text(&out)));
    let sql: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["sql"].as_str())
        .collect();
    let grant = format!("GRANT SELECT ON TABLE public.order_amounts TO {READER};");
    let creating: Vec<&&str> = sql
        .iter()
        .filter(|s| s.contains("CREATE VIEW public.order_amounts"))
        .collect();
    assert_eq!(creating.len(), 1, "one step re-creates the view:\n{sql:#?}");
    assert!(
        creating[0].contains(&grant),
        "the step re-creating the view grants {READER} SELECT:\n{sql:#?}"
    );
    assert_eq!(
        sql.iter().filter(|s| s.contains(&grant)).count(),
        1,
        "and no other step does:\n{sql:#?}"
    );
}
