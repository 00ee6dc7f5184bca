//! Rehearsal: a plan runs on a copy of the live schema in the shadow database before anyone
//! sees it, so a step PostgreSQL refuses, or a plan that does not reach the desired schema, is
//! an error at plan time rather than a surprise in production.
//!
//! The copy is built the way pg-schema-diff validates its plans: zdm plans the live model from
//! an empty database and applies that to a fresh shadow database. Each phase of the real plan
//! then runs there, and the schema fingerprint before each phase is recorded in the plan: those
//! are the states a database may be in when a saved plan resumes days later.

use thiserror::Error;

use crate::apply::{run_steps, ApplyError, ApplyOptions};
use crate::catalog::{introspect, CatalogError};
use crate::diff::diff;
use crate::model::Model;
use crate::plan::{fingerprint, plan, Checkpoint, Phase, Plan, PlanError, PlanOptions, Step};
use crate::shadow::{ShadowDatabase, ShadowError, ShadowSource};

#[derive(Debug, Error)]
pub enum RehearsalError {
    #[error("rehearsal: {0}")]
    Shadow(#[from] ShadowError),
    #[error("rehearsal: reading the shadow copy back: {0}")]
    Catalog(#[from] CatalogError),
    #[error("rehearsal: {0}")]
    Workspace(#[from] Box<crate::workspace::WorkspaceError>),
    #[error("rehearsal: cannot plan a copy of the live schema: {0}")]
    Copy(#[source] PlanError),
    #[error("rehearsal: building the copy of the live schema failed: {0}")]
    CopyFailed(#[source] ApplyError),
    #[error(
        "the plan fails in rehearsal (on a copy of the live schema, nothing was changed): \
         phase {phase}, {source}"
    )]
    StepFailed {
        phase: Phase,
        #[source]
        source: ApplyError,
    },
    #[error(
        "the plan does not reach the desired schema in rehearsal (on a copy of the live schema); still different after every phase:\n{}",
        remaining.iter().map(|r| format!("  {r}")).collect::<Vec<_>>().join("\n")
    )]
    DoesNotConverge { remaining: Vec<String> },
}

/// What a successful rehearsal learned.
#[derive(Debug, Clone, PartialEq)]
pub struct Rehearsal {
    /// The schema fingerprint before each phase, and after the last (`Checkpoint::done`).
    pub checkpoints: Vec<Checkpoint>,
    /// Things worth telling the user (e.g. the copy is not exact).
    pub notes: Vec<String>,
}

/// Rehearse `plan` (made from `live` toward `desired`) in a fresh database on `shadow`.
pub async fn rehearse(
    shadow: &ShadowSource,
    live: &Model,
    desired: &Model,
    plan: &Plan,
) -> Result<Rehearsal, RehearsalError> {
    let database = ShadowDatabase::create(shadow.clone()).await?;
    let result = rehearse_in(&database, live, desired, plan).await;
    let _ = database.close().await;
    result
}

async fn rehearse_in(
    database: &ShadowDatabase,
    live: &Model,
    desired: &Model,
    plan_to_rehearse: &Plan,
) -> Result<Rehearsal, RehearsalError> {
    let client = database.client();
    let quiet = ApplyOptions::default();
    // From the fresh database as it is (it has schema public), not from nothing.
    let empty = introspect(client).await?;
    let copy = plan(&empty, live, &PlanOptions::default()).map_err(RehearsalError::Copy)?;
    run_steps(client, &copy.steps, 1, &quiet, None, &mut |_| {})
        .await
        .map_err(RehearsalError::CopyFailed)?;

    let mut notes = Vec::new();
    let mut model = introspect(client).await?;
    let copy_differs = copy_differences(live, &model);
    if !copy_differs.is_empty() {
        notes.push(format!(
            "rehearsal: the shadow copy of the live schema differs from it ({}); \
             a saved plan may not recognise the database after its first phase",
            copy_differs.join("; ")
        ));
    }
    // The first checkpoint is the live schema itself, not the copy: that is what a saved plan
    // must find before expand.
    let mut checkpoints = vec![Checkpoint {
        before: Some(Phase::Expand),
        fingerprint: fingerprint(live),
    }];
    let mut first_index = 1;
    for phase in Phase::ALL {
        let steps: Vec<Step> = plan_to_rehearse.steps_in(phase).cloned().collect();
        if !steps.is_empty() {
            run_steps(client, &steps, first_index, &quiet, None, &mut |_| {})
                .await
                .map_err(|source| RehearsalError::StepFailed { phase, source })?;
            first_index += steps.len();
            model = introspect(client).await?;
        }
        // A phase without steps leaves the schema where it was (the live one, before expand).
        let fp = if steps.is_empty() {
            checkpoints
                .last()
                .expect("one checkpoint")
                .fingerprint
                .clone()
        } else {
            fingerprint(&model)
        };
        checkpoints.push(Checkpoint {
            before: Phase::ALL.into_iter().find(|p| *p > phase),
            fingerprint: fp,
        });
    }
    crate::workspace::reconcile_equivalent_checks(client, &mut model, desired)
        .await
        .map_err(Box::new)?;
    let remaining: Vec<String> = diff(&model, desired)
        .iter()
        .map(|c| format!("{}: {}", c.object(), c.summary()))
        .collect();
    if !remaining.is_empty() {
        return Err(RehearsalError::DoesNotConverge { remaining });
    }
    Ok(Rehearsal { checkpoints, notes })
}

/// How the rebuilt copy differs from the live model it was built from, one line a change.
fn copy_differences(live: &Model, copy: &Model) -> Vec<String> {
    if fingerprint(live) == fingerprint(copy) {
        return Vec::new();
    }
    let changes = diff(live, copy);
    if changes.is_empty() {
        // Equal as far as the diff is concerned; the fingerprint sees more detail.
        return vec!["details the diff does not compare".to_string()];
    }
    changes
        .iter()
        .take(5)
        .map(|c| format!("{}: {}", c.object(), c.summary()))
        .collect()
}
