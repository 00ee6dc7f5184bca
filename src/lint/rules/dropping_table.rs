//! `dropping-table`: DROP TABLE before the application stopped using it.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "dropping-table",
    title: "DROP TABLE before the application stopped using it",
    why: "Its rows are gone for good and every query on it fails; a rollback of the application no longer works.",
    instead: "drop in a contract step after the rollback window, once no query uses the table; mark the section with -- zdm:phase contract",
    bad: "DROP TABLE legacy_events;",
    good: "-- zdm:phase contract\nDROP TABLE legacy_events;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::DropTable)
        || cx.state.in_contract
        || cx.is_new_table()
    {
        return None;
    }
    Some(Hit {
        message: format!(
            "dropping {} deletes its rows and breaks the application that still uses it",
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
