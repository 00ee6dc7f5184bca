//! `cluster`: CLUSTER.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::{LockMode, StatementKind};

pub const RULE: Rule = Rule {
    id: "cluster",
    title: "CLUSTER",
    why: "CLUSTER rewrites the whole table in index order under ACCESS EXCLUSIVE: no reads or writes until it ends.",
    instead: "pg_repack --order-by to reorder a table online",
    bad: "CLUSTER orders USING orders_pkey;",
    good: "ANALYZE orders;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::Cluster) {
        return None;
    }
    Some(Hit {
        message: format!("CLUSTER rewrites {} under ACCESS EXCLUSIVE", cx.table()),
        lock: Some(LockMode::AccessExclusive),
        held: Held::Rewrite,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
