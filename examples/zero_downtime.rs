//! Benchmark (not a test): application latency while the bundled example is migrated, the
//! naive way (plain ALTERs and an UPDATE in one transaction) and with zdm (expand, backfill,
//! validate).
//!
//! ```text
//! cargo run --release --example zero_downtime -- [--users 1000000] [--orders N] [--workers 8]
//!     [--out docs/zero_downtime.png]
//! ```
//!
//! Starts its own throwaway cluster, builds the example at the given size once (a template),
//! copies it for each run, runs a pgbench-style workload (tokio tasks issuing reads and
//! writes, timing every statement) and prints a table; writes a PNG of latency over time.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zdm::apply::{run_steps, ApplyOptions, Record};
use zdm::connect::ConnectionTarget;
use zdm::ledger::{Ledger, Operator};
use zdm::plan::Phase;
use zdm::shadow::cluster::{ClusterOptions, EmbeddedCluster};
use zdm::shadow::ShadowSource;
use zdm::workspace;

type Error = Box<dyn std::error::Error + Send + Sync>;

struct Args {
    users: i64,
    orders: i64,
    workers: i64,
    /// Statements per second per worker; 0 runs each worker flat out.
    rate: u32,
    out: PathBuf,
}

fn args() -> Args {
    let mut a = Args {
        users: 1_000_000,
        orders: 0,
        workers: 8,
        rate: 500,
        out: PathBuf::from("docs/zero_downtime.png"),
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--users" => a.users = value.parse().expect("--users N"),
            "--orders" => a.orders = value.parse().expect("--orders N"),
            "--workers" => a.workers = value.parse().expect("--workers N"),
            "--rate" => a.rate = value.parse().expect("--rate N"),
            "--out" => a.out = PathBuf::from(value),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }
    if a.orders == 0 {
        a.orders = a.users * 3;
    }
    a
}

const NAIVE: &str = include_str!("shop/naive_migration.sql");

/// How long the workload runs before the migration starts (and after it ends).
const WARMUP: Duration = Duration::from_secs(3);

/// One application statement: when it started (since the migration started) and how long
/// it took.
#[derive(Clone, Copy)]
struct Sample {
    started: Instant,
    /// Seconds since the migration started (negative: before), filled in at the end.
    at: f64,
    ms: f64,
    failed: bool,
    /// Which of the workload's statements (see `STATEMENT_KINDS`).
    kind: usize,
}

const STATEMENT_KINDS: [&str; 4] = ["read users", "update users", "insert orders", "read orders"];

/// One migration step: what it was and when it ran.
struct Span {
    what: String,
    started: Instant,
    finished: Instant,
}

/// What a migration reports: lock retries and the steps it ran.
#[derive(Default)]
struct Migration {
    retries: usize,
    steps: Vec<Span>,
    /// Per phase: reading the live schema, loading the desired one, planning.
    planning: Vec<(Phase, Duration)>,
    /// Per backfill step (by description): its last progress report.
    backfills: Vec<(String, BackfillTotals)>,
}

/// A backfill step's batches, as its last progress report gives them.
struct BackfillTotals {
    batches: u64,
    rows: u64,
    cut: u64,
}

struct Outcome {
    name: &'static str,
    migration: Duration,
    samples: Vec<Sample>,
    report: Migration,
}

async fn connect(target: &ConnectionTarget) -> Result<tokio_postgres::Client, Error> {
    Ok(target.connect().await?)
}

