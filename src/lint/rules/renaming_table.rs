//! `renaming-table`: RENAME a table in one step.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "renaming-table",
    title: "RENAME a table in one step",
    why: "The running application still uses the old name: every query on the table fails from the moment the rename commits.",
    instead: "expand/contract: a new table kept in sync (or an updatable view under the old name) until the application moved, then drop the old one in contract (zdm: -- zdm:renamed-from)",
    bad: "ALTER TABLE users RENAME TO accounts;",
    good: "CREATE TABLE accounts (id bigint);",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::RenameTable) || cx.is_new_table() {
        return None;
    }
    Some(Hit {
        message: format!(
            "renaming {} breaks the application that still uses the old name",
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
