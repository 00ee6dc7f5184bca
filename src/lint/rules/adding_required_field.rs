//! `adding-required-field`: ADD COLUMN ... NOT NULL without a default.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::LockMode;

pub const RULE: Rule = Rule {
    id: "adding-required-field",
    title: "ADD COLUMN ... NOT NULL without a default",
    why: "A NOT NULL column without a default cannot be added to a table with rows: the statement fails, and the old application, which does not set the column, would fail on every INSERT.",
    instead: "add the column nullable (or with a constant default), backfill it in batches, then add NOT NULL through a validated CHECK (c IS NOT NULL)",
    bad: "ALTER TABLE users ADD COLUMN org_id bigint NOT NULL;",
    good: "ALTER TABLE users ADD COLUMN org_id bigint;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.is_new_table() || cx.empty_table() {
        return None;
    }
    let column = cx
        .added_columns()
        .into_iter()
        .find(|c| c.not_null && c.default.is_none() && !c.identity && !c.generated_stored)?;
    Some(Hit {
        message: format!(
            "column {} of {} is NOT NULL without a default: fails on a table with rows and breaks the old application's INSERTs",
            column.name,
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
