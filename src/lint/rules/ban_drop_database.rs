//! `ban-drop-database`: DROP DATABASE in a migration.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::StatementKind;

pub const RULE: Rule = Rule {
    id: "ban-drop-database",
    title: "DROP DATABASE in a migration",
    why: "A migration that drops a database deletes everything in it.",
    instead: "drop databases by hand, never from a migration",
    bad: "DROP DATABASE shop;",
    good: "DROP TABLE IF EXISTS scratch;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::DropDatabase) {
        return None;
    }
    Some(Hit {
        message: "DROP DATABASE deletes every table in it".to_string(),
        lock: None,
        held: Held::NotApplicable,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
