//! `ban-char-field`: char(n) columns.

use super::{style_hit, Context, Hit, Rule};

pub const RULE: Rule = Rule {
    id: "ban-char-field",
    title: "char(n) columns",
    why: "char(n) pads values with blanks, compares and casts surprisingly, and is no faster than text.",
    instead: "text (with a CHECK on the length if it matters)",
    bad: "CREATE TABLE countries (code char(2));",
    good: "CREATE TABLE countries (code text CHECK (length(code) = 2));",
    style: true,
    check,
};

fn check(cx: &Context) -> Option<Hit> {
    let column = cx.new_columns().into_iter().find(|c| {
        c.type_name
            .as_ref()
            .is_some_and(|t| t.name == "bpchar" || t.name == "char")
    })?;
    Some(style_hit(format!("column {} is char(n)", column.name)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn bad_example_found_good_example_not() {
        super::super::test_support::check_examples(&super::RULE);
    }
}
