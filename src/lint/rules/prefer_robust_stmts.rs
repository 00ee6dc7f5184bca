//! `prefer-robust-stmts`: statements that cannot be re-run outside a transaction.

use super::{style_hit, Context, Hit, Rule};
use crate::lint::summary::StatementKind;

pub const RULE: Rule = Rule {
    id: "prefer-robust-stmts",
    title: "statements that cannot be re-run outside a transaction",
    why: "Outside a transaction a migration that fails half way is left half applied; CREATE without IF NOT EXISTS and DROP without IF EXISTS then fail on the re-run.",
    instead: "IF NOT EXISTS / IF EXISTS, or one transaction around the file",
    bad: "CREATE INDEX CONCURRENTLY idx_orders_customer ON orders (customer_id);",
    good: "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_orders_customer ON orders (customer_id);",
    style: true,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if cx.state.in_transaction {
        return None;
    }
    let fragile = matches!(
        cx.statement.kind,
        StatementKind::CreateIndex {
            if_not_exists: false,
            ..
        } | StatementKind::DropIndex {
            if_exists: false,
            ..
        } | StatementKind::CreateTable {
            if_not_exists: false,
            ..
        }
    );
    if !fragile {
        return None;
    }
    Some(style_hit(
        "this statement fails when the migration is re-run after a partial failure".to_string(),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
