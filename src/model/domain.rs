//! Domains: a base type with a default, NOT NULL, a collation and CHECK constraints.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::QualifiedName;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    pub name: QualifiedName,
    /// `format_type(typbasetype, typtypmod)`, e.g. `numeric(10,2)`, `public.mood`.
    pub base_type: String,
    /// `pg_get_expr(typdefaultbin)`.
    pub default: Option<String>,
    pub not_null: bool,
    /// Explicit collation when it differs from the base type's, rendered like a column's
    /// (`"C"`, `app.mycoll`).
    pub collation: Option<String>,
    /// CHECK constraints by name.
    pub checks: BTreeMap<String, DomainCheck>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    pub name: String,
    /// `pg_get_constraintdef` without a trailing ` NOT VALID`, e.g. `CHECK (VALUE > 0)`.
    pub definition: String,
    pub validated: bool,
    pub comment: Option<String>,
}

impl Domain {
    /// Whether a column or attribute type (`format_type` text) is this domain or an array of it.
    pub fn is_type_of(&self, data_type: &str) -> bool {
        data_type.trim_end_matches("[]") == self.name.to_string()
    }
}
