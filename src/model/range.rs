//! Range types (`CREATE TYPE ... AS RANGE`) and the multirange type each one brings
//! (PostgreSQL 14+).

use serde::{Deserialize, Serialize};

use super::QualifiedName;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeType {
    pub name: QualifiedName,
    /// `format_type(rngsubtype)`, e.g. `double precision`, `public.amount`.
    pub subtype: String,
    /// The subtype's B-tree operator class when it is not the default one (qualified unless
    /// in `pg_catalog`).
    pub subtype_opclass: Option<String>,
    /// The collation when it differs from the subtype's, rendered like a column's.
    pub collation: Option<String>,
    /// `rngcanonical::regproc` (qualified unless in `pg_catalog`).
    pub canonical: Option<String>,
    /// `rngsubdiff::regproc` (qualified unless in `pg_catalog`), e.g. `float8mi`.
    pub subtype_diff: Option<String>,
    /// The multirange type (PostgreSQL 14+; `None` before).
    pub multirange: Option<QualifiedName>,
    pub comment: Option<String>,
}

impl RangeType {
    /// The same type but for its comment: what `CREATE TYPE` sets.
    pub fn same_definition(&self, other: &RangeType) -> bool {
        RangeType {
            comment: None,
            ..self.clone()
        } == RangeType {
            comment: None,
            ..other.clone()
        }
    }

    /// Whether a column, attribute or argument type (`format_type` text) is this type, its
    /// multirange, or an array of either.
    pub fn is_type_of(&self, data_type: &str) -> bool {
        self.names().any(|n| n == data_type.trim_end_matches("[]"))
    }

    /// The range's and the multirange's qualified names, as `format_type` renders them.
    pub fn names(&self) -> impl Iterator<Item = String> + '_ {
        std::iter::once(self.name.to_string())
            .chain(self.multirange.as_ref().map(|m| m.to_string()))
    }
}
