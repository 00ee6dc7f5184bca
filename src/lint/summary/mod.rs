//! What the rules see of a statement: zdm's own summary of it, made from pg_query's tree here
//! and nowhere else, so that rules never walk parse trees. Each summary says what the
//! statement does, on which table, which lock it takes, and the file's state before it
//! (inside a transaction or not, `lock_timeout` set or not).

use pg_query::protobuf::{self, AlterTableType, ObjectType, TransactionStmtKind};
use pg_query::NodeEnum;
use serde::Serialize;

mod columns;

use columns::{collect_literals, column, constraint, type_summary};

/// PostgreSQL's table lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum LockMode {
    #[serde(rename = "ROW EXCLUSIVE")]
    RowExclusive,
    #[serde(rename = "SHARE UPDATE EXCLUSIVE")]
    ShareUpdateExclusive,
    #[serde(rename = "SHARE")]
    Share,
    #[serde(rename = "SHARE ROW EXCLUSIVE")]
    ShareRowExclusive,
    #[serde(rename = "ACCESS EXCLUSIVE")]
    AccessExclusive,
}

impl LockMode {
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }
}

/// A column type as written: the last name component (`varchar`, `int4`, ...), its modifiers
/// and whether it is an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSummary {
    pub name: String,
    pub modifiers: Vec<i64>,
    pub array: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultKind {
    /// A literal, a cast of one, or a call PostgreSQL evaluates once (`now()`): metadata only.
    Constant,
    /// A call evaluated per row (`gen_random_uuid()`, `random()`, `nextval`): a table rewrite.
    Volatile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintKind {
    Check,
    ForeignKey,
    Unique,
    PrimaryKey,
    Exclude,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintSummary {
    pub kind: ConstraintKind,
    pub name: String,
    pub not_valid: bool,
    pub using_index: bool,
    /// For `CHECK (c IS NOT NULL)`: the column it proves not null.
    pub proves_not_null: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSummary {
    pub name: String,
    pub type_name: Option<TypeSummary>,
    pub not_null: bool,
    pub default: Option<DefaultKind>,
    /// `GENERATED ALWAYS AS (...) STORED` (computed for every row: a rewrite).
    pub generated_stored: bool,
    pub identity: bool,
    pub constraints: Vec<ConstraintSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlterAction {
    AddColumn(ColumnSummary),
    SetNotNull {
        column: String,
    },
    AddConstraint(ConstraintSummary),
    ValidateConstraint {
        name: String,
    },
    AlterType {
        column: String,
        to: Option<TypeSummary>,
        using: bool,
    },
    DropColumn {
        column: String,
    },
    /// Anything else (SET DEFAULT, DROP CONSTRAINT, ...): ACCESS EXCLUSIVE or weaker, no scan.
    Other {
        lock: LockMode,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    Begin,
    Commit,
    Rollback,
    /// `SET [LOCAL] lock_timeout`; `enabled` is false for `0`/`DEFAULT`/`RESET`.
    LockTimeout {
        enabled: bool,
        local: bool,
    },
    CreateIndex {
        concurrently: bool,
        unique: bool,
        if_not_exists: bool,
        /// `ON ONLY` a partitioned table: an invalid index on the parent alone, built by no one.
        only: bool,
    },
    DropIndex {
        concurrently: bool,
        if_exists: bool,
    },
    AlterTable {
        actions: Vec<AlterAction>,
    },
    RenameColumn,
    RenameTable,
    CreateTable {
        columns: Vec<ColumnSummary>,
        if_not_exists: bool,
    },
    DropTable,
    DropDatabase,
    VacuumFull,
    Cluster,
    Reindex {
        concurrently: bool,
    },
    AddEnumValue {
        type_name: String,
        value: String,
    },
    /// `UPDATE` or `DELETE` without `WHERE`.
    WholeTableWrite,
    Other,
}

#[derive(Debug, Clone)]
pub struct StatementSummary {
    /// Byte range in its file.
    pub start: usize,
    pub end: usize,
    pub kind: StatementKind,
    /// The table the statement works on, as written (`schema.table` or `table`).
    pub table: Option<String>,
    /// The strongest lock the statement takes on `table`.
    pub lock: Option<LockMode>,
    /// String literals anywhere in the statement (for enum values used in the same
    /// transaction).
    pub literals: Vec<String>,
    /// State before the statement, filled in by the driver.
    pub in_transaction: bool,
    pub lock_timeout_set: bool,
}

pub fn summarize(start: usize, end: usize, node: &NodeEnum) -> StatementSummary {
    let (kind, table) = kind_of(node);
    let lock = lock_of(&kind);
    let mut literals = Vec::new();
    if let Ok(json) = serde_json::to_value(node) {
        collect_literals(&json, &mut literals);
    }
    StatementSummary {
        start,
        end,
        kind,
        table,
        lock,
        literals,
        in_transaction: false,
        lock_timeout_set: false,
    }
}

fn kind_of(node: &NodeEnum) -> (StatementKind, Option<String>) {
    use StatementKind as K;
    match node {
        NodeEnum::TransactionStmt(t) => (transaction(t), None),
        NodeEnum::VariableSetStmt(s) if s.name.eq_ignore_ascii_case("lock_timeout") => {
            (lock_timeout(s), None)
        }
        NodeEnum::IndexStmt(i) => (
            K::CreateIndex {
                concurrently: i.concurrent,
                unique: i.unique,
                if_not_exists: i.if_not_exists,
                only: i.relation.as_ref().is_some_and(|r| !r.inh),
            },
            i.relation.as_ref().map(range_var),
        ),
        NodeEnum::DropStmt(d) => drop(d),
        NodeEnum::DropdbStmt(_) => (K::DropDatabase, None),
        NodeEnum::AlterTableStmt(a) if a.objtype == ObjectType::ObjectTable as i32 => (
            K::AlterTable {
                actions: a
                    .cmds
                    .iter()
                    .filter_map(node_of)
                    .map(alter_action)
                    .collect(),
            },
            a.relation.as_ref().map(range_var),
        ),
        NodeEnum::RenameStmt(r) => rename(r),
        NodeEnum::CreateStmt(c) => (
            K::CreateTable {
                columns: c
                    .table_elts
                    .iter()
                    .filter_map(node_of)
                    .filter_map(|n| match n {
                        NodeEnum::ColumnDef(c) => Some(column(c)),
                        _ => None,
                    })
                    .collect(),
                if_not_exists: c.if_not_exists,
            },
            c.relation.as_ref().map(range_var),
        ),
        // CREATE MATERIALIZED VIEW / CREATE TABLE AS: a new relation, read by no one yet.
        NodeEnum::CreateTableAsStmt(c) => (
            K::CreateTable {
                columns: Vec::new(),
                if_not_exists: c.if_not_exists,
            },
            c.into.as_ref().and_then(|i| i.rel.as_ref()).map(range_var),
        ),
        NodeEnum::VacuumStmt(v) if v.is_vacuumcmd && has_option(&v.options, "full") => {
            (K::VacuumFull, vacuum_table(v))
        }
        NodeEnum::ClusterStmt(c) => (K::Cluster, c.relation.as_ref().map(range_var)),
        NodeEnum::ReindexStmt(r) => (
            K::Reindex {
                concurrently: has_option(&r.params, "concurrently"),
            },
            r.relation.as_ref().map(range_var).or(Some(r.name.clone())),
        ),
        NodeEnum::AlterEnumStmt(e) if !e.new_val.is_empty() && e.old_val.is_empty() => (
            K::AddEnumValue {
                type_name: string_names(&e.type_name).join("."),
                value: e.new_val.clone(),
            },
            None,
        ),
        NodeEnum::UpdateStmt(u) if u.where_clause.is_none() => {
            (K::WholeTableWrite, u.relation.as_ref().map(range_var))
        }
        NodeEnum::DeleteStmt(d) if d.where_clause.is_none() => {
            (K::WholeTableWrite, d.relation.as_ref().map(range_var))
        }
        _ => (K::Other, None),
    }
}

fn transaction(t: &protobuf::TransactionStmt) -> StatementKind {
    match TransactionStmtKind::try_from(t.kind) {
        Ok(TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart) => {
            StatementKind::Begin
        }
        Ok(TransactionStmtKind::TransStmtCommit) => StatementKind::Commit,
        Ok(TransactionStmtKind::TransStmtRollback) => StatementKind::Rollback,
        _ => StatementKind::Other,
    }
}

fn lock_timeout(s: &protobuf::VariableSetStmt) -> StatementKind {
    use protobuf::a_const::Val;
    let zero = s.args.iter().filter_map(node_of).all(|a| match a {
        NodeEnum::AConst(c) => match &c.val {
            Some(Val::Ival(i)) => i.ival == 0,
            Some(Val::Sval(s)) => s.sval.trim().trim_end_matches("ms").trim() == "0",
            _ => false,
        },
        _ => false,
    });
    let is_value = s.kind == protobuf::VariableSetKind::VarSetValue as i32;
    StatementKind::LockTimeout {
        enabled: is_value && !zero,
        local: s.is_local,
    }
}

fn drop(d: &protobuf::DropStmt) -> (StatementKind, Option<String>) {
    let first = d.objects.first().and_then(node_of).map(|n| match n {
        NodeEnum::List(l) => string_names(&l.items).join("."),
        _ => String::new(),
    });
    match ObjectType::try_from(d.remove_type) {
        Ok(ObjectType::ObjectIndex) => (
            StatementKind::DropIndex {
                concurrently: d.concurrent,
                if_exists: d.missing_ok,
            },
            first,
        ),
        Ok(ObjectType::ObjectTable) => (StatementKind::DropTable, first),
        _ => (StatementKind::Other, None),
    }
}

fn rename(r: &protobuf::RenameStmt) -> (StatementKind, Option<String>) {
    let table = r.relation.as_ref().map(range_var);
    match ObjectType::try_from(r.rename_type) {
        Ok(ObjectType::ObjectColumn) => (StatementKind::RenameColumn, table),
        Ok(ObjectType::ObjectTable) => (StatementKind::RenameTable, table),
        _ => (StatementKind::Other, None),
    }
}

fn alter_action(node: &NodeEnum) -> AlterAction {
    let NodeEnum::AlterTableCmd(cmd) = node else {
        return AlterAction::Other {
            lock: LockMode::AccessExclusive,
        };
    };
    let def = cmd.def.as_deref().and_then(|n| n.node.as_ref());
    match (AlterTableType::try_from(cmd.subtype), def) {
        (Ok(AlterTableType::AtAddColumn), Some(NodeEnum::ColumnDef(c))) => {
            AlterAction::AddColumn(column(c))
        }
        (Ok(AlterTableType::AtSetNotNull), _) => AlterAction::SetNotNull {
            column: cmd.name.clone(),
        },
        (Ok(AlterTableType::AtAddConstraint), Some(NodeEnum::Constraint(c))) => {
            AlterAction::AddConstraint(constraint(c))
        }
        (Ok(AlterTableType::AtValidateConstraint), _) => AlterAction::ValidateConstraint {
            name: cmd.name.clone(),
        },
        (Ok(AlterTableType::AtAlterColumnType), Some(NodeEnum::ColumnDef(c))) => {
            AlterAction::AlterType {
                column: cmd.name.clone(),
                to: c.type_name.as_ref().map(type_summary),
                using: c.raw_default.is_some(),
            }
        }
        (Ok(AlterTableType::AtDropColumn), _) => AlterAction::DropColumn {
            column: cmd.name.clone(),
        },
        (Ok(t), _) => AlterAction::Other {
            lock: other_lock(t),
        },
        (Err(_), _) => AlterAction::Other {
            lock: LockMode::AccessExclusive,
        },
    }
}

/// The lock of the ALTER TABLE forms the rules do not look at (PostgreSQL's
/// AlterTableGetLockLevel, for the common ones).
fn other_lock(t: AlterTableType) -> LockMode {
    use AlterTableType as A;
    match t {
        A::AtSetStatistics
        | A::AtClusterOn
        | A::AtDropCluster
        | A::AtSetOptions
        | A::AtResetOptions
        | A::AtSetRelOptions
        | A::AtResetRelOptions => LockMode::ShareUpdateExclusive,
        A::AtEnableTrig
        | A::AtDisableTrig
        | A::AtEnableAlwaysTrig
        | A::AtEnableReplicaTrig
        | A::AtEnableTrigAll
        | A::AtDisableTrigAll
        | A::AtEnableTrigUser
        | A::AtDisableTrigUser => LockMode::ShareRowExclusive,
        _ => LockMode::AccessExclusive,
    }
}

fn lock_of(kind: &StatementKind) -> Option<LockMode> {
    use StatementKind as K;
    Some(match kind {
        K::CreateIndex {
            concurrently: true, ..
        }
        | K::Reindex { concurrently: true } => LockMode::ShareUpdateExclusive,
        K::DropIndex {
            concurrently: true, ..
        } => LockMode::ShareUpdateExclusive,
        K::CreateIndex { .. } | K::Reindex { .. } => LockMode::Share,
        K::AlterTable { actions } => actions.iter().map(action_lock).max()?,
        K::DropIndex { .. }
        | K::RenameColumn
        | K::RenameTable
        | K::DropTable
        | K::VacuumFull
        | K::Cluster => LockMode::AccessExclusive,
        K::WholeTableWrite => LockMode::RowExclusive,
        _ => return None,
    })
}

pub fn action_lock(action: &AlterAction) -> LockMode {
    match action {
        AlterAction::ValidateConstraint { .. } => LockMode::ShareUpdateExclusive,
        AlterAction::AddConstraint(c) if c.kind == ConstraintKind::ForeignKey => {
            LockMode::ShareRowExclusive
        }
        AlterAction::Other { lock } => *lock,
        _ => LockMode::AccessExclusive,
    }
}

pub(super) fn node_of(n: &protobuf::Node) -> Option<&NodeEnum> {
    n.node.as_ref()
}

pub(super) fn string_names(nodes: &[protobuf::Node]) -> Vec<String> {
    nodes
        .iter()
        .filter_map(node_of)
        .filter_map(|n| match n {
            NodeEnum::String(s) => Some(s.sval.clone()),
            _ => None,
        })
        .collect()
}

fn range_var(r: &protobuf::RangeVar) -> String {
    if r.schemaname.is_empty() {
        r.relname.clone()
    } else {
        format!("{}.{}", r.schemaname, r.relname)
    }
}

fn has_option(options: &[protobuf::Node], name: &str) -> bool {
    options.iter().filter_map(node_of).any(|n| match n {
        NodeEnum::DefElem(d) => d.defname.eq_ignore_ascii_case(name),
        _ => false,
    })
}

fn vacuum_table(v: &protobuf::VacuumStmt) -> Option<String> {
    v.rels.iter().filter_map(node_of).find_map(|n| match n {
        NodeEnum::VacuumRelation(r) => r.relation.as_ref().map(range_var),
        _ => None,
    })
}
