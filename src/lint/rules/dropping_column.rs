//! `dropping-column`: DROP COLUMN before the application stopped using it.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{AlterAction, LockMode};

pub const RULE: Rule = Rule {
    id: "dropping-column",
    title: "DROP COLUMN before the application stopped using it",
    why: "Its values are gone for good, and the running application fails on every query that names the column; a rollback of the application no longer works.",
    instead: "drop in a contract step after the rollback window, once no query uses the column (zdm checks pg_stat_statements); mark the section with -- zdm:phase contract",
    bad: "ALTER TABLE users DROP COLUMN legacy_field;",
    good: "-- zdm:phase contract\nALTER TABLE users DROP COLUMN legacy_field;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.state.in_contract || cx.is_new_table() {
        return None;
    }
    let column = cx.alter_actions().iter().find_map(|a| match a {
        AlterAction::DropColumn { column } => Some(column.clone()),
        _ => None,
    })?;
    Some(Hit {
        message: format!("dropping {}.{column} deletes its values and breaks the application that still reads it", cx.table()),
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
