//! The independent check: squawk (npm package `squawk-cli`, installed by `scripts/install-deps`
//! into `target/tools`) runs on every rule's bad and good example, and each lock or rewrite
//! finding squawk makes must have a zdm finding of the matching rule on the same example.
//!
//! squawk is looked for in `ZDM_SQUAWK`, then `target/tools/node_modules/.bin/squawk`, then
//! `PATH`. Without it the test fails when `CI` or `ZDM_REQUIRE_SQUAWK` is set, and says it
//! skipped otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use zdm::lint::{lint_text, rules, Options};

/// squawk's lock and rewrite rules, and the zdm rules that cover each (any one of them on the
/// same example counts). squawk's other rules are about style (types, `IF NOT EXISTS`),
/// `statement_timeout`, or objects zdm does not lint (domains, TRUNCATE).
const LOCK_AND_REWRITE: &[(&str, &[&str])] = &[
    (
        "adding-field-with-default",
        &["adding-field-with-volatile-default"],
    ),
    (
        "adding-foreign-key-constraint",
        &["constraint-missing-not-valid"],
    ),
    ("adding-not-nullable-field", &["setting-not-null"]),
    ("adding-required-field", &["adding-required-field"]),
    (
        "adding-serial-primary-key-field",
        &[
            "adding-field-with-volatile-default",
            "disallowed-unique-constraint",
        ],
    ),
    (
        "ban-concurrent-index-creation-in-transaction",
        &["concurrently-in-transaction"],
    ),
    ("changing-column-type", &["changing-column-type"]),
    // squawk reports an added UNIQUE or EXCLUDE as not NOT VALID too; zdm's rules for those
    // say what to do instead (USING INDEX; no online way).
    (
        "constraint-missing-not-valid",
        &[
            "constraint-missing-not-valid",
            "disallowed-unique-constraint",
            "adding-exclusion-constraint",
        ],
    ),
    (
        "disallowed-unique-constraint",
        &["disallowed-unique-constraint"],
    ),
    ("renaming-column", &["renaming-column"]),
    ("renaming-table", &["renaming-table"]),
    (
        "require-concurrent-index-creation",
        &["require-concurrent-index-creation"],
    ),
    (
        "require-concurrent-index-deletion",
        &["require-concurrent-index-deletion"],
    ),
    ("require-lock-timeout", &["lock-timeout-missing"]),
    ("require-timeout-settings", &["lock-timeout-missing"]),
    ("ban-drop-column", &["dropping-column"]),
    ("ban-drop-table", &["dropping-table"]),
    ("ban-drop-database", &["ban-drop-database"]),
    ("transaction-nesting", &["transaction-nesting"]),
];

/// Where zdm is silent on purpose: (example, squawk rule, why). Each must still be a squawk
/// finding (the test says so when one is no longer), and zdm must not be silent anywhere else.
const SILENT_ON_PURPOSE: &[(&str, &str, &str)] = &[
    ("require-concurrent-index-creation.good.sql", "require-lock-timeout", SUE),
    ("require-concurrent-index-deletion.good.sql", "require-lock-timeout", SUE),
    ("reindex-without-concurrently.good.sql", "require-lock-timeout", SUE),
    ("vacuum-full.good.sql", "require-lock-timeout", SUE),
    ("prefer-robust-stmts.bad.sql", "require-lock-timeout", SUE),
    ("prefer-robust-stmts.good.sql", "require-lock-timeout", SUE),
    ("concurrently-in-transaction.bad.sql", "require-lock-timeout", SUE),
    ("concurrently-in-transaction.good.sql", "require-lock-timeout", SUE),
    ("enum-value-used-in-transaction.bad.sql", "require-lock-timeout", ENUM),
    ("enum-value-used-in-transaction.good.sql", "require-lock-timeout", ENUM),
    (
        "ban-drop-database.bad.sql",
        "require-lock-timeout",
        "DROP DATABASE takes no table lock (it refuses while sessions are connected); ban-drop-database reports it",
    ),
    ("changing-column-type.good.sql", "changing-column-type", NEW_TABLE),
    ("changing-column-type.good.sql", "require-lock-timeout", NEW_TABLE),
    ("dropping-column.good.sql", "ban-drop-column", CONTRACT),
    ("dropping-table.good.sql", "ban-drop-table", CONTRACT),
];

const SUE: &str = "SHARE UPDATE EXCLUSIVE (CONCURRENTLY, VACUUM without FULL) conflicts with no read or write: waiting for it queues no application query";
const ENUM: &str =
    "ALTER TYPE ... ADD VALUE locks the type against other ADD VALUEs only, no table";
const NEW_TABLE: &str = "the table is created earlier in the same file: empty, and no other session can hold a lock on it";
const CONTRACT: &str = "marked `-- zdm:phase contract`: the drop after the verification period of an expand/contract migration";

