//! DDL of range types: `CREATE TYPE ... AS RANGE (...)`, and the statements that rebuild one
//! under the columns that store it.

use super::comment_on;
use crate::model::{QualifiedName, RangeType};
use crate::sql::quote_ident;

pub fn create(range: &RangeType) -> String {
    let mut options = vec![format!("subtype = {}", range.subtype)];
    if let Some(opclass) = &range.subtype_opclass {
        options.push(format!("subtype_opclass = {opclass}"));
    }
    if let Some(collation) = &range.collation {
        options.push(format!("collation = {collation}"));
    }
    if let Some(canonical) = &range.canonical {
        options.push(format!("canonical = {canonical}"));
    }
    if let Some(diff) = &range.subtype_diff {
        options.push(format!("subtype_diff = {diff}"));
    }
    if let Some(multirange) = &range.multirange {
        options.push(format!("multirange_type_name = {multirange}"));
    }
    format!(
        "CREATE TYPE {} AS RANGE ({});",
        range.name,
        options.join(", ")
    )
}

/// Drops the multirange type with it.
pub fn drop(range: &RangeType) -> String {
    format!("DROP TYPE {};", range.name)
}

pub fn comment(range: &RangeType) -> String {
    comment_on(&format!("TYPE {}", range.name), range.comment.as_deref())
}

pub fn definition(range: &RangeType) -> String {
    let mut lines = vec![create(range)];
    if range.comment.is_some() {
        lines.push(comment(range));
    }
    lines.join("\n")
}

/// A column converted to `data_type` through the text form (which the old and new
/// definitions share when the subtype is the same).
pub fn convert_column(table: &QualifiedName, column: &str, data_type: &str) -> String {
    let column = quote_ident(column);
    format!(
        "ALTER TABLE {table} ALTER COLUMN {column} TYPE {data_type} \
         USING {column}::text::{data_type};"
    )
}

pub fn drop_default(table: &QualifiedName, column: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT;",
        quote_ident(column)
    )
}

pub fn set_default(table: &QualifiedName, column: &str, default: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} SET DEFAULT {default};",
        quote_ident(column)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_option_and_hostile_names() {
        let range = RangeType {
            name: QualifiedName::new("public", "select"),
            subtype: "double precision".into(),
            subtype_opclass: None,
            collation: None,
            canonical: None,
            subtype_diff: Some("float8mi".into()),
            multirange: Some(QualifiedName::new("public", "ñ \"multi\"")),
            comment: Some("it's".into()),
        };
        assert_eq!(
            definition(&range),
            "CREATE TYPE public.\"select\" AS RANGE (subtype = double precision, \
             subtype_diff = float8mi, multirange_type_name = public.\"ñ \"\"multi\"\"\");\n\
             COMMENT ON TYPE public.\"select\" IS 'it''s';"
        );
    }
}
