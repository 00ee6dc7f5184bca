//! Collations (`CREATE COLLATION`), libc, ICU or builtin.

use serde::{Deserialize, Serialize};

use super::QualifiedName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CollationProvider {
    Libc,
    Icu,
    /// PostgreSQL 17+.
    Builtin,
}

impl CollationProvider {
    /// The word `CREATE COLLATION (provider = ...)` takes.
    pub fn sql(self) -> &'static str {
        match self {
            CollationProvider::Libc => "libc",
            CollationProvider::Icu => "icu",
            CollationProvider::Builtin => "builtin",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collation {
    pub name: QualifiedName,
    pub provider: CollationProvider,
    /// The ICU or builtin locale (`en-u-kn-true`); `None` for libc.
    pub locale: Option<String>,
    /// libc's `LC_COLLATE` and `LC_CTYPE`; `None` for the other providers.
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    pub deterministic: bool,
    /// ICU tailoring rules (PostgreSQL 16+).
    pub rules: Option<String>,
    pub comment: Option<String>,
}

impl Collation {
    /// The same collation but for its comment: what `CREATE COLLATION` sets.
    pub fn same_definition(&self, other: &Collation) -> bool {
        Collation {
            comment: None,
            ..self.clone()
        } == Collation {
            comment: None,
            ..other.clone()
        }
    }
}
