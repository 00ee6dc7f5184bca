//! Which statements schema files may hold (and the message for the ones they may not), and
//! the session settings among them that move the `search_path` names resolve against.

use pg_query::NodeEnum;

use super::{refs, StatementKind};

const DML_HELP: &str = "schema files declare the desired schema; data changes belong in a data migration or seed script";

/// Kind of an accepted statement, or (message with `{}` for the statement label, help).
pub(super) fn classify(node: &NodeEnum) -> Result<StatementKind, (&'static str, &'static str)> {
    use NodeEnum as N;
    match node {
        N::InsertStmt(_)
        | N::UpdateStmt(_)
        | N::DeleteStmt(_)
        | N::MergeStmt(_)
        | N::CopyStmt(_)
        | N::TruncateStmt(_) => Err(("data manipulation ({}) does not belong in a schema file", DML_HELP)),
        N::SelectStmt(s) if is_set_config(s) => Ok(StatementKind::SessionSetting),
        N::SelectStmt(_) => Err(("query ({}) does not belong in a schema file", DML_HELP)),
        N::TransactionStmt(_) => Err((
            "transaction control ({}) does not belong in a schema file",
            "zdm decides how statements are grouped into transactions",
        )),
        N::DropStmt(_)
        | N::DropRoleStmt(_)
        | N::DropdbStmt(_)
        | N::DropOwnedStmt(_)
        | N::DropSubscriptionStmt(_)
        | N::DropTableSpaceStmt(_)
        | N::DropUserMappingStmt(_) => Err((
            "{} does not belong in a schema file",
            "declare only what should exist; zdm plans the drops of objects missing from the files",
        )),
        N::VariableSetStmt(_) => Ok(StatementKind::SessionSetting),
        N::DoStmt(_) => Ok(StatementKind::DoBlock),
        N::CreateRoleStmt(s) => Ok(StatementKind::CreateRole(s.role.clone())),
        N::CreatedbStmt(_)
        | N::AlterDatabaseStmt(_)
        | N::AlterDatabaseSetStmt(_)
        | N::AlterDatabaseRefreshCollStmt(_)
        | N::AlterSystemStmt(_)
        | N::CreateTableSpaceStmt(_)
        | N::AlterTableSpaceOptionsStmt(_) => Err((
            "{} is not part of a database's schema",
            "schema files describe one database's schema; databases, tablespaces and server settings are managed elsewhere",
        )),
        // Schema definition.
        // Database-wide and superuser-only: refused at plan time for a live role that is
        // not a superuser (see `workspace::event_triggers`).
        N::CreateEventTrigStmt(_) | N::AlterEventTrigStmt(_) => Ok(StatementKind::Ddl),
        N::CreateStmt(_)
        | N::CreateTableAsStmt(_)
        | N::CreateForeignTableStmt(_)
        | N::ViewStmt(_)
        | N::IndexStmt(_)
        | N::CreateSeqStmt(_)
        | N::AlterSeqStmt(_)
        | N::AlterTableStmt(_)
        | N::CompositeTypeStmt(_)
        | N::CreateEnumStmt(_)
        | N::AlterEnumStmt(_)
        | N::CreateRangeStmt(_)
        | N::CreateDomainStmt(_)
        | N::AlterDomainStmt(_)
        | N::AlterTypeStmt(_)
        | N::DefineStmt(_)
        | N::CreateFunctionStmt(_)
        | N::AlterFunctionStmt(_)
        | N::CreateSchemaStmt(_)
        | N::CreateExtensionStmt(_)
        | N::AlterExtensionStmt(_)
        | N::AlterExtensionContentsStmt(_)
        | N::CreateTrigStmt(_)
        | N::RuleStmt(_)
        | N::CreatePolicyStmt(_)
        | N::AlterPolicyStmt(_)
        | N::CommentStmt(_)
        | N::SecLabelStmt(_)
        | N::GrantStmt(_)
        | N::GrantRoleStmt(_)
        | N::AlterDefaultPrivilegesStmt(_)
        | N::AlterOwnerStmt(_)
        | N::AlterObjectSchemaStmt(_)
        | N::AlterObjectDependsStmt(_)
        | N::RenameStmt(_)
        | N::AlterRoleStmt(_)
        | N::AlterRoleSetStmt(_)
        | N::CreateCastStmt(_)
        | N::CreateConversionStmt(_)
        | N::CreateOpClassStmt(_)
        | N::CreateOpFamilyStmt(_)
        | N::AlterOpFamilyStmt(_)
        | N::AlterOperatorStmt(_)
        | N::CreatePlangStmt(_)
        | N::CreateTransformStmt(_)
        | N::CreateAmStmt(_)
        | N::CreateStatsStmt(_)
        | N::AlterStatsStmt(_)
        | N::CreateFdwStmt(_)
        | N::AlterFdwStmt(_)
        | N::CreateForeignServerStmt(_)
        | N::AlterForeignServerStmt(_)
        | N::CreateUserMappingStmt(_)
        | N::AlterUserMappingStmt(_)
        | N::ImportForeignSchemaStmt(_)
        | N::CreatePublicationStmt(_)
        | N::AlterPublicationStmt(_)
        | N::CreateSubscriptionStmt(_)
        | N::AlterSubscriptionStmt(_)
        | N::AlterTsconfigurationStmt(_)
        | N::AlterTsdictionaryStmt(_)
        | N::AlterCollationStmt(_)
        | N::AlterTableMoveAllStmt(_) => Ok(StatementKind::Ddl),
        _ => Err((
            "{} is not a schema definition and does not belong in a schema file",
            "schema files hold CREATE/ALTER/COMMENT/GRANT statements (plus session SETs and DO blocks)",
        )),
    }
}

