//! Everything zdm prints: diffs, plans, progress, notes and errors.

use owo_colors::{OwoColorize, Stream};
use similar::TextDiff;
use std::collections::BTreeMap;

use crate::diff::Change;
use crate::model::Model;
use crate::model::{Kind, ObjectId};
use crate::plan::{Phase, Plan, Step, TableWork};
use crate::sql::{ddl, quote_ident};

pub mod github;
pub mod json;
pub mod markdown;

pub fn note(text: &str) {
    eprintln!(
        "{} {text}",
        "note:".if_supports_color(Stream::Stderr, |t| t.cyan())
    );
}

pub fn error(error: &anyhow::Error) -> String {
    // Problems in the schema files: each with its file:line:col and the offending line.
    if let Some(crate::workspace::WorkspaceError::Parse(errors)) =
        error.downcast_ref::<crate::workspace::WorkspaceError>()
    {
        // Each diagnostic already starts with its own `error:`.
        return errors.render();
    }
    // One line of cause per level, outermost first, without repeating a message that is
    // already contained in its context.
    let mut lines: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !lines.iter().any(|l| l.contains(&text)) {
            lines.push(text);
        }
    }
    format!(
        "{} {}",
        "error:".if_supports_color(Stream::Stderr, |t| t.red()),
        lines.join(": ")
    )
}

/// "not managed yet" summary of objects zdm saw but does not compare.
pub fn unmanaged_note(from: &Model, to: &Model) {
    if let Some(parts) = unmanaged_summary(from, to) {
        note(&format!("not managed by zdm yet, so not compared: {parts}"));
    }
}

/// What a dump leaves out: objects of kinds zdm does not manage yet.
pub fn undumped_note(model: &Model) {
    if let Some(parts) = unmanaged_summary(model, &Model::default()) {
        note(&format!(
            "not managed by zdm yet, so not dumped (objects that use them will not load from the dump): {parts}"
        ));
    }
}

/// `2 aggregate (a, b); 1 collation (c)` over both models, `None` when there is nothing.
fn unmanaged_summary(from: &Model, to: &Model) -> Option<String> {
    let mut by_kind: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    // zdm's own sync triggers are part of a migration in progress, not the user's schema.
    let own = |name: &str| {
        name.rsplit('.')
            .next()
            .is_some_and(|n| n.starts_with("zdm_"))
    };
    for object in from
        .unmanaged
        .iter()
        .chain(&to.unmanaged)
        .filter(|o| !own(&o.name))
    {
        let names = by_kind.entry(object.kind.as_str()).or_default();
        if !names.contains(&object.name.as_str()) {
            names.push(&object.name);
        }
    }
    if by_kind.is_empty() {
        return None;
    }
    let parts: Vec<String> = by_kind
        .iter()
        .map(|(kind, names)| {
            let shown: Vec<&str> = names.iter().take(5).copied().collect();
            let more = if names.len() > 5 {
                format!(", and {} more", names.len() - 5)
            } else {
                String::new()
            };
            format!("{} {kind} ({}{more})", names.len(), shown.join(", "))
        })
        .collect();
    Some(parts.join("; "))
}

/// What the scope (`schemas`, `ignore`) left out, on either side: one line, so that a pattern
/// that matches more than meant is seen.
pub fn ignored_note(from: &Model, to: &Model) {
    let names: std::collections::BTreeSet<&str> = from
        .ignored
        .iter()
        .chain(&to.ignored)
        .map(String::as_str)
        .collect();
    if names.is_empty() {
        return;
    }
    let shown: Vec<&str> = names.iter().take(8).copied().collect();
    let more = match names.len() {
        n if n > 8 => format!(", and {} more", n - 8),
        _ => String::new(),
    };
    note(&format!(
        "left alone by the scope (schemas / ignore), on both sides: {}{more}",
        shown.join(", ")
    ));
}

