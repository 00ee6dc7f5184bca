//! `zdm lint FILE_OR_DIR...`: findings at file:line:col, exit 0 none / 1 findings / 2 error.

use owo_colors::{OwoColorize, Stream};

use super::args::{LintArgs, LintFormat};
use super::render::github;
use super::{EXIT_CLEAN, EXIT_DIFFERENCES};
use crate::lint::{rules, Finding, Options};
use crate::source::SourceSet;

pub async fn run(args: LintArgs) -> anyhow::Result<u8> {
    if let Some(id) = &args.explain {
        let rule = rules::find(id)
            .ok_or_else(|| anyhow::anyhow!("no rule `{id}` (zdm lint --explain list)"))?;
        print!("{}", explain(rule));
        return Ok(EXIT_CLEAN);
    }
    if let Some(migration) = &args.rewrite {
        return super::lint_rewrite::run(&args, migration).await;
    }
    if args.format == LintFormat::Sql {
        anyhow::bail!("--format sql is for --rewrite (the plan as a psql script)");
    }
    let sources = SourceSet::read(&args.paths)?;
    let options = Options {
        style: args.style,
        assume_in_transaction: args.assume_in_transaction,
    };
    let facts = match &args.db {
        Some(url) => {
            let target = crate::connect::ConnectionTarget::parse(Some(url))?;
            let client = target.connect().await?;
            let statements: Vec<_> = crate::lint::summaries(&sources)?.concat();
            Some(crate::lint::db::gather(&client, &statements).await?)
        }
        None => None,
    };
    let findings = crate::lint::lint(&sources, &options, facts.as_ref())?;
    match args.format {
        LintFormat::Json => println!("{}", serde_json::to_string_pretty(&findings)?),
        LintFormat::Github => findings
            .iter()
            .filter(|f| f.ignored.is_none())
            .for_each(|f| println!("{}", github(f))),
        LintFormat::Human | LintFormat::Sql => print!("{}", human(&findings)),
    }
    Ok(if findings.iter().any(|f| f.ignored.is_none()) {
        EXIT_DIFFERENCES
    } else {
        EXIT_CLEAN
    })
}

fn lock_text(f: &Finding) -> String {
    match f.lock {
        Some(lock) => format!("takes {} {}", lock.as_str(), f.held.describe()),
        None => String::new(),
    }
}

fn human(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings.iter().filter(|f| f.ignored.is_none()) {
        out.push_str(&format!(
            "{}: {} [{}]\n",
            f.location,
            f.message,
            f.rule.if_supports_color(Stream::Stdout, |t| t.yellow())
        ));
        let lock = lock_text(f);
        if !lock.is_empty() {
            out.push_str(&format!("  lock: {lock}\n"));
        }
        out.push_str(&format!("  instead: {}\n", f.instead));
    }
    let shown = findings.iter().filter(|f| f.ignored.is_none()).count();
    let ignored = findings.len() - shown;
    out.push_str(&format!("{shown} finding(s), {ignored} ignored\n"));
    out
}

/// GitHub Actions workflow commands: one annotation per finding.
fn github(f: &Finding) -> String {
    let lock = lock_text(f);
    let detail = if lock.is_empty() {
        format!("{}. Instead: {}", f.message, f.instead)
    } else {
        format!("{}; {lock}. Instead: {}", f.message, f.instead)
    };
    let at = github::Position {
        file: f.file.clone(),
        line: Some(f.line),
        column: Some(f.column),
    };
    github::command("error", Some(&at), &format!("zdm lint {}", f.rule), &detail)
}

fn explain(rule: &rules::Rule) -> String {
    format!(
        "{} — {}{}\n\nwhy: {}\n\ninstead: {}\n\nbad:\n{}\n\ngood:\n{}\n",
        rule.id,
        rule.title,
        if rule.style {
            " (style rule: --style)"
        } else {
            ""
        },
        rule.why,
        rule.instead,
        indent(rule.bad),
        indent(rule.good)
    )
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
