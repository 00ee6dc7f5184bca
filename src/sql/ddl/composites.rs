//! DDL of composite types and their attributes.

use super::comment_on;
use crate::model::{Attribute, CompositeType};
use crate::sql::quote_ident;

/// `name type [COLLATE c]`, as `CREATE TYPE ... AS (...)` and `ADD ATTRIBUTE` spell it.
fn attribute_definition(attribute: &Attribute) -> String {
    let mut text = format!("{} {}", quote_ident(&attribute.name), attribute.data_type);
    if let Some(collation) = &attribute.collation {
        text.push_str(&format!(" COLLATE {collation}"));
    }
    text
}

pub fn create(composite: &CompositeType) -> String {
    let attributes: Vec<String> = composite
        .attributes
        .iter()
        .map(attribute_definition)
        .collect();
    if attributes.is_empty() {
        return format!("CREATE TYPE {} AS ();", composite.name);
    }
    format!(
        "CREATE TYPE {} AS (\n    {}\n);",
        composite.name,
        attributes.join(",\n    ")
    )
}

pub fn drop(composite: &CompositeType) -> String {
    format!("DROP TYPE {};", composite.name)
}

/// `ALTER TYPE ... ADD ATTRIBUTE` (`CASCADE` also adds it to the typed tables of the type).
pub fn add_attribute(composite: &CompositeType, attribute: &Attribute) -> String {
    format!(
        "ALTER TYPE {} ADD ATTRIBUTE {} CASCADE;",
        composite.name,
        attribute_definition(attribute)
    )
}

pub fn drop_attribute(composite: &CompositeType, attribute: &str) -> String {
    format!(
        "ALTER TYPE {} DROP ATTRIBUTE {} CASCADE;",
        composite.name,
        quote_ident(attribute)
    )
}

pub fn alter_attribute_type(composite: &CompositeType, attribute: &Attribute) -> String {
    let collation = attribute
        .collation
        .as_ref()
        .map(|c| format!(" COLLATE {c}"))
        .unwrap_or_default();
    format!(
        "ALTER TYPE {} ALTER ATTRIBUTE {} TYPE {}{collation} CASCADE;",
        composite.name,
        quote_ident(&attribute.name),
        attribute.data_type
    )
}

pub fn comment(composite: &CompositeType) -> String {
    comment_on(
        &format!("TYPE {}", composite.name),
        composite.comment.as_deref(),
    )
}

pub fn attribute_comment(composite: &CompositeType, attribute: &Attribute) -> String {
    comment_on(
        &format!("COLUMN {}.{}", composite.name, quote_ident(&attribute.name)),
        attribute.comment.as_deref(),
    )
}

/// The comments of a new type: its own and its attributes'.
pub fn comments(composite: &CompositeType) -> Vec<String> {
    let mut out = Vec::new();
    if composite.comment.is_some() {
        out.push(comment(composite));
    }
    out.extend(
        composite
            .attributes
            .iter()
            .filter(|a| a.comment.is_some())
            .map(|a| attribute_comment(composite, a)),
    );
    out
}

/// Everything about the type, as one text (what `zdm diff` and `zdm dump` show).
pub fn definition(composite: &CompositeType) -> String {
    let mut lines = vec![create(composite)];
    lines.extend(comments(composite));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::QualifiedName;

    #[test]
    fn a_composite_type_with_a_collated_attribute() {
        let composite = CompositeType {
            name: QualifiedName::new("public", "Pair"),
            attributes: vec![
                Attribute {
                    name: "select".into(),
                    data_type: "integer".into(),
                    collation: None,
                    comment: None,
                },
                Attribute {
                    name: "label".into(),
                    data_type: "text".into(),
                    collation: Some("\"C\"".into()),
                    comment: Some("it's".into()),
                },
            ],
            comment: None,
        };
        assert_eq!(
            definition(&composite),
            "CREATE TYPE public.\"Pair\" AS (\n    \"select\" integer,\n    label text COLLATE \"C\"\n);\n\
             COMMENT ON COLUMN public.\"Pair\".label IS 'it''s';"
        );
    }
}