/// The definition of one top-level object in a model, as DDL text ("" when absent).
fn definition(model: &Model, id: &ObjectId) -> String {
    let name = id.to_string();
    match id.kind {
        Kind::Schema => model
            .schemas
            .values()
            .find(|s| quote_ident(&s.name) == name)
            .map(ddl::schema_definition),
        Kind::Extension => model
            .extensions
            .values()
            .find(|e| quote_ident(&e.name) == name)
            .map(ddl::create_extension),
        Kind::Type => model
            .enums
            .values()
            .find(|e| e.name.to_string() == name)
            .map(ddl::enum_definition)
            .or_else(|| {
                model
                    .composites
                    .values()
                    .find(|c| c.name.to_string() == name)
                    .map(ddl::composites::definition)
            })
            .or_else(|| {
                model
                    .ranges
                    .values()
                    .find(|r| r.name.to_string() == name)
                    .map(ddl::ranges::definition)
            }),
        Kind::Collation => model
            .collations
            .values()
            .find(|c| c.name.to_string() == name)
            .map(ddl::collations::definition),
        Kind::Domain => model
            .domains
            .values()
            .find(|d| d.name.to_string() == name)
            .map(ddl::domains::definition),
        Kind::Sequence => model
            .sequences
            .values()
            .find(|s| s.name.to_string() == name)
            .map(ddl::sequence_definition),
        // A column grouped as a table (see `ObjectId::group`) has no text of its own.
        Kind::Table if id.member.is_some() => None,
        Kind::Table => model
            .tables
            .values()
            .find(|t| t.name.to_string() == name)
            .map(|t| {
                // Row-level security flags belong to the table's text too, so that a change
                // of them shows in the definition diff.
                let mut text = ddl::table_definition(t);
                let rls = model.row_security.get(&t.name).copied().unwrap_or_default();
                if rls.enabled {
                    text.push('\n');
                    text.push_str(&ddl::policies::set_enabled(&t.name, true));
                }
                if rls.forced {
                    text.push('\n');
                    text.push_str(&ddl::policies::set_forced(&t.name, true));
                }
                text
            }),
        Kind::View | Kind::MaterializedView => model.views.get(&name).map(ddl::views::definition),
        Kind::Function | Kind::Procedure => {
            model.routines.get(&name).map(ddl::routines::definition)
        }
        Kind::Aggregate => model.aggregates.get(&name).map(ddl::aggregates::definition),
        Kind::Trigger => model.triggers.get(&name).map(ddl::triggers::definition),
        Kind::Policy => model.policies.get(&name).map(ddl::policies::definition),
        Kind::EventTrigger => model
            .event_triggers
            .get(&id.name)
            .map(ddl::event_triggers::definition),
        // Shown by the change summaries alone; columns, constraints and indexes are grouped
        // under a table.
        Kind::DefaultPrivileges | Kind::Column | Kind::Constraint | Kind::Index => None,
    }
    .map(|text| format!("{text}\n"))
    .unwrap_or_default()
}

/// One top-level object that differs: what happens to it, the changes, and the unified
/// diff of its definition. Shared by every output format, so that they all tell the same.
pub struct DiffObject<'a> {
    pub key: ObjectId,
    /// `create`, `alter` or `drop`.
    pub verb: &'static str,
    pub changes: Vec<&'a Change>,
    /// Unified diff from the live definition to the desired one ("" when neither has text).
    pub diff: String,
}

/// Where objects of a kind come in `zdm diff`: what others build on first, default
/// privileges last; within a kind, by name.
fn shown_order(kind: Kind) -> u8 {
    match kind {
        Kind::Schema => 0,
        Kind::Extension => 1,
        Kind::Collation => 2,
        Kind::Type => 3,
        Kind::Domain => 4,
        Kind::Sequence => 5,
        Kind::Table | Kind::Column | Kind::Constraint | Kind::Index => 6,
        Kind::View => 7,
        Kind::MaterializedView => 8,
        Kind::Function => 9,
        Kind::Procedure => 10,
        Kind::Aggregate => 11,
        Kind::Trigger => 12,
        Kind::Policy => 13,
        Kind::DefaultPrivileges => 14,
        Kind::EventTrigger => 15,
    }
}

pub fn diff_objects<'a>(from: &Model, to: &Model, changes: &'a [Change]) -> Vec<DiffObject<'a>> {
    let mut groups: BTreeMap<(u8, String, ObjectId), Vec<&Change>> = BTreeMap::new();
    for change in changes {
        let id = change.object();
        groups
            .entry((shown_order(id.kind), id.to_string(), id))
            .or_default()
            .push(change);
    }
    groups
        .into_iter()
        .map(|((_, _, key), changes)| {
            let old = definition(from, &key);
            let new = definition(to, &key);
            let verb = match (old.is_empty(), new.is_empty()) {
                (true, false) => "create",
                (false, true) => "drop",
                _ => "alter",
            };
            let diff = TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header("live", "desired")
                .to_string();
            DiffObject {
                key,
                verb,
                changes,
                diff,
            }
        })
        .collect()
}

/// `N object(s) differ: ...` with the counts per verb.
pub fn diff_summary(objects: &[DiffObject]) -> String {
    let count = |verb: &str| objects.iter().filter(|o| o.verb == verb).count();
    format!(
        "{} object(s) differ: {} to create, {} to alter, {} to drop",
        objects.len(),
        count("create"),
        count("alter"),
        count("drop")
    )
}

pub fn diff_human(from: &Model, to: &Model, changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no differences\n".to_string();
    }
    let objects = diff_objects(from, to, changes);
    let mut out = String::new();
    for object in &objects {
        let sign = match object.verb {
            "create" => "+",
            "drop" => "-",
            _ => "~",
        };
        let header = format!("{sign} {} {}", object.verb, object.key.label());
        out.push_str(&format!(
            "{}\n",
            header.if_supports_color(Stream::Stdout, |t| t.bold())
        ));
        for change in &object.changes {
            out.push_str(&format!("    {}\n", change.summary()));
        }
        for line in object.diff.lines() {
            let coloured = if line.starts_with('+') && !line.starts_with("+++") {
                line.if_supports_color(Stream::Stdout, |t| t.green())
                    .to_string()
            } else if line.starts_with('-') && !line.starts_with("---") {
                line.if_supports_color(Stream::Stdout, |t| t.red())
                    .to_string()
            } else if line.starts_with("@@") {
                line.if_supports_color(Stream::Stdout, |t| t.cyan())
                    .to_string()
            } else {
                line.to_string()
            };
            out.push_str(&format!("    {coloured}\n"));
        }
        out.push('\n');
    }
    out.push_str(&diff_summary(&objects));
    out.push('\n');
    out
}

