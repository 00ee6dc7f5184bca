//! Functions and procedures (aggregates are not managed yet).

use serde::{Deserialize, Serialize};

use super::{ObjectId, QualifiedName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routine {
    /// Kind `Function` or `Procedure`; `args` are the identity argument types, so overloads
    /// are different objects.
    pub id: ObjectId,
    pub name: QualifiedName,
    /// `pg_get_function_arguments`: names, modes and defaults. `CREATE OR REPLACE` may not
    /// rename an input parameter or remove a default.
    pub arguments: String,
    /// `pg_get_function_result` (`None` for a procedure). `CREATE OR REPLACE` may not change it.
    pub result: Option<String>,
    /// `pg_get_functiondef`: a complete `CREATE OR REPLACE FUNCTION ...` statement.
    pub definition: String,
    pub comment: Option<String>,
}
