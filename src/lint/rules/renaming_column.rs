//! `renaming-column`: RENAME COLUMN in one step.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "renaming-column",
    title: "RENAME COLUMN in one step",
    why: "The running application still uses the old name: every query that names it fails from the moment the rename commits.",
    instead: "expand/contract: add the new column, keep both in sync with a trigger, backfill, move the application, drop the old column in contract (zdm: -- zdm:renamed-from)",
    bad: "ALTER TABLE users RENAME COLUMN email TO email_address;",
    good: "ALTER TABLE users ADD COLUMN email_address text;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::RenameColumn) || cx.is_new_table() {
        return None;
    }
    Some(Hit {
        message: format!(
            "renaming a column of {} breaks the application that still uses the old name",
            cx.table()
        ),
        lock: Some(LockMode::AccessExclusive),
        held: Held::Briefly,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