pub fn step_facts(step: &Step) -> String {
    let mut facts = vec![match &step.lock_target {
        Some(target) => format!("{} on {target}", step.lock),
        None => step.lock.to_string(),
    }];
    match step.table_work {
        TableWork::None => {}
        TableWork::Scan => facts.push("scans the table".into()),
        TableWork::Rewrite => facts.push("rewrites the table".into()),
    }
    if !step.transactional {
        facts.push("outside a transaction".into());
    }
    if step.backfill.is_some() {
        facts.push("in batches".into());
    }
    facts.join(", ")
}

pub fn steps_human(steps: &[Step]) -> String {
    let mut out = String::new();
    let mut phase = None;
    for (i, step) in steps.iter().enumerate() {
        if phase != Some(step.phase) {
            phase = Some(step.phase);
            out.push_str(&format!(
                "{}\n",
                format!("== {} ==", step.phase).if_supports_color(Stream::Stdout, |t| t.bold())
            ));
        }
        out.push_str(&format!(
            "{:>3}. {}  [{}]\n",
            i + 1,
            step.description,
            step_facts(step).if_supports_color(Stream::Stdout, |t| t.dimmed())
        ));
        for line in step.sql.lines() {
            out.push_str(&format!("       {line}\n"));
        }
        for hazard in &step.hazards {
            out.push_str(&format!(
                "       {} {}\n",
                format!("hazard {}:", hazard.kind)
                    .if_supports_color(Stream::Stdout, |t| t.yellow()),
                hazard.message
            ));
        }
    }
    out
}

pub fn plan_human(plan: &Plan) -> String {
    if plan.is_empty() {
        return "nothing to do: the database matches the desired schema\n".to_string();
    }
    let mut out = steps_human(&plan.steps);
    out.push_str(&format!("\n{}\n", plan_summary(plan)));
    out
}

/// `N step(s): a expand, b backfill, c validate, d contract; h hazard(s)`.
pub fn plan_summary(plan: &Plan) -> String {
    let counts: Vec<String> = Phase::ALL
        .iter()
        .map(|p| format!("{} {p}", plan.steps_in(*p).count()))
        .collect();
    format!(
        "{} step(s): {}; {} hazard(s)",
        plan.steps.len(),
        counts.join(", "),
        plan.hazards().count()
    )
}

/// A script a person could run by hand with psql.
pub fn plan_sql(plan: &Plan, lock_timeout_ms: u64) -> String {
    let mut out = String::from("-- zdm plan\n");
    out.push_str(&format!(
        "-- made against schema {}\n\\set ON_ERROR_STOP on\nSET application_name = 'zdm';\n",
        &plan.source_fingerprint[..16]
    ));
    let mut phase = None;
    for step in &plan.steps {
        if phase != Some(step.phase) {
            phase = Some(step.phase);
            out.push_str(&format!("\n-- ===== phase: {} =====\n", step.phase));
        }
        out.push_str(&format!(
            "\n-- {} [{}]\n",
            step.description,
            step_facts(step)
        ));
        for hazard in &step.hazards {
            out.push_str(&format!("-- HAZARD {}: {}\n", hazard.kind, hazard.message));
        }
        if let Some(backfill) = &step.backfill {
            out.push_str(&format!(
                "-- in batches of 1000 rows on ({}), each committed on its own\n",
                backfill.key.join(", ")
            ));
            out.push_str(&crate::apply::script::backfill_do_block(
                backfill,
                1000,
                lock_timeout_ms,
            ));
        } else if step.transactional {
            out.push_str(&format!(
                "BEGIN;\nSET LOCAL lock_timeout = '{lock_timeout_ms}ms';\n{}\nCOMMIT;\n",
                step.sql
            ));
        } else {
            out.push_str(&format!("SET lock_timeout = 0;\n{}\n", step.sql));
        }
    }
    out
}

pub fn phase_list(phases: &[Phase]) -> String {
    phases
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `zdm dump` did to the output directory.
pub fn dump_report(out: &std::path::Path, report: &crate::dump::WriteReport) -> String {
    let mut text = String::new();
    for (sign, paths) in [
        ("+", &report.created),
        ("~", &report.updated),
        ("-", &report.removed),
    ] {
        for path in paths {
            text.push_str(&format!("{sign} {}\n", out.join(path).display()));
        }
    }
    for path in &report.foreign {
        text.push_str(&format!(
            "  {} left alone (not written by zdm dump; its objects may now be declared twice)\n",
            out.join(path).display()
        ));
    }
    text.push_str(&format!(
        "{}: {} created, {} updated, {} removed, {} unchanged\n",
        out.display(),
        report.created.len(),
        report.updated.len(),
        report.removed.len(),
        report.unchanged.len()
    ));
    text
}
