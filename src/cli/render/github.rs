//! GitHub Actions workflow commands (`::warning ...::message`), which the runner turns into
//! annotations on the pull request: `zdm lint`, `zdm plan` and `zdm diff --format github`.

use std::path::{Path, PathBuf};

use super::{diff_objects, diff_summary, plan_summary};
use crate::diff::Change;
use crate::model::Model;
use crate::parse::{DesiredSchema, ObjectName};
use crate::plan::{Plan, Step};
use crate::sql::quote_ident;

/// A command's message, escaped as the runner expects: it would otherwise cut the message at
/// a line break, and read `%` as the start of an escape.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`file=`, `title=`): besides the message's escapes, `:` would end the
/// properties and `,` start the next one.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Where an annotation points: a file and, when known, a line in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

/// `::{level} file=..,line=..,col=..,title=..::{message}`, every part escaped.
pub fn command(level: &str, at: Option<&Position>, title: &str, message: &str) -> String {
    let mut properties = Vec::new();
    if let Some(at) = at {
        properties.push(format!("file={}", escape_property(&at.file)));
        if let Some(line) = at.line {
            properties.push(format!("line={line}"));
        }
        if let Some(column) = at.column {
            properties.push(format!("col={column}"));
        }
    }
    properties.push(format!("title={}", escape_property(title)));
    format!(
        "::{level} {}::{}",
        properties.join(","),
        escape_data(message)
    )
}

/// Finds the statement of the desired schema files that defines an object, so that an
/// annotation lands on its line. Steps and changes carry no source position of their own.
pub struct Locator<'a> {
    desired: Option<&'a DesiredSchema>,
    /// GitHub resolves `file=` against the repository root, where the workflow runs: paths
    /// under the working directory are made relative to it.
    cwd: Option<PathBuf>,
}

impl<'a> Locator<'a> {
    pub fn new(desired: Option<&'a DesiredSchema>) -> Self {
        Locator {
            desired,
            cwd: std::env::current_dir().ok(),
        }
    }

    /// The first statement that provides the object named `name` (as zdm prints it: a
    /// qualified relation, type or routine name, or a quoted schema or extension name).
    pub fn object(&self, name: &str) -> Option<Position> {
        let desired = self.desired?;
        let statement = desired
            .statements
            .iter()
            .find(|s| s.provides.iter().any(|p| display(p) == name))?;
        let location = desired.sources.location(statement.span);
        Some(Position {
            file: self.relative(&location.path),
            line: Some(location.line),
            column: None,
        })
    }

    /// A step is placed at the table (or other object) whose lock it takes, the first one
    /// when it locks several (`public.orders, public.orgs` for a foreign key).
    pub fn step(&self, step: &Step) -> Option<Position> {
        let target = step.lock_target.as_deref()?;
        self.object(target.split(", ").next()?)
    }

    fn relative(&self, path: &Path) -> String {
        let relative = self
            .cwd
            .as_deref()
            .and_then(|cwd| path.strip_prefix(cwd).ok())
            .unwrap_or(path);
        relative.display().to_string()
    }
}

fn display(name: &ObjectName) -> String {
    match name {
        ObjectName::Relation(q) | ObjectName::Type(q) | ObjectName::Function(q) => q.to_string(),
        ObjectName::Schema(s) | ObjectName::Extension(s) => quote_ident(s),
    }
}

/// One warning per hazard, then a notice with the counts.
pub fn plan(plan: &Plan, locator: &Locator) -> String {
    if plan.is_empty() {
        return format!(
            "{}\n",
            command(
                "notice",
                None,
                "zdm plan",
                "nothing to do: the database matches the desired schema"
            )
        );
    }
    let mut out = String::new();
    for (step, hazard) in plan.hazards() {
        let title = format!("zdm hazard {}", hazard.kind);
        let message = format!("{}: {}", step.description, hazard.message);
        let at = locator.step(step);
        out.push_str(&command("warning", at.as_ref(), &title, &message));
        out.push('\n');
    }
    out.push_str(&command("notice", None, "zdm plan", &plan_summary(plan)));
    out.push('\n');
    out
}

/// One notice per object that differs, then one with the counts.
pub fn diff(from: &Model, to: &Model, changes: &[Change], locator: &Locator) -> String {
    if changes.is_empty() {
        return format!(
            "{}\n",
            command("notice", None, "zdm diff", "no differences")
        );
    }
    let objects = diff_objects(from, to, changes);
    let mut out = String::new();
    for object in &objects {
        let title = format!("zdm diff {}", object.verb);
        let summaries: Vec<String> = object.changes.iter().map(|c| c.summary()).collect();
        let message = format!(
            "{} {}: {}",
            object.verb,
            object.key.label(),
            summaries.join("; ")
        );
        // A dropped object is in no desired file; the others point at their definition.
        let at = locator.object(&object.key.to_string());
        out.push_str(&command("notice", at.as_ref(), &title, &message));
        out.push('\n');
    }
    out.push_str(&command(
        "notice",
        None,
        "zdm diff",
        &diff_summary(&objects),
    ));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        let at = Position {
            file: "schema/a,b.sql".into(),
            line: Some(3),
            column: None,
        };
        assert_eq!(
            command("warning", Some(&at), "zdm: x", "one\ntwo: 5%"),
            "::warning file=schema/a%2Cb.sql,line=3,title=zdm%3A x::one%0Atwo: 5%25"
        );
        assert_eq!(command("notice", None, "t", "m"), "::notice title=t::m");
    }
}
