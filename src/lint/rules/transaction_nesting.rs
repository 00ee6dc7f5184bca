//! `transaction-nesting`: BEGIN inside a transaction.

use super::{Context, Held, Hit, Rule};
use crate::lint::summary::StatementKind;

pub const RULE: Rule = Rule {
    id: "transaction-nesting",
    title: "BEGIN inside a transaction",
    why: "A BEGIN inside an open transaction (yours, or the one your migration tool wraps each file in with --assume-in-transaction) is ignored with a warning, and its COMMIT ends the outer transaction early.",
    instead: "one transaction per file, or none when the tool wraps the file",
    bad: "BEGIN;\nBEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;",
    good: "BEGIN;\nALTER TABLE users ADD COLUMN nickname text;\nCOMMIT;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    if !matches!(cx.statement.kind, StatementKind::Begin) || !cx.state.in_transaction {
        return None;
    }
    Some(Hit {
        message: "BEGIN inside a transaction that is already open".to_string(),
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
