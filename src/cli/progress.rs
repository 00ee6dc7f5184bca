//! Printing the executor's progress while apply runs.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use super::apply::show_duration;
use crate::apply::ApplyEvent;
use crate::plan::Step;

/// Prints the executor's events: a progress bar for backfills on a terminal, plain lines
/// (at most one a second) otherwise.
pub(super) struct Reporter {
    tty: bool,
    bar: Option<ProgressBar>,
    last_line: Option<Instant>,
    run_start: Option<(Instant, u64)>,
}

impl Reporter {
    pub(super) fn new() -> Reporter {
        Reporter {
            tty: std::io::stderr().is_terminal(),
            bar: None,
            last_line: None,
            run_start: None,
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }

    pub(super) fn event(&mut self, event: &ApplyEvent) {
        match event {
            ApplyEvent::StepStarted { index, step } => {
                self.finish();
                self.last_line = None;
                self.run_start = None;
                eprintln!("[{}] {index}. {}", step.phase, step.description)
            }
            ApplyEvent::LockRetry {
                step,
                attempt,
                wait,
            } => eprintln!(
                "      lock not available for {} (attempt {attempt}); retrying in {wait:.0?}",
                step.lock_target.as_deref().unwrap_or("the step")
            ),
            ApplyEvent::Backfill { step, progress } => self.backfill(step, progress),
            ApplyEvent::IndexProgress { progress, .. } => {
                let line = format!(
                    "      {}: blocks {} of {}, tuples {} of {}",
                    progress.phase,
                    progress.blocks_done,
                    progress.blocks_total,
                    progress.tuples_done,
                    progress.tuples_total
                );
                match &self.bar {
                    Some(bar) => bar.set_message(line.trim().to_string()),
                    None if self.tty => {
                        let bar = ProgressBar::new_spinner();
                        bar.set_message(line.trim().to_string());
                        bar.enable_steady_tick(Duration::from_millis(200));
                        self.bar = Some(bar);
                    }
                    None => eprintln!("{line}"),
                }
            }
            ApplyEvent::InvalidIndexDropped { index, before, .. } => {
                self.finish();
                if *before {
                    eprintln!("      an earlier build left index {index} INVALID: dropped it concurrently before building again");
                } else {
                    eprintln!("      the failed build left index {index} INVALID: dropped it concurrently");
                }
            }
            ApplyEvent::ReplicaLag { why, .. } => self.waiting(why),
            ApplyEvent::StepFinished { elapsed, .. } => {
                self.finish();
                eprintln!("      done in {elapsed:.1?}")
            }
        }
    }

    /// Why the run waits for replicas: always shown, above a progress bar if there is one.
    fn waiting(&self, why: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("      {why}")),
            None => eprintln!("      {why}"),
        }
    }

    fn backfill(&mut self, step: &Step, p: &crate::apply::backfill::BackfillProgress) {
        if let Some(why) = &p.waiting {
            self.waiting(why);
            return;
        }
        let (start, base) = *self.run_start.get_or_insert((
            Instant::now(),
            p.rows_scanned.saturating_sub(p.batch_size as u64),
        ));
        if self.tty {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = ProgressBar::new(p.rows_estimated.unwrap_or(0));
                bar.set_style(
                    ProgressStyle::with_template(
                        "      {bar:30} {pos}/{len} rows  {per_sec}  ETA {eta}  {msg}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar
            });
            if bar.length().unwrap_or(0) < p.rows_scanned {
                bar.set_length(p.rows_scanned);
            }
            bar.set_position(p.rows_scanned);
            bar.set_message(format!(
                "{} filled, batch {}{}",
                p.rows_updated,
                p.batch_size,
                cut_note(p.batches_cut)
            ));
            return;
        }
        if self
            .last_line
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        self.last_line = Some(Instant::now());
        let secs = start.elapsed().as_secs_f64().max(1e-3);
        let rate = (p.rows_scanned.saturating_sub(base)) as f64 / secs;
        let of = match p.rows_estimated {
            Some(total) if total > 0 => {
                let eta = if rate > 0.0 && total > p.rows_scanned {
                    format!(
                        ", ETA {}",
                        show_duration(Duration::from_secs_f64(
                            (total - p.rows_scanned) as f64 / rate
                        ))
                    )
                } else {
                    String::new()
                };
                format!(
                    " of ~{total} ({:.0}%){eta}",
                    100.0 * p.rows_scanned as f64 / total as f64
                )
            }
            _ => String::new(),
        };
        let resumed = if p.resumed { " (resumed)" } else { "" };
        let cut = cut_note(p.batches_cut);
        let what = match &step.backfill {
            // A row copy: source -> target.
            Some(b) if b.rows.is_some() => format!("{} -> {}", b.table, b.column),
            Some(b) => format!("{}.{}", b.table, b.column),
            None => String::new(),
        };
        eprintln!(
            "      {what}: {} rows scanned{of}, {} filled, {rate:.0} rows/s, batch {}{cut}{resumed}",
            p.rows_scanned,
            p.rows_updated,
            p.batch_size
        );
    }
}

/// How many batches ran past their time cap and were redone smaller, when any did.
fn cut_note(cut: u64) -> String {
    match cut {
        0 => String::new(),
        n => format!(" ({n} cut for running long)"),
    }
}
