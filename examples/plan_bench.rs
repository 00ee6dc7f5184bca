//! How long `zdm plan` takes on a large schema, beside `pg_dump --schema-only` of the same
//! database as the yardstick.
//!
//! ```text
//! cargo run --release --example plan_bench -- [TABLES] [load]   # default 2000; load: only the last table
//! ```
//!
//! Starts its own throwaway cluster, creates TABLES tables (each with a primary key, a few
//! columns, an index, a CHECK, and a foreign key to the previous table), writes the desired
//! schema as files with a change to every tenth table, and times each stage of the pipeline.
//!
//! Then the real binary, side by side (median of 3 runs each): the two `pg_dump
//! --schema-only` a live-vs-live comparison stands for, `zdm plan --from URL --to URL`, and
//! `zdm plan --db URL --schema DIR` with the cache bypassed and warm (`--no-cache`, see
//! `src/workspace/cached.rs`). The binary is the `zdm` next to this example's directory
//! (`cargo build --release --bin zdm --example plan_bench`), or `$ZDM_BIN`.
//!
//! The peer in the same run: migra (`$MIGRA_BIN`, else `migra` on `PATH`) comparing the same
//! two databases, when it is installed (`pip install migra "psycopg[binary]"`); otherwise its
//! row says it was not run. Each command-line row also gives the peak memory: the largest
//! resident set of the measured process and of the children it waited for (an embedded
//! cluster's server), as wait4(2) reports it to a small wrapper process (see `PEAK_RSS_OF`).
//!
//! Last, loading the desired files into an empty database: `psql --single-transaction` beside
//! zdm's loader.

use std::path::Path;

use anyhow::Context as _;
use std::time::{Duration, Instant};

use zdm::shadow::cluster::{ClusterOptions, EmbeddedCluster};
use zdm::shadow::ShadowSource;
use zdm::workspace;

