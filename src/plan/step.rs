//! What one step of a plan is: its SQL and everything the executor and the reader need to
//! know about it (phase, lock, scan/rewrite, transaction, hazards).

use serde::{Deserialize, Serialize};
use std::fmt;

use super::op::Op;
use super::resource::Resource;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Additive changes: the old application keeps working.
    Expand,
    /// Batched data copies for new or derived columns.
    Backfill,
    /// Validation of constraints added `NOT VALID`, NOT NULL through a validated CHECK.
    Validate,
    /// Drops and swaps: only after the old application is retired.
    Contract,
}

impl Phase {
    pub const ALL: [Phase; 4] = [
        Phase::Expand,
        Phase::Backfill,
        Phase::Validate,
        Phase::Contract,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Backfill => "backfill",
            Phase::Validate => "validate",
            Phase::Contract => "contract",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Table-level lock modes, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockMode {
    None,
    AccessShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    AccessExclusive,
}

impl LockMode {
    /// Whether holding this lock blocks the application's reads or writes.
    pub fn blocks_writes(self) -> bool {
        self >= LockMode::Share
    }
}

impl fmt::Display for LockMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LockMode::None => "no lock",
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        })
    }
}

/// How much of the table a step reads or writes while it holds its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableWork {
    /// Catalog-only change.
    None,
    /// Reads every row (e.g. `VALIDATE CONSTRAINT`, `CREATE INDEX CONCURRENTLY`).
    Scan,
    /// Writes a new copy of the table (and its indexes).
    Rewrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HazardKind {
    /// Rows or columns are deleted.
    DataLoss,
    /// The table is rewritten under ACCESS EXCLUSIVE.
    TableRewrite,
    /// A lock that blocks the application is held for longer than a catalog update.
    LongLock,
    /// The change has no online recipe; it will block or fail under traffic.
    NotOnline,
    /// The step may fail on existing data (e.g. NOT NULL on a column that has NULLs).
    MayFail,
    /// What the running application may read or write changes (row-level security).
    AccessChange,
    /// A privilege the running application may rely on is revoked.
    AccessLoss,
}

impl HazardKind {
    pub fn name(self) -> &'static str {
        match self {
            HazardKind::DataLoss => "data-loss",
            HazardKind::TableRewrite => "table-rewrite",
            HazardKind::LongLock => "long-lock",
            HazardKind::NotOnline => "not-online",
            HazardKind::MayFail => "may-fail",
            HazardKind::AccessChange => "access-change",
            HazardKind::AccessLoss => "access-loss",
        }
    }

    /// Every kind, in the order they are listed to users.
    pub const ALL: [HazardKind; 7] = [
        HazardKind::DataLoss,
        HazardKind::TableRewrite,
        HazardKind::LongLock,
        HazardKind::NotOnline,
        HazardKind::MayFail,
        HazardKind::AccessChange,
        HazardKind::AccessLoss,
    ];

    pub fn parse(text: &str) -> Option<HazardKind> {
        Self::ALL.into_iter().find(|k| k.name() == text)
    }
}

impl fmt::Display for HazardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub kind: HazardKind,
    pub message: String,
}

/// A batched data copy: `UPDATE table SET column = expression` in keyset-paginated batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backfill {
    pub table: crate::model::QualifiedName,
    pub column: String,
    /// SQL expression over the row's other columns.
    pub expression: String,
    /// Primary-key columns used for keyset pagination, and their types.
    pub key: Vec<String>,
    pub key_types: Vec<String>,
    /// A condition that a row lacking its value must meet to still need filling, e.g.
    /// `email IS NOT NULL` for a copy from `email` (a NULL source leaves nothing to copy).
    /// `None`: every row whose column is NULL waits for its value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_only_where: Option<String>,
    /// Set for rows copied into another table (`-- zdm:backfill-from`): `table` and `key`
    /// are the source's, `column` names the target table (for the ledger's cursor key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<crate::sql::ddl::moved_rows::RowCopy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub phase: Phase,
    /// One line for humans, e.g. `add column display_name to public.users`.
    pub description: String,
    /// The statement to run (for a backfill: one batch, for reading).
    pub sql: String,
    /// What the statement does, for the readers that need more than its text. Plans saved
    /// before steps carried it load as [`Op::Statement`] (see `cli::saved_plan::read`).
    #[serde(default)]
    pub op: Op,
    /// The strongest lock the step takes, and on what.
    pub lock: LockMode,
    pub lock_target: Option<String>,
    pub table_work: TableWork,
    /// False for `CONCURRENTLY` steps and other statements PostgreSQL refuses in a transaction.
    pub transactional: bool,
    pub hazards: Vec<Hazard>,
    pub backfill: Option<Backfill>,
    /// Objects this step brings into existence, needs, and removes: the edges of the graph.
    /// Saved with the plan: the gates of a saved plan (what contract drops, who still reads
    /// it) are decided from them exactly as for a fresh plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub creates: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uses: Vec<Resource>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drops: Vec<Resource>,
    /// Resources whose removal must happen before this step (e.g. a primary key before its
    /// column may become nullable).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_drop_of: Vec<Resource>,
    /// Columns this step drops or swaps for another under the same name (a type change): a
    /// view reading one must be dropped before and re-created after, in the same transaction.
    #[serde(skip)]
    pub repoints: Vec<Resource>,
}

impl Step {
    pub fn new(phase: Phase, description: impl Into<String>, sql: impl Into<String>) -> Self {
        Step {
            phase,
            description: description.into(),
            sql: sql.into(),
            op: Op::Statement,
            lock: LockMode::None,
            lock_target: None,
            table_work: TableWork::None,
            transactional: true,
            hazards: Vec::new(),
            backfill: None,
            creates: Vec::new(),
            uses: Vec::new(),
            drops: Vec::new(),
            after_drop_of: Vec::new(),
            repoints: Vec::new(),
        }
    }

    pub fn op(mut self, op: Op) -> Self {
        self.op = op;
        self
    }

    pub fn lock(mut self, mode: LockMode, target: impl fmt::Display) -> Self {
        self.lock = mode;
        self.lock_target = Some(target.to_string());
        self
    }

    pub fn work(mut self, work: TableWork) -> Self {
        self.table_work = work;
        self
    }

    pub fn outside_transaction(mut self) -> Self {
        self.transactional = false;
        self
    }

    pub fn hazard(mut self, kind: HazardKind, message: impl Into<String>) -> Self {
        self.hazards.push(Hazard {
            kind,
            message: message.into(),
        });
        self
    }

    pub fn creates(mut self, resources: impl IntoIterator<Item = Resource>) -> Self {
        self.creates.extend(resources);
        self
    }

    pub fn uses(mut self, resources: impl IntoIterator<Item = Resource>) -> Self {
        self.uses.extend(resources);
        self
    }

    pub fn after_drop_of(mut self, resources: impl IntoIterator<Item = Resource>) -> Self {
        self.after_drop_of.extend(resources);
        self
    }

    pub fn repoints(mut self, resources: impl IntoIterator<Item = Resource>) -> Self {
        self.repoints.extend(resources);
        self
    }

    pub fn drops(mut self, resources: impl IntoIterator<Item = Resource>) -> Self {
        self.drops.extend(resources);
        self
    }
}
