//! Functions and procedures. A changed body keeping its signature and result is replaced in
//! place; a changed signature is another routine (created in expand, the old one dropped in
//! contract: the old application may still call it); a renamed parameter, a removed default
//! or a changed result is re-created with its dependents (see `cascade`).

use crate::model::Routine;
use crate::plan::{Context, Phase, Step};
use crate::sql::ddl;

use super::keyed::{describe, needs, NO_BODY_CHECKS};

pub fn replace(ctx: &Context, to: &Routine) -> Step {
    Step::new(
        Phase::Expand,
        format!("replace {}", describe(&to.id)),
        format!("{NO_BODY_CHECKS}\n{}", ddl::routines::create(to)),
    )
    .uses(needs(ctx.to, &to.id))
    .uses(needs(ctx.from, &to.id))
}
