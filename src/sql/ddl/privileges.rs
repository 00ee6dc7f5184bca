//! `GRANT`, `REVOKE`, `ALTER DEFAULT PRIVILEGES` and `ALTER ... OWNER TO` text.

use crate::diff::privileges::{PrivilegeAction, PrivilegeTarget};
use crate::model::{Grantee, Kind, ObjectId};
use crate::sql::quote_ident;

/// The role a grantee names in SQL. The owner of an object the plan creates is the role
/// that applies it (`CURRENT_USER`), unless the files give it one.
fn grantee_sql(grantee: &Grantee, owner: Option<&str>) -> String {
    match grantee {
        Grantee::Public => "PUBLIC".to_string(),
        Grantee::Role(role) => quote_ident(role),
        Grantee::Owner => owner.map_or("CURRENT_USER".to_string(), quote_ident),
    }
}

/// The `ON ...` clause of a grant on an object, and the column list a column grant puts after
/// each privilege.
fn object_clause(id: &ObjectId) -> (String, Option<String>) {
    match id.kind {
        // Views and materialized views are granted on as tables.
        Kind::Table | Kind::View | Kind::MaterializedView => (format!("TABLE {id}"), None),
        Kind::Column => (
            format!("TABLE {}", id.qualified()),
            id.member.as_deref().map(quote_ident),
        ),
        // There is no `ON AGGREGATE`: `ON FUNCTION` takes aggregates (a flat argument list,
        // `*` written as nothing).
        Kind::Aggregate => (format!("FUNCTION {id}"), None),
        // `ON TYPE` takes domains as well.
        _ => (id.sql(), None),
    }
}

/// `role app in schema s on tables`, what `zdm diff` groups default privileges by.
pub fn default_scope(target: &PrivilegeTarget) -> String {
    let PrivilegeTarget::Default {
        role,
        schema,
        objects,
    } = target
    else {
        return String::new();
    };
    let mut scope = match role {
        Some(role) => format!("for role {}", quote_ident(role)),
        None => "for the current role".to_string(),
    };
    if let Some(schema) = schema {
        scope.push_str(&format!(" in schema {}", quote_ident(schema)));
    }
    scope.push_str(&format!(" on {}", objects.sql().to_lowercase()));
    scope
}

/// One statement per action: `GRANT SELECT, INSERT ON TABLE public.t TO app;`.
pub fn statement(
    target: &PrivilegeTarget,
    grantee: &Grantee,
    action: PrivilegeAction,
    privileges: &[String],
) -> String {
    let (on, prefix, owner) = match target {
        PrivilegeTarget::Object { id, owner } => {
            let (on, column) = object_clause(id);
            let list = privileges
                .iter()
                .map(|p| match &column {
                    Some(c) => format!("{p} ({c})"),
                    None => p.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            (format!("{list} ON {on}"), String::new(), owner.clone())
        }
        PrivilegeTarget::Default {
            role,
            schema,
            objects,
        } => {
            let mut prefix = "ALTER DEFAULT PRIVILEGES".to_string();
            if let Some(role) = role {
                prefix.push_str(&format!(" FOR ROLE {}", quote_ident(role)));
            }
            if let Some(schema) = schema {
                prefix.push_str(&format!(" IN SCHEMA {}", quote_ident(schema)));
            }
            prefix.push(' ');
            let on = format!("{} ON {}", privileges.join(", "), objects.sql());
            (on, prefix, role.clone())
        }
    };
    let who = grantee_sql(grantee, owner.as_deref());
    match action {
        PrivilegeAction::Grant => format!("{prefix}GRANT {on} TO {who};"),
        PrivilegeAction::GrantWithGrantOption => {
            format!("{prefix}GRANT {on} TO {who} WITH GRANT OPTION;")
        }
        PrivilegeAction::RevokeGrantOption => {
            format!("{prefix}REVOKE GRANT OPTION FOR {on} FROM {who};")
        }
        PrivilegeAction::Revoke => format!("{prefix}REVOKE {on} FROM {who};"),
    }
}

/// `grant SELECT to app; revoke EXECUTE from PUBLIC`, one line for `zdm diff`.
pub fn summary(
    target: &PrivilegeTarget,
    actions: &[(Grantee, PrivilegeAction, Vec<String>)],
) -> String {
    let owner = match target {
        PrivilegeTarget::Object { owner, .. } => owner.clone(),
        PrivilegeTarget::Default { role, .. } => role.clone(),
    };
    actions
        .iter()
        .map(|(grantee, action, privileges)| {
            let who = match grantee {
                Grantee::Owner => "the owner".to_string(),
                other => grantee_sql(other, owner.as_deref()),
            };
            let what = privileges.join(", ");
            match action {
                PrivilegeAction::Grant => format!("grant {what} to {who}"),
                PrivilegeAction::GrantWithGrantOption => {
                    format!("grant {what} to {who} with grant option")
                }
                PrivilegeAction::RevokeGrantOption => {
                    format!("revoke grant option for {what} from {who}")
                }
                PrivilegeAction::Revoke => format!("revoke {what} from {who}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `ALTER TABLE public.t OWNER TO app;` (views, sequences, routines, types, schemas alike).
pub fn owner(id: &ObjectId, owner: &str) -> String {
    format!("ALTER {} OWNER TO {};", id.sql(), quote_ident(owner))
}
