//! zdm's own plans pass its linter, over the whole conformance corpus: every case planned
//! offline (`plan --from DIR --to DIR --format sql`, which assumes every table holds rows, so
//! every step takes its online form) and the script linted. A finding on a step whose plan
//! names a hazard is what the plan already says; any other finding is either a false positive
//! of a rule or a plan that is not safe, and fails the test.

mod common;
#[allow(dead_code)]
mod conformance;

use conformance::{dev_url_args, tail, zdm};

/// A schema directory holding the case's setup.sql (when it has one) and `which`.
fn side(case: &conformance::Case, which: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if let Some(setup) = case.setup() {
        std::fs::copy(setup, dir.path().join("00_setup.sql")).unwrap();
    }
    std::fs::copy(case.dir.join(which), dir.path().join("10_schema.sql")).unwrap();
    dir
}

async fn check(case: &'static conformance::Case) -> (Result<(), String>, bool) {
    (lint_plan(case).await, true)
}

async fn lint_plan(case: &conformance::Case) -> Result<(), String> {
    let (from, to) = (side(case, "from.sql"), side(case, "to.sql"));
    let mut args: Vec<String> = ["plan", "--format", "sql", "--no-rehearsal", "--from"]
        .map(String::from)
        .to_vec();
    args.push(from.path().display().to_string());
    args.push("--to".into());
    args.push(to.path().display().to_string());
    args.extend(dev_url_args());
    let plan = zdm(&args).await;
    match plan.code {
        0 => return Ok(()),
        1 => {}
        code => return Err(format!("plan failed (exit {code}):\n{}", tail(&plan))),
    }
    let script = to.path().join("plan.sql.out");
    std::fs::write(&script, &plan.stdout).unwrap();
    let lint = zdm(&[
        "lint".into(),
        "--format".into(),
        "json".into(),
        script.display().to_string(),
    ])
    .await;
    let findings: Vec<serde_json::Value> = serde_json::from_str(&lint.stdout).unwrap_or_default();
    let lines: Vec<&str> = plan.stdout.lines().collect();
    let reported: Vec<String> = findings
        .iter()
        .filter(|f| f["ignored"].is_null())
        .filter(|f| !acknowledged(&lines, f["line"].as_u64().unwrap_or(0) as usize))
        .map(|f| {
            format!(
                "{} at line {}: {}",
                f["rule"].as_str().unwrap_or("?"),
                f["line"],
                f["statement"].as_str().unwrap_or_default()
            )
        })
        .collect();
    if lint.code == 2 || !reported.is_empty() {
        return Err(format!(
            "zdm lint (exit {}) finds in zdm's own plan:\n{}\n{}\n--- plan ---\n{}",
            lint.code,
            reported.join("\n"),
            lint.stderr,
            plan.stdout
        ));
    }
    Ok(())
}

/// Whether the step holding script line `line` (1-based) names a hazard: the plan says what
/// is dangerous about it (a rewrite it cannot avoid, a drop in contract), which is what the
/// finding says too. Steps are blocks of lines separated by a blank line.
fn acknowledged(lines: &[&str], line: usize) -> bool {
    lines[..line.min(lines.len())]
        .iter()
        .rev()
        .take_while(|l| !l.trim().is_empty())
        .any(|l| l.starts_with("-- HAZARD"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zdm_plans_of_the_corpus_lint_clean() {
    conformance::run_corpus(
        "lint of zdm's plans",
        "cases.tsv",
        "known_failures_lint.tsv",
        check,
    )
    .await;
}
