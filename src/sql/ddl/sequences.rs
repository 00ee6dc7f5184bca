//! Sequence statements the recipes run (a sequence's own definition is `ddl::sequence_definition`).

use crate::model::{QualifiedName, Sequence};

/// `IF EXISTS`: a sequence owned by a column that the same plan drops goes with it.
pub fn drop_if_exists(sequence: &QualifiedName) -> String {
    format!("DROP SEQUENCE IF EXISTS {sequence};")
}

pub fn drop(sequence: &QualifiedName) -> String {
    format!("DROP SEQUENCE {sequence};")
}

/// Every option of `to`, set on the live sequence of the same name.
pub fn alter_options(to: &Sequence) -> String {
    format!(
        "ALTER SEQUENCE {} {};",
        to.name,
        super::sequence_options(to)
    )
}

pub fn owned_by_none(sequence: &QualifiedName) -> String {
    format!("ALTER SEQUENCE {sequence} OWNED BY NONE;")
}
