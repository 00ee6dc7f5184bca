//! `concurrently-in-transaction`: CONCURRENTLY inside a transaction.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::StatementKind;

pub const RULE: Rule = Rule {
    id: "concurrently-in-transaction",
    title: "CONCURRENTLY inside a transaction",
    why: "CREATE INDEX / DROP INDEX / REINDEX CONCURRENTLY cannot run inside a transaction block: the migration fails there.",
    instead: "run it on its own, outside BEGIN ... COMMIT (and tell the migration tool not to wrap the file in a transaction)",
    bad: "BEGIN;\nCREATE INDEX CONCURRENTLY idx_orders_customer ON orders (customer_id);\nCOMMIT;",
    good: "CREATE INDEX CONCURRENTLY idx_orders_customer ON orders (customer_id);",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let concurrent = matches!(
        cx.statement.kind,
        StatementKind::CreateIndex {
            concurrently: true,
            ..
        } | StatementKind::DropIndex {
            concurrently: true,
            ..
        } | StatementKind::Reindex { concurrently: true }
    );
    if !concurrent || !cx.state.in_transaction {
        return None;
    }
    Some(Hit {
        message: "CONCURRENTLY cannot run inside a transaction block: this statement fails"
            .to_string(),
        lock: None,
        held: Held::NotApplicable,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
