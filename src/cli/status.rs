//! `zdm status`: the phases done (from the ledger) and pending (from a fresh plan), and
//! backfill progress; for people (`human`) or monitors (`json`).

use anyhow::Context as _;
use serde::Serialize;
use std::time::SystemTime;

use super::apply::ago;
use super::args::{Format, SourceArgs};
use super::{render, sides, EXIT_CLEAN, EXIT_DIFFERENCES};
use crate::ledger::{Ledger, SavedCursor};
use crate::plan::{HazardKind, Phase, Plan};

/// What status knows, gathered once and printed in either format.
#[derive(Serialize)]
struct Report {
    desired_fingerprint: String,
    database_fingerprint: String,
    /// Whether the database has zdm's ledger (schema `zdm`), i.e. apply has run on it.
    ledger: bool,
    phases: Vec<PhaseState>,
    backfills: Vec<BackfillState>,
    /// Steps that started and never finished: a killed run, or one still running.
    interrupted_steps: Vec<Interrupted>,
    /// Changes made outside zdm since its last run; absent before zdm's first run (or when
    /// the ledger predates snapshots).
    drift: Option<Drift>,
}

/// The live schema against the one zdm's last run left.
#[derive(Serialize)]
struct Drift {
    /// When that run's snapshot was taken (RFC 3339, UTC).
    since: String,
    plan_id: i64,
    changes: Vec<crate::diff::Change>,
    #[serde(skip)]
    taken_at: SystemTime,
}

#[derive(Serialize)]
struct PhaseState {
    phase: Phase,
    /// `done`, `pending`, `nothing-to-do`, or `moved` (finished toward this schema, but the
    /// database has changed since and steps are pending again).
    state: &'static str,
    pending_steps: Vec<PendingStep>,
    /// When the phase last finished toward the desired schema (RFC 3339, UTC).
    finished_at: Option<String>,
    #[serde(skip)]
    finished: Option<SystemTime>,
}

#[derive(Serialize)]
struct PendingStep {
    description: String,
    hazards: Vec<HazardKind>,
}

