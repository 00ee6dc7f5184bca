//! How Citus spreads a table over its workers (read from the live database only: zdm never
//! distributes a table, it plans around the ones that are).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distribution {
    /// A reference table: one shard, copied to every worker (`partmethod` 'n').
    pub reference: bool,
    /// The distribution column (none for a reference table).
    pub column: Option<String>,
}
