//! DDL of row-level security: policies and a table's `ENABLE` / `FORCE` flags.

use super::comment_on;
use crate::model::{Policy, QualifiedName, PUBLIC_ROLE};
use crate::sql::quote_ident;

/// `TO ...`: role names quoted (a role called `select` needs it), `PUBLIC` as the keyword.
fn roles(policy: &Policy) -> String {
    if policy.roles.is_empty() {
        return "PUBLIC".to_string();
    }
    policy
        .roles
        .iter()
        .map(|r| {
            if r == PUBLIC_ROLE {
                "PUBLIC".to_string()
            } else {
                quote_ident(r)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// ` USING (...)` / ` WITH CHECK (...)` for the expressions the policy has.
fn expressions(policy: &Policy) -> String {
    let mut out = String::new();
    if let Some(using) = &policy.using {
        out.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &policy.with_check {
        out.push_str(&format!(" WITH CHECK ({check})"));
    }
    out
}

fn on(policy: &Policy) -> String {
    format!("{} ON {}", quote_ident(&policy.name), policy.table)
}

pub fn create(policy: &Policy) -> String {
    format!(
        "CREATE POLICY {} AS {} FOR {} TO {}{};",
        on(policy),
        if policy.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        policy.command.sql(),
        roles(policy),
        expressions(policy)
    )
}

/// `ALTER POLICY` sets roles and expressions; it cannot remove an expression, nor change the
/// command or `PERMISSIVE`/`RESTRICTIVE` (the diff re-creates the policy for those).
pub fn alter(policy: &Policy) -> String {
    format!(
        "ALTER POLICY {} TO {}{};",
        on(policy),
        roles(policy),
        expressions(policy)
    )
}

pub fn drop(policy: &Policy) -> String {
    format!("DROP POLICY {};", on(policy))
}

pub fn comments(policy: &Policy) -> Vec<String> {
    policy
        .comment
        .iter()
        .map(|c| comment_on(&policy.id.sql(), Some(c)))
        .collect()
}

pub fn definition(policy: &Policy) -> String {
    let mut lines = vec![create(policy)];
    lines.extend(comments(policy));
    lines.join("\n")
}

/// `ALTER TABLE ... {ENABLE|DISABLE} ROW LEVEL SECURITY`.
pub fn set_enabled(table: &QualifiedName, enabled: bool) -> String {
    let verb = if enabled { "ENABLE" } else { "DISABLE" };
    format!("ALTER TABLE {table} {verb} ROW LEVEL SECURITY;")
}

/// `ALTER TABLE ... [NO] FORCE ROW LEVEL SECURITY`.
pub fn set_forced(table: &QualifiedName, forced: bool) -> String {
    let verb = if forced { "FORCE" } else { "NO FORCE" };
    format!("ALTER TABLE {table} {verb} ROW LEVEL SECURITY;")
}
