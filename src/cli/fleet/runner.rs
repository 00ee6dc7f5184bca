//! Running one job per database of a fleet: bounded parallelism, a canary stage, a failure
//! limit; a progress line per database, then a summary table or JSON.

use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Fleet, Member};

/// What a job reports for a database it finished.
pub struct Done {
    /// The phase(s) the job ran or found, for the table's `phase` column.
    pub phase: String,
    pub steps: usize,
    /// For diff, plan and status: the database differs from the desired schema.
    pub differs: bool,
    /// A short note for the table (e.g. `drift: 2 change(s)`).
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Ok,
    Differs,
    Failed,
    /// Not started: the canary stage or the failure limit stopped the rollout first.
    NotStarted,
}

impl Outcome {
    fn text(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Differs => "differs",
            Outcome::Failed => "FAILED",
            Outcome::NotStarted => "not started",
        }
    }
}

#[derive(Serialize)]
pub struct Row {
    pub database: String,
    pub phase: String,
    pub steps: usize,
    pub seconds: f64,
    pub result: Outcome,
    pub detail: Option<String>,
    /// The error that stopped this database, all of its causes.
    pub error: Option<String>,
}

/// Run `job` on every member: the first `canary` ones first (a failure among them stops the
/// rollout), then the rest, `parallel` at a time, starting no new database once
/// `max_failures` have failed. Rows come back in the fleet's order.
pub async fn run_all<'a, F, Fut>(fleet: &'a Fleet, job: F) -> Vec<Row>
where
    F: Fn(&'a Member) -> Fut,
    Fut: Future<Output = anyhow::Result<Done>> + 'a,
{
    let total = fleet.members.len();
    let canary = fleet.canary.min(total);
    let finished = AtomicUsize::new(0);
    let failures = AtomicUsize::new(0);
    let mut rows: Vec<(usize, Row)> = Vec::new();
    for (stage, range) in [(true, 0..canary), (false, canary..total)] {
        let one = |i: usize| {
            let member = &fleet.members[i];
            let job = &job;
            let (finished, failures) = (&finished, &failures);
            async move {
                let row = run_one(fleet, member, job).await;
                if row.result == Outcome::Failed {
                    let failed = failures.fetch_add(1, Ordering::SeqCst) + 1;
                    if fleet.max_failures.is_some_and(|max| failed >= max) {
                        fleet.stop.store(true, Ordering::SeqCst);
                    }
                }
                let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
                if row.result != Outcome::NotStarted {
                    eprintln!(
                        "[{n:>width$}/{total}] {}",
                        progress_line(&row),
                        width = digits(total)
                    );
                }
                (i, row)
            }
        };
        let stage_rows: Vec<(usize, Row)> = stream::iter(range)
            .map(one)
            .buffer_unordered(fleet.parallel)
            .collect()
            .await;
        let canary_failed = stage && stage_rows.iter().any(|(_, r)| r.result == Outcome::Failed);
        rows.extend(stage_rows);
        if canary_failed {
            eprintln!("a canary database failed: the others are not started");
            fleet.stop.store(true, Ordering::SeqCst);
        }
    }
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter().map(|(_, r)| r).collect()
}

async fn run_one<'a, F, Fut>(fleet: &Fleet, member: &'a Member, job: &F) -> Row
where
    F: Fn(&'a Member) -> Fut,
    Fut: Future<Output = anyhow::Result<Done>>,
{
    let mut row = Row {
        database: member.label.clone(),
        phase: String::new(),
        steps: 0,
        seconds: 0.0,
        result: Outcome::NotStarted,
        detail: None,
        error: None,
    };
    if fleet.stop.load(Ordering::SeqCst) {
        return row;
    }
    let started = Instant::now();
    let result = job(member).await;
    row.seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(done) => {
            row.phase = done.phase;
            row.steps = done.steps;
            row.detail = done.detail;
            row.result = if done.differs {
                Outcome::Differs
            } else {
                Outcome::Ok
            };
        }
        Err(e) => {
            row.result = Outcome::Failed;
            row.error = Some(causes(&e));
        }
    }
    row
}

/// Every cause once, outermost first (like `render::error`, without its colour).
fn causes(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

fn progress_line(row: &Row) -> String {
    let time = show(Duration::from_secs_f64(row.seconds));
    match row.result {
        Outcome::Failed => format!(
            "{}: FAILED after {time}: {}",
            row.database,
            first_line(row.error.as_deref().unwrap_or(""))
        ),
        _ => format!(
            "{}: {} ({}), {} step(s) in {time}",
            row.database,
            row.result.text(),
            row.phase,
            row.steps
        ),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn show(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// The summary: one row per database, then the counts.
pub fn table(rows: &[Row]) -> String {
    let headers = [
        "database",
        "phase",
        "steps",
        "time",
        "result",
        "first error",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            let note = match (&r.error, &r.detail) {
                (Some(e), _) => first_line(e).to_string(),
                (None, Some(d)) => d.clone(),
                (None, None) => String::new(),
            };
            [
                r.database.clone(),
                r.phase.clone(),
                r.steps.to_string(),
                show(Duration::from_secs_f64(r.seconds)),
                r.result.text().to_string(),
                note,
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: Vec<&str>| {
        let padded: Vec<String> = cols
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(headers.to_vec());
    out.push_str(&line(
        widths
            .iter()
            .map(|w| {
                &"------------------------------------------------------------"[..(*w).min(60)]
            })
            .collect(),
    ));
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    let count = |o: Outcome| rows.iter().filter(|r| r.result == o).count();
    out.push_str(&format!(
        "{} database(s): {} ok, {} differ, {} failed, {} not started\n",
        rows.len(),
        count(Outcome::Ok),
        count(Outcome::Differs),
        count(Outcome::Failed),
        count(Outcome::NotStarted)
    ));
    out
}

/// 0 when every database is as wanted, 1 when some differ (diff, plan, status), 2 when any
/// failed or was not started.
pub fn exit_code(rows: &[Row]) -> u8 {
    if rows
        .iter()
        .any(|r| matches!(r.result, Outcome::Failed | Outcome::NotStarted))
    {
        super::super::EXIT_ERROR
    } else if rows.iter().any(|r| r.result == Outcome::Differs) {
        super::super::EXIT_DIFFERENCES
    } else {
        super::super::EXIT_CLEAN
    }
}
