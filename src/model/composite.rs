//! Composite types (`CREATE TYPE ... AS (...)`): named, typed attributes.

use serde::{Deserialize, Serialize};

use super::QualifiedName;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompositeType {
    pub name: QualifiedName,
    /// Attributes in `attnum` order (dropped ones excluded).
    pub attributes: Vec<Attribute>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    /// `format_type(atttypid, atttypmod)`, e.g. `numeric(10,2)`, `public.mood[]`.
    pub data_type: String,
    /// Explicit collation when it differs from the type's default, rendered like a column's.
    pub collation: Option<String>,
    /// `COMMENT ON COLUMN type.attribute`.
    pub comment: Option<String>,
}

impl CompositeType {
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Whether a column, attribute or argument type (`format_type` text) is this type or an
    /// array of it.
    pub fn is_type_of(&self, data_type: &str) -> bool {
        data_type.trim_end_matches("[]") == self.name.to_string()
    }
}