fn table_sql(i: usize, changed: bool) -> String {
    let fk = if i > 0 {
        format!(",\n    parent_id bigint REFERENCES t{:05} (id)", i - 1)
    } else {
        String::new()
    };
    let extra = if changed {
        ",\n    note text NOT NULL DEFAULT ''"
    } else {
        ""
    };
    format!(
        "CREATE TABLE t{i:05} (\n    id bigserial PRIMARY KEY,\n    name text NOT NULL,\n    amount numeric(12,2) CHECK (amount >= 0),\n    created_at timestamptz DEFAULT now(){fk}{extra}\n);\nCREATE INDEX t{i:05}_name_idx ON t{i:05} (name);\n"
    )
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// `plan_bench --peak-rss-of PROGRAM ARGS...`: run PROGRAM and print its peak memory. A
/// child's maximum resident set counts the memory of the process it was forked from (Linux
/// records the pre-exec high-water mark), so measured commands are started from this small
/// wrapper, before any runtime or cluster exists, not from the benchmark's own large process.
const PEAK_RSS_OF: &str = "--peak-rss-of";

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(PEAK_RSS_OF) {
        let mut command = std::process::Command::new(&args[2]);
        command.args(&args[3..]);
        let (code, peak_kib) = wait_measured(command)?;
        eprintln!("{PEAK_RSS_OF} {peak_kib}");
        std::process::exit(code);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(benchmark())
}

async fn benchmark() -> anyhow::Result<()> {
    let tables: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2000);
    // `plan_bench N load`: only the loading table.
    let only_load = std::env::args().nth(2).as_deref() == Some("load");
    let cluster = EmbeddedCluster::start(ClusterOptions::default())?;
    let admin = cluster.target("postgres").connect().await?;
    admin.batch_execute("CREATE DATABASE live").await?;
    let live_target = cluster.target("live");
    let live = live_target.connect().await?;
    let current: String = (0..tables).map(|i| table_sql(i, false)).collect();
    let started = Instant::now();
    live.batch_execute(&current).await?;
    eprintln!("built {tables} tables in {}", ms(started.elapsed()));

    let dir = tempfile::tempdir()?;
    for chunk in 0..tables.div_ceil(100) {
        let text: String = (chunk * 100..((chunk + 1) * 100).min(tables))
            .map(|i| table_sql(i, i % 10 == 0))
            .collect();
        std::fs::write(dir.path().join(format!("part{chunk:03}.sql")), text)?;
    }

    if only_load {
        return load_rows(tables, &cluster, &admin, dir.path()).await;
    }

    // pg_dump as the yardstick.
    let pg_dump = Path::new(cluster.bin_dir()).join("pg_dump");
    let pg_dump = if pg_dump.exists() {
        pg_dump
    } else {
        "pg_dump".into()
    };
    let started = Instant::now();
    let output = std::process::Command::new(&pg_dump)
        .args(["--schema-only", "-d", &live_target.to_conninfo()])
        .output()?;
    let dump_time = started.elapsed();
    anyhow::ensure!(output.status.success(), "pg_dump failed");

    // zdm's pipeline, stage by stage (the shadow is an embedded cluster, as by default).
    let started = Instant::now();
    let live_side = workspace::read_database(&live_target).await?;
    let introspect_time = started.elapsed();
    let started = Instant::now();
    let desired = workspace::read_files(
        &[dir.path().to_path_buf()],
        &ShadowSource::Embedded {
            preferred_major: Some(cluster.major_version()),
        },
    )
    .await?;
    let shadow_time = started.elapsed();
    let started = Instant::now();
    let plan = zdm::plan::plan(&live_side.model, &desired.model, &Default::default())?;
    let plan_time = started.elapsed();
    let total = introspect_time + shadow_time + plan_time;

    println!("| {tables} tables | time |");
    println!("|---|---|");
    println!("| pg_dump --schema-only (yardstick) | {} |", ms(dump_time));
    println!(
        "| zdm: introspect live database | {} |",
        ms(introspect_time)
    );
    println!(
        "| zdm: parse files, start shadow, load, introspect | {} |",
        ms(shadow_time)
    );
    println!(
        "| zdm: diff + plan ({} steps) | {} |",
        plan.steps.len(),
        ms(plan_time)
    );
    println!("| zdm plan, total | {} |", ms(total));

    admin.batch_execute("CREATE DATABASE desired").await?;
    let desired_target = cluster.target("desired");
    let files: String = (0..tables).map(|i| table_sql(i, i % 10 == 0)).collect();
    desired_target
        .connect()
        .await?
        .batch_execute(&files)
        .await?;
    // migra takes URLs: the same two databases over the cluster's socket.
    let url = |db: &str| {
        format!(
            "postgresql://zdm@/{db}?host={}&port={}",
            cluster.socket_dir().display(),
            cluster.port()
        )
    };
    let urls = Urls {
        live: live_target.to_conninfo(),
        desired: desired_target.to_conninfo(),
        schema: dir.path().display().to_string(),
        live_url: url("live"),
        desired_url: url("desired"),
    };
    cli_rows(tables, &pg_dump, &urls)?;
    load_rows(tables, &cluster, &admin, dir.path()).await?;
    Ok(())
}

