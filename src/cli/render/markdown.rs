//! `--format markdown`: a plan or a diff as a pull-request comment (GitHub-flavoured
//! Markdown: tables, fenced blocks, `<details>`, `> [!WARNING]` alerts).

use super::{diff_objects, diff_summary, plan_summary};
use crate::diff::Change;
use crate::model::Model;
use crate::plan::{Phase, Plan, Step, TableWork};

/// SQL longer than this is folded into a `<details>` block, so that a long plan stays
/// readable in the review.
const FOLD_LINES: usize = 12;

/// A plan as a comment. `live`: the database the plan was made against, whose statistics
/// (`pg_class.reltuples`) estimate the rows a scanning or rewriting step goes through.
pub fn plan(plan: &Plan, live: Option<&Model>) -> String {
    if plan.is_empty() {
        return "**zdm plan:** no changes, the database matches the desired schema.\n".into();
    }
    let mut out = String::from("## zdm plan\n\n");
    out.push_str(&format!("{}.\n\n", plan_summary(plan)));
    out.push_str("| Phase | Steps | Hazards |\n|---|---:|---:|\n");
    for phase in Phase::ALL {
        let hazards: usize = plan.steps_in(phase).map(|s| s.hazards.len()).sum();
        out.push_str(&format!(
            "| {phase} | {} | {hazards} |\n",
            plan.steps_in(phase).count()
        ));
    }
    for (i, step) in plan.steps.iter().enumerate() {
        if i == 0 || plan.steps[i - 1].phase != step.phase {
            out.push_str(&format!("\n### Phase: {}\n", step.phase));
        }
        out.push_str(&step_section(i + 1, step, live));
    }
    out
}

fn step_section(number: usize, step: &Step, live: Option<&Model>) -> String {
    let mut out = format!("\n#### {number}. {}\n\n", escape(&step.description));
    let lock = match &step.lock_target {
        Some(target) => format!("{} on `{target}`", step.lock),
        None => step.lock.to_string(),
    };
    out.push_str(&format!("- **Lock:** {lock}\n"));
    let work = match step.table_work {
        TableWork::None => "catalog only",
        TableWork::Scan => "scans the table",
        TableWork::Rewrite => "rewrites the table",
    };
    out.push_str(&format!("- **Table:** {work}\n"));
    let runs = match (step.transactional, step.backfill.is_some()) {
        (_, true) => "in batches, each committed on its own",
        (true, false) => "in a transaction",
        (false, false) => "outside a transaction",
    };
    out.push_str(&format!("- **Runs:** {runs}\n"));
    if let Some(rows) = rows_touched(step, live) {
        out.push_str(&format!(
            "- **Rows:** about {rows} (live statistics, `pg_class.reltuples`)\n"
        ));
    }
    if !step.hazards.is_empty() {
        out.push_str("\n> [!WARNING]\n");
        for hazard in &step.hazards {
            out.push_str(&format!(
                "> **{}:** {}\n",
                hazard.kind,
                escape(&hazard.message)
            ));
        }
    }
    out.push('\n');
    out.push_str(&sql_block(&step.sql));
    out
}

/// The live table's estimated row count, for a step that goes through its rows; `None` when
/// the plan was made offline, the step is catalog-only, or the table was never analysed.
fn rows_touched(step: &Step, live: Option<&Model>) -> Option<u64> {
    if step.table_work == TableWork::None && step.backfill.is_none() {
        return None;
    }
    let target = step.lock_target.as_deref()?;
    let table = live?
        .tables
        .values()
        .find(|t| t.name.to_string() == target)?;
    let rows = table.stats.estimated_rows;
    // -1: never analysed; the float is a whole-number estimate.
    (rows >= 0.0).then_some(rows.round() as u64)
}

/// A fenced block, folded when long; the fence is longer than any backtick run inside.
fn fenced(language: &str, text: &str, summary: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let body = text.trim_end_matches('\n');
    let block = format!("{fence}{language}\n{body}\n{fence}\n");
    if text.lines().count() > FOLD_LINES {
        format!("<details><summary>{summary}</summary>\n\n{block}\n</details>\n")
    } else {
        block
    }
}

fn sql_block(sql: &str) -> String {
    let summary = format!("SQL ({} lines)", sql.lines().count());
    fenced("sql", sql, &summary)
}

/// Text outside code, with the characters Markdown would read as markup escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The objects that differ, each with its changes and the diff of its definition.
pub fn diff(from: &Model, to: &Model, changes: &[Change]) -> String {
    if changes.is_empty() {
        return "**zdm diff:** no changes, the database matches the desired schema.\n".into();
    }
    let objects = diff_objects(from, to, changes);
    let mut out = format!("## zdm diff\n\n{}.\n\n", diff_summary(&objects));
    for object in &objects {
        out.push_str(&format!(
            "- **{}** {} `{}`\n",
            object.verb, object.key.kind, object.key
        ));
        for change in &object.changes {
            out.push_str(&format!("  - {}\n", escape(&change.summary())));
        }
        if !object.diff.is_empty() {
            let summary = format!("definition diff ({} lines)", object.diff.lines().count());
            let block = fenced("diff", &object.diff, &summary);
            out.push('\n');
            for line in block.lines() {
                // Indented under the list item, so that the block belongs to it.
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("  {line}\n"));
                }
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_folded_and_fences_outgrow_backticks() {
        let short = fenced("sql", "SELECT 1;\n", "s");
        assert_eq!(short, "```sql\nSELECT 1;\n```\n");
        let long: String = (0..20).map(|i| format!("SELECT {i};\n")).collect();
        let folded = fenced("sql", &long, "SQL (20 lines)");
        assert!(folded.starts_with("<details><summary>SQL (20 lines)</summary>\n\n```sql\n"));
        assert!(folded.ends_with("```\n\n</details>\n"));
        assert!(fenced("sql", "a ```` b", "s").starts_with("`````sql\n"));
        assert_eq!(escape("a_b | <c>"), "a\\_b \\| \\<c\\>");
    }
}
