//! `update-whole-table`: UPDATE or DELETE of every row in one statement.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "update-whole-table",
    title: "UPDATE or DELETE of every row in one statement",
    why: "One statement over the whole table locks every row it touches until the transaction ends, and bloats the table; concurrent writers of those rows wait.",
    instead: "batches of 1,000-10,000 rows by primary key, each in its own short transaction (zdm's backfill phase)",
    bad: "UPDATE users SET display_name = concat(first_name, ' ', last_name);",
    good: "UPDATE users SET display_name = concat(first_name, ' ', last_name) WHERE id BETWEEN 1 AND 1000;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::WholeTableWrite) || cx.is_new_table() {
        return None;
    }
    Some(Hit {
        message: format!("every row of {} is written in one statement", cx.table()),
        lock: Some(LockMode::RowExclusive),
        held: Held::UntilCommit,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
