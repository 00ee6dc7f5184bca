//! What a step does, as data: read by the executor and by later planning passes instead of
//! the step's SQL text, and saved with the plan so that a saved plan is run exactly as a
//! fresh one.

use serde::{Deserialize, Serialize};

use crate::model::QualifiedName;

/// The kind of work a step does, where something downstream needs to know more than "run
/// this SQL". Most steps are [`Op::Statement`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Statements run as written; no reader needs to know more.
    #[default]
    Statement,
    /// `CREATE [UNIQUE] INDEX CONCURRENTLY index`: a build that died earlier leaves an
    /// INVALID index under this name, which apply drops before building again.
    BuildIndexConcurrently { index: QualifiedName },
    /// `DROP INDEX CONCURRENTLY IF EXISTS index`.
    DropIndexConcurrently { index: QualifiedName },
    /// `DROP TABLE table`.
    DropTable { table: QualifiedName },
    /// Contract of a derived column: its sync trigger and `sync_function` are dropped.
    DropSyncTrigger {
        table: QualifiedName,
        column: String,
        sync_function: QualifiedName,
    },
    /// Contract of an online type change: the shadow column takes the name of `column`,
    /// the old one and `sync_function` are dropped.
    SwapColumns {
        table: QualifiedName,
        column: String,
        sync_function: QualifiedName,
    },
    /// Contract of a column rename: the old column and `sync_function` are dropped.
    FinishRename {
        table: QualifiedName,
        column: String,
        sync_function: QualifiedName,
    },
}

impl Op {
    /// The index a concurrent build creates.
    pub fn concurrent_index_build(&self) -> Option<&QualifiedName> {
        match self {
            Op::BuildIndexConcurrently { index } => Some(index),
            _ => None,
        }
    }

    /// The sync-trigger function the step drops, if any.
    pub fn drops_sync_function(&self) -> Option<&QualifiedName> {
        match self {
            Op::DropSyncTrigger { sync_function, .. }
            | Op::SwapColumns { sync_function, .. }
            | Op::FinishRename { sync_function, .. } => Some(sync_function),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ops_round_trip_through_json() {
        let ops = [
            Op::Statement,
            Op::BuildIndexConcurrently {
                index: QualifiedName::new("My", "Odd Name"),
            },
            Op::SwapColumns {
                table: QualifiedName::new("public", "t"),
                column: "a".into(),
                sync_function: QualifiedName::new("zdm", "zdm_sync_x"),
            },
        ];
        for op in ops {
            let text = serde_json::to_string(&op).unwrap();
            assert_eq!(serde_json::from_str::<Op>(&text).unwrap(), op, "{text}");
        }
        assert_eq!(
            serde_json::to_string(&Op::Statement).unwrap(),
            "\"statement\""
        );
        assert_eq!(
            serde_json::to_string(&Op::DropTable {
                table: QualifiedName::new("public", "t")
            })
            .unwrap(),
            r#"{"drop_table":{"table":"public.t"}}"#
        );
    }
}