fn squawk() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ZDM_SQUAWK") {
        return Some(PathBuf::from(path));
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/node_modules/.bin/squawk");
    if local.exists() {
        return Some(local);
    }
    let on_path = Command::new("squawk").arg("--version").output();
    on_path
        .is_ok_and(|o| o.status.success())
        .then(|| PathBuf::from("squawk"))
}

/// Every example as a file: `<rule>.bad.sql` and `<rule>.good.sql`.
fn write_examples(dir: &Path) -> Vec<(String, String)> {
    let mut written = Vec::new();
    for rule in rules::ALL {
        for (side, text) in [("bad", rule.bad), ("good", rule.good)] {
            let name = format!("{}.{side}.sql", rule.id);
            std::fs::write(dir.join(&name), text).expect("write example");
            written.push((name, text.to_string()));
        }
    }
    written
}

/// squawk's rule ids per example file name, from its JSON report (PostgreSQL 13: zdm's
/// oldest supported server, where a constant default no longer rewrites).
fn squawk_findings(
    squawk: &Path,
    dir: &Path,
    files: &[(String, String)],
) -> BTreeMap<String, BTreeSet<String>> {
    let output = Command::new(squawk)
        .args(["--reporter", "json", "--pg-version", "13.0"])
        .args(files.iter().map(|(name, _)| dir.join(name)))
        .output()
        .expect("squawk runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "squawk's JSON report: {e}\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for finding in report.as_array().expect("a list of findings") {
        let file = finding["file"].as_str().expect("file");
        let name = Path::new(file)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let rule = finding["rule_name"]
            .as_str()
            .expect("rule_name")
            .to_string();
        found.entry(name).or_default().insert(rule);
    }
    found
}

fn zdm_findings(text: &str) -> BTreeSet<String> {
    let options = Options {
        style: true,
        ..Options::default()
    };
    lint_text("example.sql", text, &options, None)
        .expect("examples parse")
        .into_iter()
        .map(|f| f.rule.to_string())
        .collect()
}

fn join(ids: &BTreeSet<String>) -> String {
    if ids.is_empty() {
        "-".to_string()
    } else {
        ids.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

#[test]
fn zdm_finds_every_lock_and_rewrite_finding_squawk_has_on_the_rule_examples() {
    let Some(squawk) = squawk() else {
        let required =
            std::env::var_os("CI").is_some() || std::env::var_os("ZDM_REQUIRE_SQUAWK").is_some();
        assert!(
            !required,
            "squawk is required here (CI or ZDM_REQUIRE_SQUAWK is set) but was not found: run scripts/install-deps"
        );
        eprintln!("skipped: squawk not found (scripts/install-deps installs it into target/tools)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = write_examples(dir.path());
    let by_squawk = squawk_findings(&squawk, dir.path(), &files);
    let lock_rules: BTreeMap<&str, &[&str]> = LOCK_AND_REWRITE.iter().copied().collect();

    let mut table = String::from("| example | squawk (lock/rewrite) | zdm |\n|---|---|---|\n");
    let mut missed = Vec::new();
    let mut explained = Vec::new();
    let mut compared = 0;
    for (name, text) in &files {
        let ours = zdm_findings(text);
        let theirs: BTreeSet<String> = by_squawk
            .get(name)
            .into_iter()
            .flatten()
            .filter(|r| lock_rules.contains_key(r.as_str()))
            .cloned()
            .collect();
        for rule in &theirs {
            compared += 1;
            let on_purpose = SILENT_ON_PURPOSE
                .iter()
                .find(|(file, squawk_rule, _)| file == name && squawk_rule == rule);
            if let Some((_, _, why)) = on_purpose {
                explained.push(format!("{name}: squawk {rule}; zdm silent: {why}"));
            } else if !lock_rules[rule.as_str()].iter().any(|z| ours.contains(*z)) {
                missed.push(format!("{name}: squawk {rule}, zdm has {}", join(&ours)));
            }
        }
        table.push_str(&format!(
            "| {name} | {} | {} |\n",
            join(&theirs),
            join(&ours)
        ));
    }
    println!("{table}\n{}", explained.join("\n"));
    let stale: Vec<_> = SILENT_ON_PURPOSE
        .iter()
        .filter(|(file, rule, _)| !by_squawk.get(*file).is_some_and(|r| r.contains(*rule)))
        .collect();
    assert!(
        stale.is_empty(),
        "no longer squawk findings, drop them from SILENT_ON_PURPOSE: {stale:?}"
    );
    assert!(
        compared > 0,
        "squawk made no lock or rewrite finding at all:\n{table}"
    );
    assert!(
        missed.is_empty(),
        "lock/rewrite findings squawk has and zdm misses:\n{}\n\n{table}",
        missed.join("\n")
    );
}
