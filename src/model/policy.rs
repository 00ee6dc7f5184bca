//! Row-level security: a table's `ENABLE` / `FORCE ROW LEVEL SECURITY` flags and its policies
//! (`pg_policy`), with their expressions as `pg_get_expr` renders them.

use serde::{Deserialize, Serialize};

use super::{ObjectId, QualifiedName};

/// The pseudo-role every role belongs to. No real role may be called `public` (PostgreSQL
/// reserves the name), so the lower-case spelling stands for it without ambiguity.
pub const PUBLIC_ROLE: &str = "public";

/// `relrowsecurity` / `relforcerowsecurity` of a table. Only tables with either set are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowSecurity {
    /// `ENABLE ROW LEVEL SECURITY`: policies apply to everyone but the owner and superusers
    /// (and roles with `BYPASSRLS`).
    pub enabled: bool,
    /// `FORCE ROW LEVEL SECURITY`: they apply to the owner too.
    pub forced: bool,
}

/// `polcmd`: which statements a policy applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyCommand {
    All,
    Select,
    Insert,
    Update,
    Delete,
}

impl PolicyCommand {
    /// From `pg_policy.polcmd`.
    pub fn from_catalog(code: &str) -> Option<PolicyCommand> {
        Some(match code {
            "*" => PolicyCommand::All,
            "r" => PolicyCommand::Select,
            "a" => PolicyCommand::Insert,
            "w" => PolicyCommand::Update,
            "d" => PolicyCommand::Delete,
            _ => return None,
        })
    }

    pub fn sql(self) -> &'static str {
        match self {
            PolicyCommand::All => "ALL",
            PolicyCommand::Select => "SELECT",
            PolicyCommand::Insert => "INSERT",
            PolicyCommand::Update => "UPDATE",
            PolicyCommand::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// `Kind::Policy`, `name` the table, `member` the policy.
    pub id: ObjectId,
    pub table: QualifiedName,
    pub name: String,
    /// `AS PERMISSIVE` (the default: policies are OR-ed) or `AS RESTRICTIVE` (AND-ed).
    pub permissive: bool,
    pub command: PolicyCommand,
    /// Role names, sorted; [`PUBLIC_ROLE`] for `TO PUBLIC`.
    pub roles: Vec<String>,
    /// `USING (...)`, `pg_get_expr(polqual)`.
    pub using: Option<String>,
    /// `WITH CHECK (...)`, `pg_get_expr(polwithcheck)`.
    pub with_check: Option<String>,
    pub comment: Option<String>,
}
