//! Aggregates (`CREATE AGGREGATE`): identified like routines, by argument types.

use serde::{Deserialize, Serialize};

use super::{ObjectId, QualifiedName};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateKind {
    Normal,
    OrderedSet,
    Hypothetical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Kind `Aggregate`, `args` its argument types (`oidvectortypes`), as a routine's.
    pub id: ObjectId,
    pub name: QualifiedName,
    pub kind: AggregateKind,
    /// `pg_get_function_arguments`: what goes between the parentheses of `CREATE AGGREGATE`
    /// (`text`, `double precision ORDER BY anyelement`); empty for `*`.
    pub arguments: String,
    /// `pg_get_function_identity_arguments`: the signature `DROP AGGREGATE` takes.
    pub signature: String,
    /// `format_type(prorettype)`: `CREATE OR REPLACE AGGREGATE` may not change it.
    pub result: String,
    /// The parameters that differ from their defaults, in the order `CREATE AGGREGATE` lists
    /// them, each with its value as the catalog renders it (`("SFUNC",
    /// Some("public._group_concat"))`, `("HYPOTHETICAL", None)`).
    pub options: Vec<(String, Option<String>)>,
    pub comment: Option<String>,
}