/// Reads and writes on users and orders, one connection per worker.
///
/// With a rate, each worker issues its statements on a fixed schedule (like `pgbench -R`)
/// and a statement's latency counts from when it was due: a worker held up by a lock falls
/// behind, and every statement it then owes carries the delay. Flat out (rate 0), eight
/// workers keep both cores busy and the latencies measure the CPU queue more than any wait.
fn workload(
    target: &ConnectionTarget,
    args: &Args,
    stop: Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Sample>>> {
    let (workers, users) = (args.workers, args.users);
    let period = (args.rate > 0).then(|| Duration::from_secs(1) / args.rate);
    (0..workers)
        .map(|w| {
            let target = target.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let client = target.connect().await.expect("worker connects");
                let _ = client.batch_execute("SET application_name = 'app'").await;
                let mut samples = Vec::new();
                let mut failures: Vec<String> = Vec::new();
                let mut i: i64 = 0;
                let mut due = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    if let Some(period) = period {
                        due += period;
                        tokio::time::sleep_until(due.into()).await;
                    }
                    let user = 1 + (w + workers * ((i * 7919) % (users / workers - 1)));
                    let sql = match i % 4 {
                        0 => format!("SELECT first_name, last_name FROM users WHERE id = {user}"),
                        1 => format!("UPDATE users SET last_name = 'l{i}' WHERE id = {user}"),
                        2 => format!(
                            "INSERT INTO orders (customer_id, amount) VALUES ({user}, {})",
                            1 + i % 100
                        ),
                        _ => format!("SELECT amount FROM orders WHERE id = {}", user * 3),
                    };
                    let started = match period {
                        Some(_) => due.min(Instant::now()),
                        None => Instant::now(),
                    };
                    let result = client.simple_query(&sql).await;
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    let failed = result.is_err();
                    samples.push(Sample {
                        started,
                        at: 0.0,
                        ms,
                        failed,
                        kind: (i % 4) as usize,
                    });
                    if let Err(e) = result {
                        if failures.len() < 5 {
                            failures.push(zdm::apply::server_message(&e));
                        }
                        if client.is_closed() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                for f in failures {
                    eprintln!("  worker {w}: statement failed: {f}");
                }
                samples
            })
        })
        .collect()
}

/// Run `migrate` under the workload. The migration runs on its own thread and runtime (as a
/// separate `zdm` process would), so its CPU work does not delay the workload's timing.
async fn measure<F, Fut>(
    name: &'static str,
    target: &ConnectionTarget,
    args: &Args,
    migrate: F,
) -> Result<Outcome, Error>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<Migration, Error>>,
{
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = workload(target, args, stop.clone());
    tokio::time::sleep(WARMUP).await;
    let started = Instant::now();
    let report = tokio::task::spawn_blocking(move || -> Result<Migration, Error> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(migrate())
    })
    .await??;
    let migration = started.elapsed();
    tokio::time::sleep(WARMUP).await;
    stop.store(true, Ordering::Relaxed);
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await?);
    }
    for s in &mut samples {
        s.at = if s.started >= started {
            s.started.duration_since(started).as_secs_f64()
        } else {
            -started.duration_since(s.started).as_secs_f64()
        };
    }
    Ok(Outcome {
        name,
        migration,
        samples,
        report,
    })
}

/// zdm: expand, backfill, validate, each phase planned afresh from the live schema.
async fn zdm_migrate(
    target: &ConnectionTarget,
    shadow: &ConnectionTarget,
) -> Result<Migration, Error> {
    let client = connect(target).await?;
    zdm::apply::acquire_run_lock(&client).await?;
    let ledger = Ledger::open(&client).await?;
    let schema = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema")];
    let mut report = Migration::default();
    // A cache of its own, empty at the start: the first phase loads the files.
    let cache_dir = tempfile::tempdir()?;
    let cache = Some(workspace::cached::Cache::with_store(
        zdm::cache::Store::at(cache_dir.path()),
        shadow.to_conninfo(),
    ));
    for phase in [Phase::Expand, Phase::Backfill, Phase::Validate] {
        let planning = Instant::now();
        let live = workspace::read_database(target).await?;
        // As `zdm apply --phase` reads the files: from zdm's cache when they have not
        // changed since the phase before (the first phase loads them into the shadow).
        let source = ShadowSource::DevServer(shadow.clone());
        let opened = workspace::cached::open(&schema, &source, cache.as_ref()).await?;
        if let Some(database) = opened.database {
            let _ = database.close().await;
        }
        let desired = opened.side;
        let options = zdm::plan::PlanOptions {
            transforms: desired
                .desired
                .as_ref()
                .map(workspace::transforms)
                .unwrap_or_default(),
        };
        let mut plan = zdm::plan::plan(&live.model, &desired.model, &options)?;
        zdm::apply::prune_finished_backfills(&client, &live.model, &mut plan).await?;
        let steps: Vec<_> = plan.steps_in(phase).cloned().collect();
        let plan_id = ledger
            .record_plan(&plan, &steps, &Operator::current())
            .await?;
        let record = Record {
            ledger: &ledger,
            plan_id,
        };
        let options = ApplyOptions {
            progress_target: None,
            ..ApplyOptions::default()
        };
        report.planning.push((phase, planning.elapsed()));
        let started = Instant::now();
        let mut step_started = Instant::now();
        run_steps(
            &client,
            &steps,
            1,
            &options,
            Some(&record),
            &mut |e| match e {
                zdm::apply::ApplyEvent::StepStarted { .. } => step_started = Instant::now(),
                zdm::apply::ApplyEvent::LockRetry { .. } => report.retries += 1,
                zdm::apply::ApplyEvent::Backfill { step, progress } => {
                    let totals = BackfillTotals {
                        batches: progress.batches,
                        rows: progress.rows_updated,
                        cut: progress.batches_cut,
                    };
                    match report
                        .backfills
                        .iter_mut()
                        .find(|(d, _)| *d == step.description)
                    {
                        Some(entry) => entry.1 = totals,
                        None => report.backfills.push((step.description.clone(), totals)),
                    }
                }
                zdm::apply::ApplyEvent::StepFinished { step, .. } => report.steps.push(Span {
                    what: format!("{phase}: {}", step.description),
                    started: step_started,
                    finished: Instant::now(),
                }),
                _ => {}
            },
        )
        .await?;
        ledger
            .phase_finished(&plan.target_fingerprint, phase, Some(plan_id))
            .await?;
        eprintln!(
            "  zdm {phase}: {} step(s) in {:.1?}",
            steps.len(),
            started.elapsed()
        );
    }
    zdm::apply::release_run_lock(&client).await?;
    Ok(report)
}

