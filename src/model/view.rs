//! Views and materialized views.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{ObjectId, QualifiedName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// Kind `View` or `MaterializedView`.
    pub id: ObjectId,
    pub name: QualifiedName,
    /// `pg_get_viewdef(oid)` without its trailing `;`: the query as PostgreSQL stores it.
    pub definition: String,
    /// Output columns in order, with `format_type` types: what `CREATE OR REPLACE VIEW` must
    /// keep (it may only add columns at the end).
    pub columns: Vec<ViewColumn>,
    /// `reloptions`, e.g. `security_barrier=true`, `check_option=local`.
    pub options: Vec<String>,
    pub comment: Option<String>,
    /// A materialized view created `WITH NO DATA` is not populated (`relispopulated`). Data
    /// state rather than schema: never compared, only followed when creating.
    #[serde(default = "populated", skip_serializing_if = "Clone::clone")]
    pub populated: bool,
    /// For a plain view from the desired files: its query as written, what zdm creates it by
    /// instead of `definition` (see `parse::ViewSource` for why). Never compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Indexes of a materialized view, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub indexes: BTreeMap<String, ViewIndex>,
}

impl View {
    pub fn materialized(&self) -> bool {
        self.id.kind == super::Kind::MaterializedView
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    pub name: String,
    pub data_type: String,
    pub comment: Option<String>,
}

/// An index on a materialized view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewIndex {
    pub name: String,
    /// `pg_get_indexdef(oid)`.
    pub definition: String,
    pub comment: Option<String>,
}

fn populated() -> bool {
    true
}
