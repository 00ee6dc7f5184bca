//! `require-concurrent-index-deletion`: DROP INDEX without CONCURRENTLY.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "require-concurrent-index-deletion",
    title: "DROP INDEX without CONCURRENTLY",
    why: "A plain DROP INDEX takes ACCESS EXCLUSIVE on the index's table: while it waits for running queries, every new query on the table queues behind it.",
    instead: "DROP INDEX CONCURRENTLY, outside any transaction",
    bad: "DROP INDEX idx_orders_customer;",
    good: "DROP INDEX CONCURRENTLY IF EXISTS idx_orders_customer;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let StatementKind::DropIndex {
        concurrently: false,
        ..
    } = &cx.statement.kind
    else {
        return None;
    };
    Some(Hit {
        message: format!(
            "DROP INDEX {} without CONCURRENTLY locks its table against all access",
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