/// Where zdm's time went, phase by phase and step by step (a backfill with its batches), and
/// the whole against the naive migration's.
fn print_time_spent(zdm: &Outcome, naive: &Outcome) {
    let total = zdm.migration.as_secs_f64();
    println!(
        "\nwhere zdm's {total:.1} s went ({:.2}x the naive migration's {:.1} s):",
        total / naive.migration.as_secs_f64(),
        naive.migration.as_secs_f64()
    );
    println!("| phase: what | seconds | share |");
    println!("|---|---:|---:|");
    let row = |what: &str, seconds: f64| {
        println!(
            "| {what} | {seconds:.2} | {:.0}% |",
            100.0 * seconds / total
        );
    };
    for (phase, planning) in &zdm.report.planning {
        row(
            &format!("{phase}: read live, load desired, plan"),
            planning.as_secs_f64(),
        );
        let prefix = format!("{phase}: ");
        for span in zdm
            .report
            .steps
            .iter()
            .filter(|s| s.what.starts_with(&prefix))
        {
            let seconds = (span.finished - span.started).as_secs_f64();
            let description = &span.what[prefix.len()..];
            let batches = zdm.report.backfills.iter().find(|(d, _)| d == description);
            match batches {
                Some((_, b)) if b.batches > 0 => row(
                    &format!(
                        "{} ({} batches, {} rows, {:.1} ms a batch, {} cut at the cap)",
                        span.what,
                        b.batches,
                        b.rows,
                        1000.0 * seconds / b.batches as f64,
                        b.cut
                    ),
                    seconds,
                ),
                _ => row(&span.what, seconds),
            }
        }
    }
}

/// The slowest application statements of a run, each with the migration steps that were
/// running while it waited: where the worst waits come from.
fn print_worst(o: &Outcome, n: usize) {
    let mut worst: Vec<&Sample> = o.samples.iter().collect();
    worst.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    println!("\nslowest {n} application statements ({}):", o.name);
    for s in worst.into_iter().take(n) {
        let ended = s.started + Duration::from_secs_f64(s.ms / 1000.0);
        let during: Vec<&str> = o
            .report
            .steps
            .iter()
            .filter(|p| p.started < ended && p.finished > s.started)
            .map(|p| p.what.as_str())
            .collect();
        println!(
            "  {:>8.1} ms at {:>6.2} s  {:<13}  during: {}",
            s.ms,
            s.at,
            STATEMENT_KINDS[s.kind],
            if during.is_empty() {
                "no step".to_string()
            } else {
                during.join("; ")
            }
        );
    }
}