/// `SELECT [pg_catalog.]set_config(<const>, <const>, <const>)` and nothing else (pg_dump's
/// `SELECT pg_catalog.set_config('search_path', '', false);` header).
fn is_set_config(s: &pg_query::protobuf::SelectStmt) -> bool {
    if !s.from_clause.is_empty()
        || s.where_clause.is_some()
        || s.with_clause.is_some()
        || s.target_list.len() != 1
        || s.op != pg_query::protobuf::SetOperation::SetopNone as i32
    {
        return false;
    }
    let Some(NodeEnum::ResTarget(t)) = s.target_list[0].node.as_ref() else {
        return false;
    };
    let Some(NodeEnum::FuncCall(f)) = t.val.as_ref().and_then(|v| v.node.as_ref()) else {
        return false;
    };
    let name = refs::string_list(&f.funcname);
    let named = matches!(name.as_slice(), [n] if n == "set_config")
        || matches!(name.as_slice(), [s, n] if s == "pg_catalog" && n == "set_config");
    named
        && f.args.len() == 3
        && f.args
            .iter()
            .all(|a| matches!(a.node.as_ref(), Some(NodeEnum::AConst(_))))
}

/// The new search path, when a session setting sets it in a way we can follow.
pub(super) fn search_path_setting(node: &NodeEnum) -> Option<Vec<String>> {
    use pg_query::protobuf::a_const::Val;
    use pg_query::protobuf::VariableSetKind as K;
    match node {
        NodeEnum::VariableSetStmt(s) => {
            if s.kind == K::VarResetAll as i32 {
                return Some(vec!["public".into()]);
            }
            if s.name != "search_path" {
                return None;
            }
            if s.kind == K::VarSetDefault as i32 || s.kind == K::VarReset as i32 {
                return Some(vec!["public".into()]);
            }
            let mut path = Vec::new();
            for a in &s.args {
                if let Some(NodeEnum::AConst(c)) = a.node.as_ref() {
                    if let Some(Val::Sval(v)) = &c.val {
                        path.push(v.sval.clone());
                    }
                }
            }
            Some(clean_path(path))
        }
        NodeEnum::SelectStmt(s) => {
            let Some(NodeEnum::ResTarget(t)) = s.target_list.first()?.node.as_ref() else {
                return None;
            };
            let Some(NodeEnum::FuncCall(f)) = t.val.as_ref()?.node.as_ref() else {
                return None;
            };
            let arg = |i: usize| match f.args.get(i)?.node.as_ref()? {
                NodeEnum::AConst(c) => match &c.val {
                    Some(Val::Sval(v)) => Some(v.sval.clone()),
                    _ => None,
                },
                _ => None,
            };
            if arg(0)?.to_lowercase() != "search_path" {
                return None;
            }
            let value = arg(1)?;
            let parts = value
                .split(',')
                .filter_map(|p| {
                    crate::sql::split_qualified_name(p.trim())
                        .ok()
                        .and_then(|v| v.into_iter().next())
                })
                .collect();
            Some(clean_path(parts))
        }
        _ => None,
    }
}

/// Drop `$user` and `pg_catalog` (searched implicitly) from a path.
fn clean_path(path: Vec<String>) -> Vec<String> {
    path.into_iter()
        .filter(|p| p != "$user" && p != "pg_catalog" && !p.is_empty())
        .collect()
}
