//! Aggregates. New ones are created in expand after the functions they name (their
//! `pg_depend` edges on the desired side), dropped ones in contract before those functions;
//! changed parameters are replaced in place (`CREATE OR REPLACE AGGREGATE`); new arguments
//! are another aggregate; a new kind or result type is re-created with its dependents (see
//! `cascade`).

use crate::model::Aggregate;
use crate::plan::{Context, Phase, Step};
use crate::sql::ddl;

use super::keyed::{describe, needs};

pub fn replace(ctx: &Context, to: &Aggregate) -> Step {
    Step::new(
        Phase::Expand,
        format!("replace {}", describe(&to.id)),
        ddl::aggregates::replace(to),
    )
    .uses(needs(ctx.to, &to.id))
    .uses(needs(ctx.from, &to.id))
}