/// The server's "acquired ... after N ms" lines (log_lock_waits) written since `from`, each
/// with the statement that waited.
fn print_lock_waits(log: &std::path::Path, from: u64) {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(&text[(from as usize).min(text.len())..]).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let mut waits = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(rest) = line.split(" acquired ").nth(1) {
            let ms: f64 = rest
                .rsplit(" after ")
                .next()
                .and_then(|t| t.trim_end_matches(" ms").parse().ok())
                .unwrap_or(0.0);
            let statement = lines[i + 1..]
                .iter()
                .take(3)
                .find_map(|l| l.split("STATEMENT:  ").nth(1))
                .unwrap_or("?");
            waits.push((ms, rest.to_string(), statement.to_string()));
        }
    }
    waits.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!(
        "\nlock waits over the deadlock_timeout (50 ms) during the zdm run: {}",
        waits.len()
    );
    for (_, what, statement) in waits.iter().take(8) {
        println!("  {what}\n      {statement}");
    }
}

struct Row {
    name: &'static str,
    migration: f64,
    transactions: usize,
    p99: f64,
    max: f64,
    failed: usize,
}

/// The statements issued while the migration ran.
fn summarise(o: &Outcome) -> Row {
    let end = o.migration.as_secs_f64();
    summarise_window(o.name, o, 0.0, end)
}

/// The statements issued between `from` and `to` seconds (relative to the migration start).
fn summarise_window(name: &'static str, o: &Outcome, from: f64, to: f64) -> Row {
    let during: Vec<&Sample> = o
        .samples
        .iter()
        .filter(|s| s.at >= from && s.at <= to)
        .collect();
    let mut ms: Vec<f64> = during.iter().map(|s| s.ms).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    let p99 = if ms.is_empty() {
        0.0
    } else {
        ms[((ms.len() as f64 * 0.99) as usize).min(ms.len() - 1)]
    };
    Row {
        name,
        migration: to - from,
        transactions: during.len(),
        p99,
        max: ms.last().copied().unwrap_or(0.0),
        failed: during.iter().filter(|s| s.failed).count(),
    }
}

