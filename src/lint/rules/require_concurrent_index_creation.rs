//! `require-concurrent-index-creation`: CREATE INDEX without CONCURRENTLY.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "require-concurrent-index-creation",
    title: "CREATE INDEX without CONCURRENTLY",
    why: "A plain CREATE INDEX holds a SHARE lock on the table while it builds: every INSERT, UPDATE and DELETE waits until the build ends, minutes on a large table.",
    instead: "CREATE INDEX CONCURRENTLY, outside any transaction (a failed build leaves an INVALID index: drop it concurrently and retry)",
    bad: "CREATE INDEX idx_orders_customer ON orders (customer_id);",
    good: "CREATE INDEX CONCURRENTLY idx_orders_customer ON orders (customer_id);",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let StatementKind::CreateIndex {
        concurrently: false,
        ..
    } = &cx.statement.kind
    else {
        return None;
    };
    if cx.is_new_table() || cx.small_table() {
        return None;
    }
    Some(Hit {
        message: format!(
            "CREATE INDEX on {} without CONCURRENTLY blocks writes to it",
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
