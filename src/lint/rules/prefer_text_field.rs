//! `prefer-text-field`: varchar(n) columns (prefer text).

use super::{style_hit, Context, Hit, Rule};

pub const RULE: Rule = Rule {
    id: "prefer-text-field",
    title: "varchar(n) columns (prefer text)",
    why: "A length limit in the type can only be raised cheaply, and lowering it rewrites; a CHECK (length(c) <= n) can be changed with NOT VALID and VALIDATE without a rewrite.",
    instead: "text with CHECK (length(c) <= n)",
    bad: "CREATE TABLE users (name varchar(100));",
    good: "CREATE TABLE users (name text CHECK (length(name) <= 100));",
    style: true,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let column = cx.new_columns().into_iter().find(|c| {
        c.type_name
            .as_ref()
            .is_some_and(|t| t.name == "varchar" && !t.modifiers.is_empty())
    })?;
    Some(style_hit(format!(
        "column {} is varchar with a length",
        column.name
    )))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
