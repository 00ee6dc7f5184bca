//! `enum-value-used-in-transaction`: a new enum value used in the transaction that added it.

use super::{Context, Held, Hit, Rule};

pub const RULE: Rule = Rule {
    id: "enum-value-used-in-transaction",
    title: "a new enum value used in the transaction that added it",
    why: "A value added with ALTER TYPE ... ADD VALUE cannot be used until the transaction that added it commits: the statement fails (unsafe use of new value).",
    instead: "add the value in its own transaction (or migration), use it in a later one",
    bad: "BEGIN;\nALTER TYPE status ADD VALUE 'archived';\nUPDATE orders SET status = 'archived' WHERE id = 1;\nCOMMIT;",
    good: "ALTER TYPE status ADD VALUE 'archived';\nUPDATE orders SET status = 'archived' WHERE id = 1;",
    style: false,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let (type_name, value) = cx
        .state
        .enum_values_in_transaction
        .iter()
        .find(|(_, v)| cx.statement.literals.iter().any(|l| l == v))?;
    Some(Hit {
        message: format!("enum value '{value}' of {type_name} is used before the transaction that added it commits"),
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
