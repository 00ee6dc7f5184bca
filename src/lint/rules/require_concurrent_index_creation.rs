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
        only,
        ..
    } = &cx.statement.kind
    else {
        return None;
    };
    // `ON ONLY` builds nothing (PostgreSQL refuses CONCURRENTLY there): the partitions'
    // indexes are built on their own and attached.
    if *only || cx.is_new_table() || cx.small_table() {
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

    #[test]
    fn an_index_on_only_a_partitioned_parent_or_on_a_new_materialized_view_is_fine() {
        super::super::test_support::assert_clean(
            &super::RULE,
            "CREATE INDEX events_payload ON ONLY events USING gin (payload);",
        );
        super::super::test_support::assert_clean(
            &super::RULE,
            "CREATE MATERIALIZED VIEW mv AS SELECT id FROM t;\nCREATE UNIQUE INDEX mv_id ON mv (id);",
        );
    }
}
