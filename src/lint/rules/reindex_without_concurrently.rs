//! `reindex-without-concurrently`: REINDEX without CONCURRENTLY.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "reindex-without-concurrently",
    title: "REINDEX without CONCURRENTLY",
    why: "A plain REINDEX blocks writes to the table (and reads that use the index) while it rebuilds.",
    instead: "REINDEX ... CONCURRENTLY (PostgreSQL 12+), outside any transaction",
    bad: "REINDEX INDEX idx_orders_customer;",
    good: "REINDEX INDEX CONCURRENTLY idx_orders_customer;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(
        cx.statement.kind,
        StatementKind::Reindex {
            concurrently: false
        }
    ) {
        return None;
    }
    Some(Hit {
        message: format!(
            "REINDEX {} without CONCURRENTLY blocks writes while it rebuilds",
            cx.table()
        ),
        lock: Some(LockMode::Share),
        held: Held::IndexBuild,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
