//! Triggers on tables and views (not zdm's own `zdm_*` sync triggers, not constraint
//! triggers PostgreSQL makes for foreign keys, not a partition's clone of its parent's).

use serde::{Deserialize, Serialize};

use super::{ObjectId, QualifiedName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub id: ObjectId,
    pub table: QualifiedName,
    pub name: String,
    /// `pg_get_triggerdef(oid)`: a complete `CREATE [CONSTRAINT] TRIGGER ...` statement.
    pub definition: String,
    /// The trigger function.
    pub function: ObjectId,
    pub constraint: bool,
    /// `tgenabled`: `O` (origin and local, the default), `D`, `R` (replica), `A` (always).
    pub enabled: String,
    pub comment: Option<String>,
}