/// Loading the desired files into an empty database, median of 3 each: psql in one
/// transaction (the yardstick) against zdm's loader (parse, order, load; no initdb, no
/// introspection), each into a fresh database on the same cluster.
async fn load_rows(
    tables: usize,
    cluster: &EmbeddedCluster,
    admin: &tokio_postgres::Client,
    dir: &Path,
) -> anyhow::Result<()> {
    let psql = Path::new(cluster.bin_dir()).join("psql");
    let psql = if psql.exists() { psql } else { "psql".into() };
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut round = 0;
    let mut fresh = || {
        round += 1;
        format!("load_{round}")
    };
    let mut psql_times = Vec::new();
    let mut zdm_times = Vec::new();
    for _ in 0..3 {
        let db = fresh();
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await?;
        let mut command = std::process::Command::new(&psql);
        command.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"]);
        command.args(["-d", &cluster.target(&db).to_conninfo()]);
        for file in &files {
            command.arg("-f").arg(file);
        }
        let started = Instant::now();
        let output = command.output()?;
        psql_times.push(started.elapsed());
        anyhow::ensure!(output.status.success(), "psql failed");

        let db = fresh();
        admin
            .batch_execute(&format!("CREATE DATABASE {db}"))
            .await?;
        let client = cluster.target(&db).connect().await?;
        let started = Instant::now();
        let sources = zdm::source::SourceSet::read(&[dir.to_path_buf()])?;
        let schema = zdm::parse::parse_desired(sources).map_err(|e| anyhow::anyhow!("{e}"))?;
        zdm::load::load(&client, &schema).await?;
        zdm_times.push(started.elapsed());
    }
    psql_times.sort();
    zdm_times.sort();
    println!();
    println!("| loading the {tables}-table files, median of 3 | time | x psql |");
    println!("|---|---|---|");
    println!(
        "| psql --single-transaction (yardstick) | {} | 1.00 |",
        ms(psql_times[1])
    );
    println!(
        "| zdm: parse, order, load | {} | {:.2} |",
        ms(zdm_times[1]),
        zdm_times[1].as_secs_f64() / psql_times[1].as_secs_f64()
    );
    Ok(())
}

struct Urls {
    live: String,
    desired: String,
    schema: String,
    /// The same databases as `postgresql://` URLs (for migra).
    live_url: String,
    desired_url: String,
}

/// A command-line row: median time of 3 runs and the peak memory of the largest run.
struct Measured {
    time: Duration,
    peak_kib: u64,
}

/// migra as configured, if it is installed.
fn migra_bin() -> Option<std::path::PathBuf> {
    if let Some(bin) = std::env::var_os("MIGRA_BIN") {
        return Some(bin.into());
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("migra"))
            .find(|candidate| candidate.is_file())
    })
}

