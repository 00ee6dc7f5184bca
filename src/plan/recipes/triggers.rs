//! Triggers: re-defined with `CREATE OR REPLACE TRIGGER` on PostgreSQL 14+ (not for
//! constraint triggers, which it does not cover), otherwise dropped and created in one short
//! transaction, so no write slips through without the trigger; only enabled or disabled
//! when that is all that changed.

use crate::model::Trigger;
use crate::plan::{Context, LockMode, Phase, Step};
use crate::sql::ddl;

use super::keyed::{describe, needs};

/// First server version with `CREATE OR REPLACE TRIGGER`.
const OR_REPLACE_SINCE: i32 = 140000;

pub fn replace(ctx: &Context, from: &Trigger, to: &Trigger) -> Step {
    let step = |sql: String, lock: LockMode| {
        Step::new(Phase::Expand, format!("redefine {}", describe(&to.id)), sql)
            .lock(lock, &to.table)
            .uses(needs(ctx.to, &to.id))
            .uses(needs(ctx.from, &to.id))
    };
    if from.definition == to.definition {
        return step(ddl::triggers::set_enabled(to), LockMode::ShareRowExclusive);
    }
    let mut sql = Vec::new();
    let or_replace =
        ctx.from.server_version >= OR_REPLACE_SINCE && !from.constraint && !to.constraint;
    let replace = ddl::triggers::replace(to).filter(|_| or_replace);
    let lock = match replace {
        Some(replace) => {
            sql.push(replace);
            if to.enabled == "O" && from.enabled != "O" {
                sql.push(ddl::triggers::set_enabled(to));
            }
            LockMode::ShareRowExclusive
        }
        None => {
            sql.push(ddl::triggers::drop(from));
            sql.push(ddl::triggers::create(to));
            LockMode::AccessExclusive
        }
    };
    sql.extend(ddl::triggers::comments(to));
    step(sql.join("\n"), lock)
}