#[derive(Serialize)]
struct BackfillState {
    table: String,
    column: String,
    finished: bool,
    rows_done: u64,
    rows_scanned: u64,
    /// The key of the last row filled, for a backfill that stopped part-way.
    last_key: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Interrupted {
    plan_id: i64,
    ordinal: i32,
    description: String,
}

pub async fn run(args: SourceArgs) -> anyhow::Result<u8> {
    if let Some(fleet) = super::fleet::Fleet::from_args(&args).await? {
        return super::fleet::status(&args, fleet).await;
    }
    if args.from.is_some() {
        anyhow::bail!("status works on a live database: use --db (or DATABASE_URL)");
    }
    if !matches!(args.format, Format::Human | Format::Json) {
        anyhow::bail!("zdm status prints --format human or json only");
    }
    let sides = sides::read(&args).await?;
    let (report, fresh) = report(sides).await?;
    for step in &report.interrupted_steps {
        render::note(&format!(
            "plan {} step {} ({}) started and never finished (killed run or one still running)",
            step.plan_id, step.ordinal, step.description
        ));
    }
    match args.format {
        Format::Json => println!("{}", render::json::document(&report)?),
        _ => print!("{}", human(&report)),
    }
    Ok(if fresh.is_empty() {
        EXIT_CLEAN
    } else {
        EXIT_DIFFERENCES
    })
}

/// Everything status knows about one database (a fleet asks each of its databases).
async fn report(mut sides: sides::Sides) -> anyhow::Result<(Report, Plan)> {
    // The plan `zdm plan` would show, reference rows included, without its rehearsal.
    let fresh = super::plan::fresh_plan(&sides, false).await;
    sides.release().await;
    let fresh = fresh?;
    // The session planning read the live database through (sides opens one whenever the
    // live side is a database).
    let client = sides.live.take().context("status needs a live database")?;
    let ledger = Ledger::existing(&client).await?;
    let mut report = gather(&fresh, ledger.as_ref()).await?;
    if let Some(l) = &ledger {
        report.drift = drift(l, &sides.from.model).await?;
    }
    Ok((report, fresh))
}

/// One database of a fleet in a few words: the last phase done, what is pending, drift.
pub(super) struct Summary {
    pub phase: String,
    pub pending: usize,
    pub detail: Option<String>,
}

pub(super) async fn summary(sides: sides::Sides) -> anyhow::Result<Summary> {
    let (report, fresh) = report(sides).await?;
    let done = report
        .phases
        .iter()
        .filter(|p| p.state == "done")
        .map(|p| p.phase.name())
        .next_back();
    let pending: Vec<&str> = report
        .phases
        .iter()
        .filter(|p| matches!(p.state, "pending" | "moved"))
        .map(|p| p.phase.name())
        .collect();
    let phase = match (done, pending.first()) {
        (_, Some(next)) => format!("{next} pending"),
        (Some(last), None) => format!("{last} done"),
        (None, None) => "up to date".to_string(),
    };
    let mut notes = Vec::new();
    if !report.ledger {
        notes.push("no ledger yet".to_string());
    }
    match &report.drift {
        Some(d) if !d.changes.is_empty() => {
            notes.push(format!("drift: {} change(s) outside zdm", d.changes.len()))
        }
        _ => {}
    }
    if !report.interrupted_steps.is_empty() {
        notes.push(format!(
            "{} interrupted step(s)",
            report.interrupted_steps.len()
        ));
    }
    Ok(Summary {
        phase,
        pending: fresh.steps.len(),
        detail: (!notes.is_empty()).then(|| notes.join("; ")),
    })
}

async fn gather(fresh: &Plan, ledger: Option<&Ledger<'_>>) -> anyhow::Result<Report> {
    let done = match ledger {
        Some(l) => l.phases_finished(&fresh.target_fingerprint).await?,
        None => Vec::new(),
    };
    let phases = Phase::ALL
        .into_iter()
        .map(|phase| {
            let pending: Vec<PendingStep> = fresh
                .steps_in(phase)
                .map(|s| PendingStep {
                    description: s.description.clone(),
                    hazards: s.hazards.iter().map(|h| h.kind).collect(),
                })
                .collect();
            // The latest finish: phases_finished is in order of finishing.
            let finished = done
                .iter()
                .rev()
                .find(|(p, _)| p == phase.name())
                .map(|(_, at)| *at);
            let state = match (pending.is_empty(), finished) {
                (true, Some(_)) => "done",
                (true, None) => "nothing-to-do",
                (false, Some(_)) => "moved",
                (false, None) => "pending",
            };
            PhaseState {
                phase,
                state,
                pending_steps: pending,
                finished_at: finished.map(rfc3339),
                finished,
            }
        })
        .collect();
    let (backfills, interrupted_steps) = match ledger {
        Some(l) => (
            l.cursors().await?.into_iter().map(backfill).collect(),
            interrupted(l).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(Report {
        desired_fingerprint: fresh.target_fingerprint.clone(),
        database_fingerprint: fresh.source_fingerprint.clone(),
        ledger: ledger.is_some(),
        phases,
        backfills,
        interrupted_steps,
        drift: None,
    })
}

/// What changed between the schema zdm's last run left and the live one: not zdm's doing.
async fn drift(ledger: &Ledger<'_>, live: &crate::model::Model) -> anyhow::Result<Option<Drift>> {
    let Some(snapshot) = ledger.last_schema().await? else {
        return Ok(None);
    };
    Ok(Some(Drift {
        since: rfc3339(snapshot.taken_at),
        plan_id: snapshot.plan_id,
        changes: crate::diff::diff(&snapshot.model, live),
        taken_at: snapshot.taken_at,
    }))
}

fn backfill(c: SavedCursor) -> BackfillState {
    BackfillState {
        table: c.table,
        column: c.column,
        finished: c.finished,
        rows_done: c.rows_done,
        rows_scanned: c.rows_scanned,
        last_key: c.cursor,
    }
}

async fn interrupted(ledger: &Ledger<'_>) -> anyhow::Result<Vec<Interrupted>> {
    let rows = ledger
        .client()
        .query(
            "SELECT plan_id, ordinal, description FROM zdm.steps \
             WHERE started_at IS NOT NULL AND finished_at IS NULL ORDER BY plan_id, ordinal",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Interrupted {
            plan_id: r.get(0),
            ordinal: r.get(1),
            description: r.get(2),
        })
        .collect())
}

fn human(report: &Report) -> String {
    let mut out = format!(
        "desired schema {}, database schema {}\n",
        &report.desired_fingerprint[..12],
        &report.database_fingerprint[..12]
    );
    if !report.ledger {
        out.push_str("no ledger yet (schema zdm): zdm apply has not run on this database\n");
    }
    for phase in &report.phases {
        let n = phase.pending_steps.len();
        let state = match (phase.state, phase.finished) {
            ("done", Some(at)) => format!("done ({} ago)", ago(at)),
            ("moved", Some(at)) => format!(
                "{n} step(s) pending (it finished {} ago toward this schema; the database has moved since)",
                ago(at)
            ),
            ("nothing-to-do", _) => "nothing to do".to_string(),
            _ => format!("{n} step(s) pending"),
        };
        out.push_str(&format!("  {:<9} {state}\n", phase.phase.name()));
        for step in &phase.pending_steps {
            out.push_str(&format!("      - {}\n", step.description));
        }
    }
    if let Some(drift) = &report.drift {
        if drift.changes.is_empty() {
            out.push_str(&format!(
                "no drift: the schema is as zdm's last run (plan {}) left it {} ago\n",
                drift.plan_id,
                ago(drift.taken_at)
            ));
        } else {
            out.push_str(&format!(
                "drift: {} change(s) made outside zdm since its last run (plan {}, {} ago):\n",
                drift.changes.len(),
                drift.plan_id,
                ago(drift.taken_at)
            ));
            for change in &drift.changes {
                out.push_str(&format!(
                    "  {}: {}\n",
                    change.object().label(),
                    change.summary()
                ));
            }
            if !report.interrupted_steps.is_empty() {
                // A killed run keeps no snapshot: what it did before dying shows up here.
                out.push_str("  (some may be the work of the interrupted run noted above)\n");
            }
        }
    }
    if !report.backfills.is_empty() {
        out.push_str("backfills:\n");
    }
    for c in &report.backfills {
        let state = if c.finished {
            "finished"
        } else {
            "in progress"
        };
        let key = c
            .last_key
            .as_ref()
            .map(|k| format!(", last key ({})", k.join(", ")))
            .unwrap_or_default();
        out.push_str(&format!(
            "  {}.{}: {state}, {} rows filled, {} scanned{key}\n",
            c.table, c.column, c.rows_done, c.rows_scanned
        ));
    }
    out
}

/// `2026-12-03T07:13:42Z`: a civil date from the Unix time (Howard Hinnant's algorithm), so
/// that monitors get a standard timestamp without a date library for one field.
fn rfc3339(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::rfc3339;
    use std::time::{Duration, SystemTime};

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_796_282_022)), "2026-12-03T07:13:42Z");
    }
}