fn plot(path: &std::path::Path, outcomes: &[&Outcome], lock_timeout_ms: f64) -> Result<(), Error> {
    use plotters::prelude::*;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let font = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"]
        .iter()
        .find_map(|p| std::fs::read(p).ok());
    let text = match font {
        Some(bytes) => {
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
        }
        None => false,
    };
    let x_max = outcomes
        .iter()
        .map(|o| o.migration.as_secs_f64() + 3.0)
        .fold(0.0, f64::max);
    let y_max = outcomes
        .iter()
        .flat_map(|o| o.samples.iter().map(|s| s.ms))
        .fold(1.0, f64::max);
    let root = BitMapBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut builder = ChartBuilder::on(&root);
    builder
        .margin(20)
        .x_label_area_size(40)
        .y_label_area_size(60);
    if text {
        builder.caption(
            "application statement latency during the migration (max per 100 ms)",
            ("sans-serif", 22),
        );
    }
    let mut chart = builder.build_cartesian_2d(-3.0..x_max, (0.1..y_max * 1.5).log_scale())?;
    if text {
        chart
            .configure_mesh()
            .x_desc("seconds since the migration started")
            .y_desc("latency (ms, log)")
            .draw()?;
    } else {
        chart.configure_mesh().disable_mesh().draw()?;
    }
    let colours = [RED, BLUE];
    for (o, colour) in outcomes.iter().zip(colours) {
        // The slowest statement started in each 100 ms.
        let mut buckets = std::collections::BTreeMap::<i64, f64>::new();
        for s in &o.samples {
            let b = (s.at * 10.0).floor() as i64;
            let e = buckets.entry(b).or_insert(0.0);
            *e = e.max(s.ms);
        }
        let series = chart.draw_series(LineSeries::new(
            buckets
                .into_iter()
                .map(|(b, ms)| (b as f64 / 10.0, ms.max(0.1))),
            colour.stroke_width(2),
        ))?;
        if text {
            let label = format!("{} ({:.1} s)", o.name, o.migration.as_secs_f64());
            series
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        }
    }
    chart.draw_series(LineSeries::new(
        vec![(-3.0, lock_timeout_ms), (x_max, lock_timeout_ms)],
        BLACK.mix(0.4),
    ))?;
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let args = args();
    eprintln!("starting a throwaway cluster");
    let cluster = EmbeddedCluster::start(ClusterOptions::default())?;
    let admin = connect(&cluster.target("postgres")).await?;
    // The server logs every lock wait longer than deadlock_timeout: the benchmark reports the
    // long ones of the zdm run with the statements that waited.
    for sql in [
        "ALTER SYSTEM SET log_lock_waits = on",
        "ALTER SYSTEM SET deadlock_timeout = '50ms'",
        "SELECT pg_reload_conf()",
    ] {
        admin.batch_execute(sql).await?;
    }
    let started = Instant::now();
    eprintln!(
        "building the example: {} users, {} orders",
        args.users, args.orders
    );
    zdm::shadow::create_database(&admin, "bench_seed", None).await?;
    let seed = connect(&cluster.target("bench_seed")).await?;
    let v1 = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/shop/v1/schema.sql"),
    )?;
    seed.batch_execute(&v1).await?;
    seed.batch_execute(&format!(
        "INSERT INTO users (first_name, last_name, legacy_field) \
           SELECT 'first' || g, 'last' || g, 'legacy' || g FROM generate_series(1, {u}) g;
         INSERT INTO orders (customer_id, amount, created_at) \
           SELECT 1 + g % {u}, 1 + g % 500, now() - g * interval '1 second' FROM generate_series(1, {o}) g;
",
        u = args.users,
        o = args.orders
    ))
    .await?;
    seed.batch_execute("VACUUM ANALYZE users").await?;
    seed.batch_execute("VACUUM ANALYZE orders").await?;
    drop(seed);
    eprintln!("  built in {:.1?}", started.elapsed());

    zdm::shadow::create_database(&admin, "bench_naive", Some("bench_seed")).await?;
    let naive_target = cluster.target("bench_naive");
    eprintln!("(a) naive migration under load");
    let t = naive_target.clone();
    let naive = measure("naive", &naive_target, &args, move || async move {
        let client = connect(&t).await?;
        client.batch_execute(NAIVE).await?;
        Ok(Migration::default())
    })
    .await?;
    admin.batch_execute("DROP DATABASE bench_naive").await?;

    zdm::shadow::create_database(&admin, "bench_zdm", Some("bench_seed")).await?;
    let zdm_target = cluster.target("bench_zdm");
    // The shadow database lives on a cluster of its own, as with zdm's default embedded
    // shadow: its CREATE and DROP DATABASE (a checkpoint) must not land on the server under test.
    let shadow_cluster = EmbeddedCluster::start(ClusterOptions::default())?;
    let shadow = shadow_cluster.target("postgres");
    eprintln!("(b) zdm apply expand + backfill + validate under load");
    let log = cluster.root_dir().join("server.log");
    let log_start = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let t = zdm_target.clone();
    let safe = measure("zdm", &zdm_target, &args, move || async move {
        zdm_migrate(&t, &shadow).await
    })
    .await?;

    let rate = match args.rate {
        0 => "as fast as they can".to_string(),
        r => format!("{r} statements/s each"),
    };
    println!(
        "\n{} users, {} orders, {} workers at {rate}, lock_timeout 100 ms\n",
        args.users, args.orders, args.workers
    );
    println!(
        "| run          | time    | app statements | p99 latency | max latency | failed statements |"
    );
    println!(
        "|--------------|--------:|---------------:|------------:|------------:|------------------:|"
    );
    // The baseline: the same workload on the same database in the seconds before zdm began.
    let rows = [
        summarise_window("no migration", &safe, -WARMUP.as_secs_f64() + 0.5, 0.0),
        summarise(&naive),
        summarise(&safe),
    ];
    for r in rows {
        println!(
            "| {:<12} | {:>5.1} s | {:>14} | {:>8.1} ms | {:>8.1} ms | {:>17} |",
            r.name, r.migration, r.transactions, r.p99, r.max, r.failed
        );
    }
    println!("\nzdm lock retries: {}", safe.report.retries);
    print_time_spent(&safe, &naive);
    print_worst(&safe, 8);
    print_lock_waits(&log, log_start);
    plot(&args.out, &[&naive, &safe], 100.0)?;
    println!("plot: {}", args.out.display());
    Ok(())
}