/// The command-line rows: each median of 3 runs, beside the two pg_dumps.
fn cli_rows(tables: usize, pg_dump: &Path, urls: &Urls) -> anyhow::Result<()> {
    let zdm = match std::env::var_os("ZDM_BIN") {
        Some(bin) => std::path::PathBuf::from(bin),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("zdm"))
            .context("no directory above the example")?,
    };
    anyhow::ensure!(
        zdm.exists(),
        "{} missing: cargo build --release --bin zdm (or set ZDM_BIN)",
        zdm.display()
    );
    let cache = tempfile::tempdir()?;
    let dumps = median(|| {
        let mut peak = 0;
        for url in [&urls.live, &urls.desired] {
            let mut command = std::process::Command::new(pg_dump);
            command.args(["--schema-only", "-d", url]);
            peak = peak.max(run(command, &[0])?);
        }
        Ok(peak)
    })?;
    let plan = |args: &[&str]| {
        let mut command = std::process::Command::new(&zdm);
        command
            .arg("plan")
            .args(args)
            .env("ZDM_CACHE_DIR", cache.path())
            .env_remove("ZDM_NO_CACHE");
        command
    };
    // A plan exits 1 when it has steps, which is what this benchmark makes.
    let planned = [0, 1];
    let live_vs_live = ["--from", &urls.live, "--to", &urls.desired];
    let files = ["--db", &urls.live, "--schema", &urls.schema];
    let mut rows = vec![(
        "two `pg_dump --schema-only` (yardstick)".to_string(),
        Some(dumps.time),
        Some(dumps.peak_kib),
    )];
    match migra_bin() {
        Some(migra) => {
            let command = || {
                let mut command = std::process::Command::new(&migra);
                command.args(["--unsafe", &urls.live_url, &urls.desired_url]);
                command
            };
            // migra exits 2 when the databases differ.
            let measured = median(|| run(command(), &[0, 2]))?;
            rows.push((
                "migra, live vs live (peer)".to_string(),
                Some(measured.time),
                Some(measured.peak_kib),
            ));
        }
        None => rows.push((
            "migra, live vs live (peer): not installed, not run".to_string(),
            None,
            None,
        )),
    }
    // Two introspections and a plan, nothing else: what a cached plan is measured against.
    let bare: Vec<&str> = live_vs_live
        .iter()
        .copied()
        .chain(["--no-rehearsal"])
        .collect();
    let measured = median(|| run(plan(&bare), &planned))?;
    rows.push((
        "`zdm plan --from URL --to URL --no-rehearsal`".to_string(),
        Some(measured.time),
        Some(measured.peak_kib),
    ));
    for (name, args) in [
        ("`zdm plan --from URL --to URL`", &live_vs_live[..]),
        ("`zdm plan --db URL --schema DIR`", &files[..]),
    ] {
        let cold: Vec<&str> = args.iter().copied().chain(["--no-cache"]).collect();
        let measured = median(|| run(plan(&cold), &planned))?;
        rows.push((
            format!("{name} --no-cache (loads, rehearses)"),
            Some(measured.time),
            Some(measured.peak_kib),
        ));
        // Warm the cache, then time.
        run(plan(args), &planned)?;
        let measured = median(|| run(plan(args), &planned))?;
        rows.push((
            format!("{name}, warm cache"),
            Some(measured.time),
            Some(measured.peak_kib),
        ));
    }
    println!();
    println!("| {tables} tables, median of 3 | seconds | x two pg_dumps | peak memory |");
    println!("|---|---|---|---|");
    for (name, time, peak) in &rows {
        match (time, peak) {
            (Some(time), Some(peak)) => println!(
                "| {name} | {:.2} | {:.2} | {:.0} MiB |",
                time.as_secs_f64(),
                time.as_secs_f64() / dumps.time.as_secs_f64(),
                *peak as f64 / 1024.0
            ),
            _ => println!("| {name} | – | – | – |"),
        }
    }
    Ok(())
}

/// Run to completion through the `--peak-rss-of` wrapper, expecting one of `codes`; the
/// peak memory (KiB) the wrapper reports.
fn run(command: std::process::Command, codes: &[i32]) -> anyhow::Result<u64> {
    let mut wrapped = std::process::Command::new(std::env::current_exe()?);
    wrapped.arg(PEAK_RSS_OF).arg(command.get_program());
    wrapped.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(key, value),
            None => wrapped.env_remove(key),
        };
    }
    let output = wrapped.stdout(std::process::Stdio::null()).output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    anyhow::ensure!(
        output.status.code().is_some_and(|c| codes.contains(&c)),
        "{command:?} failed ({}): {stderr}",
        output.status
    );
    stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(PEAK_RSS_OF)?.trim().parse().ok())
        .context("the wrapper did not report a peak")
}

/// Spawn and wait with wait4(2): the exit code and the maximum resident set (KiB) of the
/// process and of the children it waited for.
fn wait_measured(mut command: std::process::Command) -> anyhow::Result<(i32, u64)> {
    use std::os::unix::process::ExitStatusExt as _;
    let child = command.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value, and wait4 writes into both out-parameters
    // for the child spawned above, which nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    anyhow::ensure!(waited == pid, "wait4: {}", std::io::Error::last_os_error());
    let status = std::process::ExitStatus::from_raw(status);
    // ru_maxrss is in KiB on Linux.
    Ok((status.code().unwrap_or(-1), usage.ru_maxrss as u64))
}

fn median(mut once: impl FnMut() -> anyhow::Result<u64>) -> anyhow::Result<Measured> {
    let mut times = Vec::new();
    let mut peak_kib = 0;
    for _ in 0..3 {
        let started = Instant::now();
        peak_kib = peak_kib.max(once()?);
        times.push(started.elapsed());
    }
    times.sort();
    Ok(Measured {
        time: times[1],
        peak_kib,
    })
}
